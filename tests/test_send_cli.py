"""``newsletter send``, ``status`` and ``report`` as a user runs them (subprocess, real servers)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.sendgrid_server import KEY, Fault, SendGridServer

CANARY = "SG.canaryAAAA.canaryBBBB"
SUPPRESSED = {"dev.patel@example.org", "george.osei@example.org"}  # unsubscribed, bounced
ELIGIBLE = {
    "amina.okafor@example.org",
    "ben.hughes@example.org",
    "chloe.martin@example.org",
    "eilidh.campbell@example.org",
    "farah.haddad@example.org",
}

BLOCK_SOCKETS = """
import socket
def _refuse(*args, **kwargs):
    raise OSError("network blocked by the test")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def send(project: Path, server: SendGridServer, *args: str, key: str = KEY, **env: str) -> CliResult:
    return run_cli(
        "send", EXAMPLE_ISSUE, *args, cwd=project, env={"SENDGRID_API_KEY": key, "SENDGRID_API_HOST": server.url, **env}
    )


def sent_to(server: SendGridServer) -> list[str]:
    return list(server.log.accepted)


def test_real_send_then_status_and_a_resume_that_sends_nothing(project: Path, sendgrid_server: SendGridServer) -> None:
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 0, result.output
    assert "Finished" in result.out and "accepted 5" in result.out
    assert sorted(sent_to(sendgrid_server)) == sorted(ELIGIBLE)
    assert not SUPPRESSED & set(sent_to(sendgrid_server))
    status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
    assert status.code == 0 and "finished" in status.out and "accepted 5" in " ".join(status.out.split())
    again = send(project, sendgrid_server, "--yes")
    assert again.code == 0 and "already sent" in again.out
    assert len(sent_to(sendgrid_server)) == 5


def test_without_yes_and_no_terminal_nothing_is_sent(project: Path, sendgrid_server: SendGridServer) -> None:
    result = send(project, sendgrid_server)
    assert result.code == 2 and "--yes" in result.err and "5 recipient(s)" in result.err
    assert "Traceback" not in result.output
    assert sendgrid_server.log.times == []


def test_dry_run_makes_no_network_connection(project: Path, sendgrid_server: SendGridServer, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_SOCKETS)
    import tests.conftest as conftest

    env = {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url, "PYTHONPATH": f"{blocker}:{conftest.REPO}"}
    result = run_cli("send", EXAMPLE_ISSUE, "--dry-run", "--provider", "sendgrid", cwd=project, env=env)
    assert result.code == 0, result.output
    assert sendgrid_server.log.times == []
    assert "eligible    5" in result.out and "suppressed  2" in result.out and "1 request(s)" in result.out
    folder = project / "build" / "dry-run" / "2024-06-june-team-update"
    payload = json.loads((folder / "request-1.json").read_text())
    assert [p["to"][0]["email"] for p in payload["personalizations"]] == sorted(ELIGIBLE)
    assert KEY not in (folder / "request-1.json").read_text()
    assert sorted(p.name for p in folder.glob("*.eml")) == ["sample-1.eml", "sample-2.eml", "sample-3.eml"]
    assert not (project / ".newsletter" / "journal.sqlite3").exists()
    # the blocker really blocks: a real send under it cannot reach the server
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  retries: 0\n")
    blocked = run_cli(
        "send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env={**env, "NEWSLETTER_SECRET": "x"}
    )
    assert blocked.code == 1 and "network blocked by the test" in blocked.output


def test_validate_uses_sandbox_mode_and_records_nothing(project: Path, sendgrid_server: SendGridServer) -> None:
    result = send(project, sendgrid_server, "--validate")
    assert result.code == 0, result.output
    assert sendgrid_server.log.sandboxed == 1 and sendgrid_server.log.answers == [200]
    assert sendgrid_server.log.accepted == []
    status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
    assert "not sent yet" in status.out


