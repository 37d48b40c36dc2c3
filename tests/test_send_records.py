"""The send record in git: written by every real send, free of personal data, read by every
clone (the already-sent guard, an older issue, one secret, ``check``, ``status``, ``report``)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from newsletter.delivery import records
from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.sendgrid_server import KEY, SendGridServer

SLUG = Path(EXAMPLE_ISSUE).stem
RECORD = Path("sends") / f"{SLUG}.json"


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.email=editor@example.org", "-c", "user.name=Editor", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout


def _repo(project: Path) -> Path:
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "the project")
    return project


def _env(server: SendGridServer, secret: str = "the organisation's secret") -> dict[str, str]:
    return {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url, "NEWSLETTER_SECRET": secret}


def _send(
    root: Path, server: SendGridServer, *extra: str, issue: str = EXAMPLE_ISSUE, secret: str = "the organisation's secret"
) -> CliResult:
    return run_cli("send", issue, "--yes", "--provider", "sendgrid", "--no-sync", *extra, cwd=root, env=_env(server, secret))


def _clone(source: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True, timeout=60, capture_output=True)
    return target


def _readers(project: Path) -> list[dict[str, str]]:
    with (project / "subscribers.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_real_send_writes_a_record_with_no_personal_data(project: Path, sendgrid_server: SendGridServer) -> None:
    root = _repo(project)
    head = _git(root, "rev-parse", "HEAD").strip()
    result = _send(root, sendgrid_server)
    assert result.code == 0, result.output
    assert f"Send record: {RECORD}" in result.out and f"git add {RECORD}" in result.out
    data = json.loads((root / RECORD).read_text(encoding="utf-8"))
    assert data["slug"] == SLUG and data["state"] == "finished" and data["provider"] == "sendgrid"
    assert data["issue"]["file"] == EXAMPLE_ISSUE
    assert data["issue"]["sha256"] == hashlib.sha256((root / EXAMPLE_ISSUE).read_bytes()).hexdigest()
    assert data["issue"]["date"] == "2024-06-14"
    assert data["list"] == {
        "file": "subscribers.csv",
        "rows": 7,
        "sha256": hashlib.sha256((root / "subscribers.csv").read_bytes()).hexdigest(),
    }
    assert data["counts"] == {"accepted": 5, "eligible": 5}
    assert data["commit"] == head
    secret = hashlib.sha256("the organisation's secret".encode()).digest()
    assert data["secret_id"] == records.secret_id(secret)
    assert data["category"].startswith("newsletter-send-")
    # every request carried the send's own category, after the issue's slug
    assert all(
        body["categories"][:1] == [SLUG] and data["category"] in body["categories"] for body in sendgrid_server.log.requests
    )
    # the bytes are the canonical form: sorted keys, two spaces, a final newline
    text = (root / RECORD).read_text(encoding="utf-8")
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # nothing about a reader: addresses, names, tokens
    _git(root, "add", "sends")
    _git(root, "commit", "-qm", "Send record")
    for reader in _readers(root):
        for value in (reader["email"], reader["email"].split("@")[0], reader.get("first_name", "")):
            if value and len(value) > 3:
                found = subprocess.run(
                    ["git", "grep", "-i", "-F", value, "--", "sends"], cwd=root, capture_output=True, timeout=60
                )
                assert found.returncode == 1, f"{value!r} is in the committed record"


def test_the_record_round_trips_byte_for_byte(tmp_path: Path) -> None:
    record = records.Record(
        slug="2024-06-x",
        issue_file="issues/2024-06-x.yaml",
        issue_sha256="a" * 64,
        subject="Ünïcode “subject”",
        date="2024-06-14",
        email_sha256="b" * 64,
        provider="sendgrid",
        category="newsletter-send-000000000000",
        list_file="subscribers.csv",
        list_sha256="c" * 64,
        list_rows=7,
        secret_id="d" * 16,
        started=1718352000.0,
        updated=1718352060.0,
        finished=1718352060.0,
        state="finished",
        counts={"eligible": 5, "accepted": 5},
    )
    path = records.write(tmp_path, record)
    first = path.read_bytes()
    again = records.load(path)
    assert again.to_bytes() == first
    records.write(tmp_path, again)
    assert path.read_bytes() == first


def test_check_warns_until_the_record_is_committed(project: Path, sendgrid_server: SendGridServer) -> None:
    root = _repo(project)
    assert _send(root, sendgrid_server).code == 0
    check = run_cli("check", EXAMPLE_ISSUE, cwd=root)
    assert "[record-not-committed]" in check.out and f"git add {RECORD}" in check.out
    status = run_cli("status", EXAMPLE_ISSUE, cwd=root)
    assert "not committed yet" in status.out
    _git(root, "add", "sends")
    _git(root, "commit", "-qm", "Send record")
    check = run_cli("check", EXAMPLE_ISSUE, cwd=root)
    assert "[record-not-committed]" not in check.out


def test_a_fresh_clone_refuses_an_issue_already_sent(project: Path, sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    root = _repo(project)
    assert _send(root, sendgrid_server).code == 0
    _git(root, "add", "sends")
    _git(root, "commit", "-qm", "Send record")
    other = _clone(root, tmp_path / "colleague")
    assert not (other / ".newsletter").exists()
    before = len(sendgrid_server.log.accepted)
    again = _send(other, sendgrid_server)
    assert again.code == 1, again.output
    assert "already sent" in again.err and "--force" in again.err and "[already-sent]" in again.err
    assert len(sendgrid_server.log.accepted) == before  # nothing sent
    check = run_cli("check", EXAMPLE_ISSUE, cwd=other)
    assert check.code == 1 and "[already-sent]" in check.out
    status = run_cli("status", EXAMPLE_ISSUE, cwd=other)
    assert "finished with sendgrid" in status.out and "sent from another clone" in status.out
    report = run_cli("report", EXAMPLE_ISSUE, cwd=other)
    assert report.code == 1 and "sent from another clone" in report.err
    forced = _send(other, sendgrid_server, "--force")
    assert forced.code == 0, forced.output
    assert "Sending despite 1 check error(s) (--force): already-sent" in forced.err
    assert len(sendgrid_server.log.accepted) == before + 5
    assert json.loads((other / RECORD).read_text())["forced"] is True


def test_an_issue_older_than_one_already_sent_is_refused(project: Path, sendgrid_server: SendGridServer) -> None:
    root = _repo(project)
    assert _send(root, sendgrid_server).code == 0
    older = "issues/2024-05-may-team-update.yaml"
    text = (root / EXAMPLE_ISSUE).read_text(encoding="utf-8")
    text = text.replace("date: 2024-06-14", "date: 2024-05-10").replace('subject: "June', 'subject: "May')
    (root / older).write_text(text, encoding="utf-8")
    refused = _send(root, sendgrid_server, issue=older)
    assert refused.code == 1, refused.output
    assert "[older-than-sent]" in refused.err and "2024-06-june-team-update (2024-06-14)" in refused.err
    assert len(sendgrid_server.log.accepted) == 5
    check = run_cli("check", older, cwd=root)
    assert "[older-than-sent]" in check.out
    forced = _send(root, sendgrid_server, "--force", issue=older)
    assert forced.code == 0, forced.output
    assert "(--force): older-than-sent" in forced.err


def test_a_different_secret_is_refused(project: Path, sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    root = _repo(project)
    assert _send(root, sendgrid_server).code == 0
    newer = "issues/2024-07-july-team-update.yaml"
    text = (root / EXAMPLE_ISSUE).read_text(encoding="utf-8")
    (root / newer).write_text(
        text.replace("date: 2024-06-14", "date: 2024-06-21").replace('subject: "June', 'subject: "July'), encoding="utf-8"
    )
    refused = _send(root, sendgrid_server, issue=newer, secret="a laptop's own secret")
    assert refused.code == 2, refused.output
    assert "another unsubscribe secret" in refused.err and "NEWSLETTER_SECRET" in refused.err
    assert "a laptop's own secret" not in refused.output  # never printed
    forced = _send(root, sendgrid_server, "--force", issue=newer, secret="a laptop's own secret")
    assert forced.code == 2, "--force never overrides a different secret"
    assert len(sendgrid_server.log.accepted) == 5
    same = _send(root, sendgrid_server, issue=newer)
    assert same.code == 0, same.output


@pytest.mark.parametrize("content", [b"{not json", b'{"format": 1, "slug": "x"}', b"\xff\xfe", b'{"format": 7}'])
def test_a_broken_record_is_bad_input_naming_the_file(project: Path, sendgrid_server: SendGridServer, content: bytes) -> None:
    (project / "sends").mkdir()
    (project / RECORD).write_bytes(content)
    result = _send(project, sendgrid_server)
    assert result.code == 2, result.output
    assert f"{RECORD}: not a send record" in result.err
    assert "Traceback" not in result.output
    assert sendgrid_server.log.accepted == []


def test_outbox_sends_write_no_record(project: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert result.code == 0, result.output
    assert not (project / "sends").exists()
    shutil.rmtree(project / "outbox")


def test_a_secret_moved_from_the_state_folder_keeps_every_token(
    project: Path, sendgrid_server: SendGridServer, tmp_path: Path
) -> None:
    from newsletter.delivery.state import unsubscribe_token

    root = _repo(project)
    env = {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url}
    first = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=root, env=env)
    assert first.code == 0, first.output
    held = (root / ".newsletter" / "secret").read_text(encoding="ascii").strip()
    first_id = json.loads((root / RECORD).read_text())["secret_id"]
    _git(root, "add", "sends")
    _git(root, "commit", "-qm", "Send record")
    other = _clone(root, tmp_path / "ci")
    newer = "issues/2024-06-21-extra.yaml"
    text = (other / EXAMPLE_ISSUE).read_text(encoding="utf-8")
    (other / newer).write_text(
        text.replace("date: 2024-06-14", "date: 2024-06-21").replace('subject: "June', 'subject: "Late June'), encoding="utf-8"
    )
    wrong = run_cli(
        "send", newer, "--yes", "--provider", "sendgrid", "--no-sync", cwd=other, env={**env, "NEWSLETTER_SECRET": held}
    )  # the digits without hex: are hashed: refused
    assert wrong.code == 2 and "another unsubscribe secret" in wrong.err
    moved = run_cli(
        "send", newer, "--yes", "--provider", "sendgrid", "--no-sync", cwd=other, env={**env, "NEWSLETTER_SECRET": f"hex:{held}"}
    )
    assert moved.code == 0, moved.output
    assert json.loads((other / "sends" / "2024-06-21-extra.json").read_text())["secret_id"] == first_id
    tokens = {
        body["personalizations"][0]["headers"]["List-Unsubscribe"]
        for body in sendgrid_server.log.requests
        if body["personalizations"][0]["to"][0]["email"] == "amina.okafor@example.org"
    }
    assert len(tokens) == 1  # the same link in both issues
    token = unsubscribe_token(bytes.fromhex(held), "amina.okafor@example.org")
    assert token in next(iter(tokens))
    bad = run_cli("send", newer, "--dry-run", cwd=other, env={"NEWSLETTER_SECRET": "hex:abc"})
    assert bad.code == 2 and "64 hex digits" in bad.err and "Traceback" not in bad.output
