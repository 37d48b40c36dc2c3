"""Approval of the rendered bytes: ``newsletter approve`` and ``approval:`` in newsletter.yaml,
through the real command line, real git and the SendGrid test server (nothing sent when refused)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.sendgrid_server import KEY, SendGridServer

SLUG = Path(EXAMPLE_ISSUE).stem
APPROVAL = Path("approvals") / f"{SLUG}.json"
FIXED = {"GIT_AUTHOR_DATE": "2024-06-10T09:00:00Z", "GIT_COMMITTER_DATE": "2024-06-10T09:00:00Z"}


def _git(root: Path, *args: str, who: str = "alice@example.org") -> str:
    import os

    env = {**os.environ, **FIXED}
    proc = subprocess.run(
        ["git", "-c", f"user.email={who}", "-c", f"user.name={who.split('@')[0]}", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return proc.stdout


def _repo(project: Path, approval: str | None = None) -> Path:
    if approval is not None:
        with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
            fh.write(f"approval: {approval}\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "the June issue")
    return project


def _send(root: Path, server: SendGridServer, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--provider",
        "sendgrid",
        "--no-sync",
        *extra,
        cwd=root,
        env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url, "NEWSLETTER_SECRET": "org"},
    )


def _approve(root: Path, who: str, **env: str):  # type: ignore[no-untyped-def]
    return run_cli("approve", EXAMPLE_ISSUE, "--by", who, cwd=root, env=env or None)


def _line_of(path: Path, snippet: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if snippet in line)


def test_approve_then_one_word_changed_refuses_the_send_naming_the_line(project: Path, sendgrid_server: SendGridServer) -> None:
    root = _repo(project, "required")
    refused = _send(root, sendgrid_server)
    assert refused.code == 1, refused.output
    assert "not approved yet (approval: required in newsletter.yaml)" in refused.err
    assert "Nothing was sent" in refused.err and sendgrid_server.log.requests == []
    approved = _approve(root, "reviewer@example.org")
    assert approved.code == 0, approved.output
    assert "Approved “June Team Update" in approved.out and "by reviewer@example.org" in approved.out
    assert (
        "approved by reviewer@example.org" in run_cli("check", EXAMPLE_ISSUE, cwd=root).out
        or "[not-approved]" not in run_cli("check", EXAMPLE_ISSUE, cwd=root).out
    )
    issue = root / EXAMPLE_ISSUE
    issue.write_text(issue.read_text(encoding="utf-8").replace("busy month", "quiet month"), encoding="utf-8")
    line = _line_of(issue, "quiet month")
    changed = _send(root, sendgrid_server)
    assert changed.code == 1, changed.output
    assert "no longer the one approved by reviewer@example.org at " in changed.err
    assert f"{EXAMPLE_ISSUE}:{line}: changed: \"It's been a quiet month" in changed.err
    assert "approve it again: newsletter approve" in changed.err
    assert sendgrid_server.log.requests == []
    forced = _send(root, sendgrid_server, "--force")  # --force never overrides an approval
    assert forced.code == 1 and "no longer the one approved" in forced.err
    assert sendgrid_server.log.requests == []
    check = run_cli("check", EXAMPLE_ISSUE, cwd=root)
    assert check.code == 1 and f"{EXAMPLE_ISSUE}:{line}: the email is no longer the one approved" in check.out
    assert "[not-approved]" in check.out
    found = json.loads(run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=root).out)["findings"]
    assert [(f["severity"], f["line"]) for f in found if f["rule"] == "not-approved"] == [("error", line)]
    status = run_cli("status", EXAMPLE_ISSUE, cwd=root)
    assert "approval (required): no longer the one approved by reviewer@example.org" in status.out
    assert f"{EXAMPLE_ISSUE}:{line}: changed" in status.out
    again = _approve(root, "reviewer@example.org")
    assert again.code == 0 and "replaces the approval of an earlier render" in again.out
    sent = _send(root, sendgrid_server)
    assert sent.code == 0, sent.output
    assert len(sendgrid_server.log.accepted) == 5
    record = json.loads((root / "sends" / f"{SLUG}.json").read_text())
    assert record["email_sha256"] == json.loads((root / APPROVAL).read_text())["email_sha256"]


def test_a_changed_template_and_setting_are_named(project: Path) -> None:
    root = _repo(project, "required")
    assert _approve(root, "reviewer@example.org").code == 0
    (root / "templates" / "blocks").mkdir(parents=True)
    builtin = Path(__file__).resolve().parent.parent / "newsletter" / "templates" / "blocks" / "quote.mjml.j2"
    (root / "templates" / "blocks" / "quote.mjml.j2").write_text(
        builtin.read_text(encoding="utf-8").replace("<mj-text", '<mj-text css-class="mine"', 1), encoding="utf-8"
    )
    settings = root / "newsletter.yaml"
    import re

    settings.write_text(
        re.sub(r"(?m)^font_stack: .*$", "font_stack: Georgia, serif", settings.read_text(encoding="utf-8")), encoding="utf-8"
    )
    status = run_cli("status", EXAMPLE_ISSUE, cwd=root)
    assert "templates/blocks/quote.mjml.j2: template blocks/quote.mjml.j2: now overridden by the project" in status.out
    font_line = _line_of(settings, "font_stack:")
    assert f"newsletter.yaml:{font_line}: setting 'font_stack' changed since the approval" in status.out
    assert EXAMPLE_ISSUE + ":" not in status.out  # the issue itself did not change


def test_self_approval_is_refused_under_another_person(project: Path, sendgrid_server: SendGridServer) -> None:
    root = _repo(project, "another-person")  # every commit of the issue is alice's
    assert _approve(root, "alice@example.org").code == 0
    refused = _send(root, sendgrid_server)
    assert refused.code == 1, refused.output
    assert "does not count under approval: another-person" in refused.err
    assert "someone other than the issue's only author (alice@example.org)" in refused.err
    check = run_cli("check", EXAMPLE_ISSUE, cwd=root)
    assert check.code == 1 and "[self-approved]" in check.out
    rules = {
        f["rule"]: f["severity"]
        for f in json.loads(run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=root).out)["findings"]
    }
    assert rules.get("self-approved") == "error" and "not-approved" not in rules and "approval-off" not in rules
    # an uncommitted change has no known author: not even another person's approval counts for it
    settings_only = root / EXAMPLE_ISSUE
    settings_only.write_text(settings_only.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _approve(root, "bob@example.org").code == 0
    pending = _send(root, sendgrid_server)
    assert pending.code == 1 and "changes that are not committed" in pending.err
    _git(root, "commit", "-qam", "a blank line")
    assert sendgrid_server.log.requests == []
    sent = _send(root, sendgrid_server)
    assert sent.code == 0, sent.output
    assert len(sendgrid_server.log.accepted) == 5


def test_the_approval_file_is_byte_identical_for_the_same_input(project: Path, tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "another-clone"
    shutil.copytree(project, other)
    epoch = {"SOURCE_DATE_EPOCH": "1718010000"}
    files = []
    for root in (_repo(project, "required"), _repo(other, "required")):
        result = _approve(root, "reviewer@example.org", **epoch)
        assert result.code == 0, result.output
        files.append((root / APPROVAL).read_bytes())
    assert files[0] == files[1]
    data = json.loads(files[0])
    assert data["approvals"] == [
        {
            "at": "2024-06-10T09:00:00Z",
            "by": "reviewer@example.org",
            "commit": _git(project, "rev-parse", "HEAD").strip(),
            "how": "newsletter approve",
        }
    ]
    assert files[0].decode() == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    again = _approve(project, "reviewer@example.org")  # the same person again: nothing written
    assert again.code == 0 and "already approved by reviewer@example.org" in again.out
    assert (project / APPROVAL).read_bytes() == files[0]
    # no reader's data: the approval names approvers and hashes only
    listed = (project / "subscribers.csv").read_text(encoding="utf-8")
    emails = [line.split(",")[0] for line in listed.splitlines()[1:] if "@" in line]
    assert emails and not any(e in files[0].decode() for e in emails)


def test_the_default_needs_no_approval_and_check_warns(project: Path, sendgrid_server: SendGridServer) -> None:
    check = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert check.code == 0 and "[approval-off]" in check.out
    found = json.loads(run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=project).out)["findings"]
    assert [f["severity"] for f in found if f["rule"] == "approval-off"] == ["warning"]
    assert _send(project, sendgrid_server).code == 0
    required = _send(project, sendgrid_server, "--require-approval")  # as CI sends
    assert required.code == 1 and "not approved yet (--require-approval)" in required.err


def test_approve_needs_someone_and_a_clean_check(project: Path) -> None:
    no_one = run_cli(
        "approve",
        EXAMPLE_ISSUE,
        cwd=project,
        env={"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(project)},
    )
    assert no_one.code == 2 and "who approves?" in no_one.err and not (project / "approvals").exists()
    issue = project / EXAMPLE_ISSUE
    issue.write_text(
        issue.read_text(encoding="utf-8") + "  - type: button\n    label: Sign up\n    url: https://TK\n", encoding="utf-8"
    )
    broken = _approve(project, "reviewer@example.org")
    assert broken.code == 1 and "not approved: 1 check error(s)" in broken.err
    assert not (project / "approvals").exists()


@pytest.mark.parametrize("content", [b"{not json", b'{"format": 1, "slug": "x"}', b'{"format": 9}', b"\xff"])
def test_a_broken_approval_file_is_bad_input_naming_it(project: Path, sendgrid_server: SendGridServer, content: bytes) -> None:
    root = _repo(project, "required")
    (root / "approvals").mkdir()
    (root / APPROVAL).write_bytes(content)
    result = _send(root, sendgrid_server)
    assert result.code == 2, result.output
    assert f"{APPROVAL}: not an approval" in result.err and "Traceback" not in result.output
    assert sendgrid_server.log.requests == []