def test_test_send_goes_only_to_the_test_addresses(project: Path, sendgrid_server: SendGridServer) -> None:
    result = send(
        project,
        sendgrid_server,
        "--test-to",
        "editor@example.com",
        "--test-to",
        "boss@example.com",
        "--as",
        "chloe.martin@example.org",
    )
    assert result.code == 0, result.output
    assert sorted(sent_to(sendgrid_server)) == ["boss@example.com", "editor@example.com"]
    body = sendgrid_server.log.requests[0]
    assert body["subject"].startswith("[TEST] ")
    assert body["personalizations"][0]["substitutions"]["__nl_greeting_html__"] == "Dear Chloé,"
    assert "not sent yet" in run_cli("status", EXAMPLE_ISSUE, cwd=project).out


@pytest.mark.parametrize("address", ["not-an-address", "a@b"])
def test_bad_test_address_is_a_usage_error(project: Path, sendgrid_server: SendGridServer, address: str) -> None:
    result = send(project, sendgrid_server, "--test-to", address)
    assert result.code == 2 and address in result.err and "Traceback" not in result.output
    assert sendgrid_server.log.times == []


def test_a_refusal_stops_then_report_and_resume(project: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.fail_next(Fault("400", message="The from address does not match a verified Sender Identity."))
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 1 and "verified Sender Identity" in result.err and "resume" in result.err
    report = run_cli("report", EXAMPLE_ISSUE, cwd=project)
    assert report.code == 0
    with (project / "unsent.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["address", "state", "reason"]
    assert {r[0] for r in rows[1:]} == ELIGIBLE and {r[1] for r in rows[1:]} == {"pending"}
    assert all("verified Sender Identity" in r[2] for r in rows[1:])
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 0 and sorted(sent_to(sendgrid_server)) == sorted(ELIGIBLE)


def test_error_threshold_pauses_with_exit_1(project: Path, sendgrid_server: SendGridServer) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  batch_size: 1\n  retries: 0\n  max_failed_requests: 2\n")
    sendgrid_server.fail_next("500", "500")
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 1 and "paused" in result.err and "2 requests failed" in result.err
    assert sendgrid_server.log.accepted == []
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 0 and sorted(sent_to(sendgrid_server)) == sorted(ELIGIBLE)


def test_report_cells_cannot_become_formulas(project: Path, sendgrid_server: SendGridServer) -> None:
    with (project / "subscribers.csv").open("a", newline="") as fh:
        csv.writer(fh).writerow(["=cmd@example.org", "Eve", "X", "subscribed", "community", "2024-01-01", "web"])
    sendgrid_server.fail_next("400")
    send(project, sendgrid_server, "--yes")
    run_cli("report", EXAMPLE_ISSUE, "-o", "out.csv", cwd=project)
    text = (project / "out.csv").read_text()
    assert "'=cmd@example.org" in text and "\n=cmd" not in text


def test_changed_issue_mid_send_needs_force(project: Path, sendgrid_server: SendGridServer) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  batch_size: 2\n")
    sendgrid_server.fail_next("ok", "401")
    first = send(project, sendgrid_server, "--yes")
    assert first.code == 1 and len(sent_to(sendgrid_server)) == 2
    issue = project / EXAMPLE_ISSUE
    issue.write_text(issue.read_text().replace("June Team Update:", "June Team Update (fixed):", 1))
    refused = send(project, sendgrid_server, "--yes")
    assert refused.code == 2 and "--force" in refused.err and "2 already" in refused.err
    forced = send(project, sendgrid_server, "--yes", "--force")
    assert forced.code == 0, forced.output
    assert sorted(sent_to(sendgrid_server)) == sorted(ELIGIBLE)


@pytest.mark.parametrize(
    ("when", "words"), [("2001-01-01T09:00", "in the past"), ("2999-01-01T09:00", "72 hours"), ("soon", "not a date")]
)
def test_bad_send_at_is_refused(project: Path, sendgrid_server: SendGridServer, when: str, words: str) -> None:
    result = send(project, sendgrid_server, "--yes", "--send-at", when)
    assert result.code == 2 and words in result.err
    assert sendgrid_server.log.times == []


def test_send_at_schedules_with_sendgrid(project: Path, sendgrid_server: SendGridServer) -> None:
    import time

    when = str(int(time.time()) + 3600)
    result = send(project, sendgrid_server, "--yes", "--send-at", when)
    assert result.code == 0, result.output
    assert sendgrid_server.log.requests[0]["send_at"] == int(when)


def test_send_at_is_refused_for_providers_that_cannot_schedule(project: Path, sendgrid_server: SendGridServer) -> None:
    result = send(project, sendgrid_server, "--yes", "--provider", "outbox", "--send-at", "2999-01-01T09:00")
    assert result.code == 2


def test_outbox_is_the_default_without_a_key(project: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert result.code == 0, result.output
    files = sorted((project / "outbox" / "2024-06-june-team-update").glob("*.eml"))
    assert len(files) == 5 and not any("dev.patel" in f.name for f in files)


def test_canary_key_appears_in_no_output_file_or_log(project: Path, tmp_path: Path) -> None:
    logger = tmp_path / "logger"
    logger.mkdir()
    log = tmp_path / "debug.log"
    (logger / "sitecustomize.py").write_text(f"import logging\nlogging.basicConfig(level=logging.DEBUG, filename={str(log)!r})\n")
    import tests.conftest as conftest

    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  backoff: 0.05\n")
    outputs: list[str] = []
    with SendGridServer(key=CANARY) as server:
        env = {"SENDGRID_API_KEY": CANARY, "SENDGRID_API_HOST": server.url, "PYTHONPATH": f"{logger}:{conftest.REPO}"}
        for args in (["--dry-run"], ["--validate"], ["--test-to", "me@example.com"], ["--yes"]):
            if args == ["--yes"]:
                server.fail_next(Fault("429", retry_after="0"), "500", "400")
            r = run_cli("send", EXAMPLE_ISSUE, *args, cwd=project, env=env)
            outputs.append(r.output)
        r = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project, env=env)
        outputs.append(r.output)
        outputs.append(run_cli("status", EXAMPLE_ISSUE, cwd=project, env=env).output)
        outputs.append(run_cli("report", EXAMPLE_ISSUE, cwd=project, env=env).output)
        assert server.log.auth_headers and all(h == f"Bearer {CANARY}" for h in server.log.auth_headers)
        assert len(server.log.accepted) == 5 + 1
    assert log.exists()
    for fragment in ("canaryAAAA", "canaryBBBB"):
        assert not any(fragment in o for o in outputs)
        for path in [log, *project.rglob("*")]:
            if path.is_file():
                assert fragment.encode() not in path.read_bytes(), path


def test_check_errors_stop_the_send_unless_forced(project: Path, sendgrid_server: SendGridServer) -> None:
    issue = project / EXAMPLE_ISSUE
    issue.write_text(issue.read_text().replace("date: 2024-06-14", "date: 2024-12-01", 1))
    refused = send(project, sendgrid_server, "--yes")
    assert refused.code == 1 and "event-before-date" in refused.err and "--force" in refused.err
    assert sendgrid_server.log.times == []
    forced = send(project, sendgrid_server, "--yes", "--force")
    assert forced.code == 0, forced.output
    assert sorted(sent_to(sendgrid_server)) == sorted(ELIGIBLE)


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--yes", "--list", "missing.csv"], {}, "missing.csv: subscriber list not found"),
        (["--yes", "--provider", "smtp"], {}, "SMTP_URL"),
        (["--yes", "--provider", "sendgrid"], {}, "SENDGRID_API_KEY"),
        (["--yes", "--provider", "smtp"], {"SMTP_URL": "http://u:hunter2@host"}, "SMTP_URL must look like"),
        (["--dry-run", "--validate"], {}, "cannot be combined"),
        (["--yes", "--resend-unknown", "--mark-unknown-sent"], {}, "choose one"),
        (["--as", "x@example.org"], {}, "--as only applies"),
    ],
)
def test_bad_usage_is_exit_2_with_a_clear_message(project: Path, args: list[str], env: dict[str, str], words: str) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, *args, cwd=project, env=env)
    assert result.code == 2 and words in result.err, result.output
    assert "Traceback" not in result.output and "hunter2" not in result.output
    assert not (project / "outbox").exists()


