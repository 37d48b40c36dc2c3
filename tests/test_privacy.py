"""A person's rights: ``subscribers show`` (everything held about them) and ``subscribers
forget`` (removed everywhere, never imported back), against real sends: the outbox, an
SMTP server and the SendGrid-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.feedback_kit import env, rows, sync
from tests.sendgrid_server import SendGridServer
from tests.smtp_server import SmtpServer

READER = "amina.okafor@example.org"


def more_issues(project: Path) -> list[str]:
    """The example issue and two more, each with its own subject and date."""
    example = (project / EXAMPLE_ISSUE).read_text(encoding="utf-8")
    names = [EXAMPLE_ISSUE]
    for n, (month, day) in enumerate((("05", "10"), ("04", "12")), start=2):  # events still to come
        text = re.sub(r"(?m)^date: .*$", f"date: 2024-{month}-{day}", example)

        def retitle(m: re.Match[str], n: int = n) -> str:
            return f'{m.group(1)}: "Update number {n}"'

        text = re.sub(r'(?m)^(title|subject): "?(.*?)"?$', retitle, text)
        name = f"issues/2024-{month}-update-{n}.yaml"
        (project / name).write_text(text, encoding="utf-8")
        names.append(name)
    return names


def send(project: Path, issue: str, *args: str, extra: dict[str, str] | None = None) -> None:
    r = run_cli("send", issue, "--yes", *args, cwd=project, env=extra)
    assert r.code == (1 if "smtp" in args else 0), r.output  # SMTP: one refused


def test_show_a_reader_sent_three_issues_then_bounced_and_unsubscribed(project: Path, sendgrid_server: SendGridServer) -> None:
    for issue in more_issues(project):
        send(project, issue)
    sendgrid_server.account.add("bounces", READER, 1_722_470_400, reason="550 5.1.1 mailbox unavailable")
    assert sync(project, sendgrid_server).code == 0
    assert run_cli("subscribers", "unsubscribe", READER, "--reason", "asked by phone", cwd=project).code == 0
    assert run_cli("report", EXAMPLE_ISSUE, cwd=project).code == 0

    r = run_cli("subscribers", "show", "Amina.Okafor@EXAMPLE.org", cwd=project)

    assert r.code == 0, r.output
    out = r.out
    flat = " ".join(out.split())
    assert "subscribers.csv, line 2:" in out and "first_name Amina" in flat and "tags community;cuppas" in flat
    assert "line 2: status unsubscribed" in out
    assert "line 2: status_at 2024-08-01" in out and "line 2: status_reason SendGrid bounce: 550 5.1.1 mailbox unavailable" in out
    assert "line 2: unsubscribe_reason asked by phone" in out
    assert "Sends (3):" in out
    sends = [line for line in out.splitlines() if "  outbox  accepted" in line]
    assert [s.split()[3] for s in sends] == ["2024-06-june-team-update", "2024-05-update-2", "2024-04-update-3"]
    for slug in ("2024-06-june-team-update", "2024-05-update-2", "2024-04-update-3"):
        assert f"outbox/{slug}/0000001-amina.okafor@example.org.eml  (forget: removed)" in out
    files = out.split("Other files that name them")[1].splitlines()[1:]
    kinds = sorted(f.split("/")[0].strip() for f in files)
    assert kinds == [".newsletter", "outbox", "outbox", "outbox"], files  # the list's cached figures; unsent.csv is empty
    as_json = json.loads(run_cli("subscribers", "show", READER, "--format", "json", cwd=project).out)
    assert [s["state"] for s in as_json["sends"]] == ["accepted"] * 3
    assert as_json["rows"][0]["cells"]["status"] == "unsubscribed" and as_json["forgotten"] is False


def grep(project: Path, word: str) -> str:
    found = subprocess.run(["grep", "-r", "-i", "-l", "-a", word, "."], cwd=project, capture_output=True, text=True)
    return found.stdout


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
            "HOME": str(project),
        },
    )


def test_forget_leaves_the_address_nowhere_and_an_import_cannot_bring_it_back(project: Path) -> None:
    issues = more_issues(project)
    with (project / "subscribers.csv").open("a", encoding="utf-8") as fh:
        fh.write("AMINA.OKAFOR@example.org,Amina,Okafor,subscribed,,,again\n")  # a duplicate: in the fix list
    with SmtpServer() as smtp:
        smtp.handler.rcpt_replies[READER] = [
            f"554 5.7.1 <{READER}>: Recipient address rejected: Access denied"
        ]  # named in the refusal; not a bounce
        send(project, issues[0], "--provider", "smtp", extra={"SMTP_URL": smtp.url})
    send(project, issues[1], "--force")  # older than the June issue sent above: on purpose
    dry = run_cli("send", issues[2], "--dry-run", cwd=project)  # writes its files; the send itself would refuse
    assert dry.code == 1 and "[older-than-sent]" in dry.err, dry.output  # (older than June, sent above)
    assert run_cli("report", issues[0], "-o", "reports/unsent.csv", cwd=project).code == 0
    assert run_cli("subscribers", "check", "--report", "fix.csv", cwd=project).code == 0
    other = "ben.hughes@example.org,Ben\r\n"
    (project / "old-export.csv").write_bytes(b"\xef\xbb\xbfemail,name\r\n" + f'"{READER}","Amina\r\nO."\r\n{other}'.encode())
    holding = grep(project, READER).replace("./", "").split()
    for where in (
        ".newsletter/outcomes/",
        ".newsletter/cache/",
        ".newsletter/journal.sqlite3",
        "outbox/2024-05-update-2/",
        "build/dry-run/",
        "reports/unsent.csv",
        "fix.csv",
        "old-export.csv",
        "subscribers.csv",
    ):
        assert any(p.startswith(where) for p in holding), where  # the setup put the address everywhere
    assert git(project, "init", "-q").returncode == 0
    git(project, "add", "newsletter.yaml", "issues")
    assert git(project, "commit", "-q", "-m", "project").returncode == 0

    r = run_cli("subscribers", "forget", READER, cwd=project)

    assert r.code == 0, r.output
    assert "subscribers.csv: removed lines 2, 9" in r.out
    assert "send journal: 2 row(s) made anonymous" in r.out
    assert "reports/unsent.csv: rows naming them removed" in r.out and "fix.csv: rows naming them removed" in r.out
    assert "forgotten.txt: recorded" in r.out
    assert grep(project, READER) == "" and grep(project, "okafor") == ""
    assert git(project, "grep", "-i", "okafor").stdout == ""
    assert (project / "old-export.csv").read_bytes() == b"\xef\xbb\xbfemail,name\r\n" + other.encode()
    assert READER not in rows(project / "subscribers.csv") and "ben.hughes@example.org" in rows(project / "subscribers.csv")
    status = run_cli("status", issues[0], cwd=project)
    assert status.code == 0 and "accepted 4 failed 1" in " ".join(status.out.split())  # the figures stay
    # forgotten.txt is the one trace, and no personal data: it may be committed
    assert re.fullmatch(r"(#[^\n]*\n){2}[0-9a-f]{64}\n", (project / "forgotten.txt").read_text())

    (project / "again.csv").write_text(f"Email Address,First Name\n{READER.upper()},Amina\nnew@example.org,New\n")
    r = run_cli("subscribers", "import", "again.csv", cwd=project)
    assert r.code == 0, r.output
    assert "skipped  again.csv:2: AMINA.OKAFOR@example.org: forgotten on request (subscribers forget): never added back" in r.out
    assert READER not in rows(project / "subscribers.csv")
    r = run_cli("subscribers", "show", READER, cwd=project)
    assert "forgotten on request" in r.out and "not in the list" in r.out


def test_forget_can_ask_sendgrid_to_erase_too(project: Path, sendgrid_server: SendGridServer) -> None:
    r = run_cli("subscribers", "forget", READER, "--sendgrid", cwd=project, env=env(sendgrid_server))
    assert r.code == 0, r.output
    assert "SendGrid: erasure asked (job job-0001)" in r.out
    assert sendgrid_server.account.erased == [READER]
    assert sendgrid_server.log.invalid == []  # the request and the answer as SendGrid's own file says
    r = run_cli(
        "subscribers",
        "forget",
        "ben.hughes@example.org",
        "--sendgrid",
        cwd=project,
        env={**env(sendgrid_server), "SENDGRID_API_KEY": "SG.wrong"},
    )
    assert r.code == 1 and "Traceback" not in r.output
    assert "SendGrid refused the key (401)" in r.err and "run again with --sendgrid" in r.err
    assert "ben.hughes@example.org" not in rows(project / "subscribers.csv")  # forgotten here all the same


def test_bad_addresses_and_a_running_send_change_nothing(project: Path) -> None:
    before = (project / "subscribers.csv").read_bytes()
    r = run_cli("subscribers", "forget", "not-an-address", cwd=project)
    assert r.code == 2 and "'not-an-address'" in r.err and "Traceback" not in r.output
    r = run_cli("subscribers", "show", "x@", cwd=project)
    assert r.code == 2 and "Traceback" not in r.output
    assert (project / "subscribers.csv").read_bytes() == before
    assert not (project / "forgotten.txt").exists()


def test_a_sync_never_brings_a_forgotten_address_back(project: Path, sendgrid_server: SendGridServer) -> None:
    assert run_cli("subscribers", "forget", READER, cwd=project).code == 0
    sendgrid_server.account.add("unsubscribes", READER.upper(), 1_722_470_400)
    sendgrid_server.account.add("bounces", "someone.else@example.net", 1_722_470_400)
    r = sync(project, sendgrid_server)
    assert r.code == 0, r.output
    assert "1 address(es) SendGrid lists were forgotten on request: not added back" in r.out
    after = rows(project / "subscribers.csv")
    assert READER not in after and after["someone.else@example.net"]["status"] == "bounced"