def test_unsubscribes_while_paused_are_never_sent(project: Path, sendgrid_server: SendGridServer) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  batch_size: 1\n")
    sendgrid_server.fail_next("ok", "ok", "401")
    first = send(project, sendgrid_server, "--yes")
    assert first.code == 1 and sorted(sent_to(sendgrid_server)) == ["amina.okafor@example.org", "ben.hughes@example.org"]
    run_cli("report", EXAMPLE_ISSUE, cwd=project)
    with (project / "unsent.csv").open(newline="") as fh:
        unsent = {r[0]: (r[1], r[2]) for r in list(csv.reader(fh))[1:]}
    assert set(unsent) == {"chloe.martin@example.org", "eilidh.campbell@example.org", "farah.haddad@example.org"}
    assert "authorization grant" in unsent["chloe.martin@example.org"][1]  # the refused batch
    not_reached = ("pending", "not sent yet: the send stopped before it reached this address")
    assert unsent["eilidh.campbell@example.org"] == not_reached  # read while chloe's request was out
    assert unsent["farah.haddad@example.org"] == not_reached  # not read yet
    people = project / "subscribers.csv"
    text = people.read_text()
    for who in ("chloe.martin", "farah.haddad"):  # one waiting in the journal, one not read yet
        line = next(x for x in text.splitlines() if x.startswith(who))
        text = text.replace(line, line.replace(",subscribed,", ",unsubscribed,"))
    people.write_text(text)
    second = send(project, sendgrid_server, "--yes")
    assert second.code == 0, second.output
    assert sorted(sent_to(sendgrid_server)) == [
        "amina.okafor@example.org",
        "ben.hughes@example.org",
        "eilidh.campbell@example.org",
    ]
    status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
    assert ": finished" in status.out and "suppressed 1" in status.out.replace("  ", " ")


def test_the_issue_audience_decides_who_gets_it(project: Path, sendgrid_server: SendGridServer) -> None:
    """`audience:` in the issue: only tagged people (tags case-insensitive), exclusions win,
    and the unsubscribed stay out whatever their tags."""
    issue = project / EXAMPLE_ISSUE
    issue.write_text(
        issue.read_text(encoding="utf-8") + "audience:\n  tags: [Community, partners]\n  exclude_tags: [CUPPAS]\n",
        encoding="utf-8",
    )
    dry = run_cli("send", EXAMPLE_ISSUE, "--dry-run", cwd=project)
    assert dry.code == 0, dry.output
    assert "eligible    2" in dry.out and "left out by the issue's audience tags  3" in dry.out
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 0, result.output
    assert sorted(sent_to(sendgrid_server)) == ["ben.hughes@example.org", "chloe.martin@example.org"]
    assert "accepted 2" in result.out and "of 2 eligible" in result.out


def test_a_journal_of_another_format_is_refused_and_kept(project: Path, sendgrid_server: SendGridServer) -> None:
    """A journal written by an earlier version (address, display name and token per row)
    is not read as if it were this one's: exit 2, the file named, nothing sent, the file
    left as it was."""
    import sqlite3

    state = project / ".newsletter"
    state.mkdir(exist_ok=True)
    old = state / "journal.sqlite3"
    db = sqlite3.connect(old)
    db.executescript(
        "CREATE TABLE recipients (send_id INTEGER NOT NULL, seq INTEGER NOT NULL, email TEXT NOT NULL,"
        " name TEXT NOT NULL, vals TEXT, token TEXT NOT NULL, state TEXT NOT NULL, batch INTEGER, reason TEXT,"
        " PRIMARY KEY (send_id, seq)) WITHOUT ROWID;"
        "INSERT INTO recipients VALUES (1, 1, 'amina.okafor@example.org', 'Amina', NULL, 'abc', 'in_flight', 1, NULL);"
    )
    db.close()
    before = old.read_bytes()
    result = send(project, sendgrid_server, "--yes")
    assert result.code == 2, result.output
    assert ".newsletter/journal.sqlite3" in result.err and "another version of newsletter" in result.err
    assert "Traceback" not in result.output
    assert sendgrid_server.log.times == []
    assert old.read_bytes() == before
