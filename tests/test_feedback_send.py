"""A SendGrid send syncs with SendGrid first; a failed sync stops it before anything is sent."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.feedback_kit import env, rows
from tests.sendgrid_feedback import ApiFault
from tests.sendgrid_server import SendGridServer

ELIGIBLE = {
    "amina.okafor@example.org",
    "ben.hughes@example.org",
    "chloe.martin@example.org",
    "eilidh.campbell@example.org",
    "farah.haddad@example.org",
}


def send(project: Path, server: SendGridServer, *args: str) -> CliResult:
    return run_cli("send", EXAMPLE_ISSUE, "--yes", *args, cwd=project, env=env(server))


def test_a_send_after_sync_leaves_the_synced_addresses_out(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    acct.add("bounces", "amina.okafor@example.org")
    acct.add("spam_reports", "ben.hughes@example.org")
    acct.add("unsubscribes", "chloe.martin@example.org")
    result = send(project, sendgrid_server)
    assert result.code == 0, result.output
    assert "Synced with SendGrid first: 3 row(s) changed (0 added)" in result.out
    assert sorted(sendgrid_server.log.accepted) == ["eilidh.campbell@example.org", "farah.haddad@example.org"]
    assert rows(project / "subscribers.csv")["ben.hughes@example.org"]["status"] == "complained"
    assert sendgrid_server.log.invalid == []


def test_a_failed_sync_sends_nothing_and_says_why(project: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.account.faults.append(ApiFault("403", message="access forbidden: this key may not read suppressions"))
    result = send(project, sendgrid_server)
    assert result.code == 2
    assert "nothing was sent: the sync with SendGrid failed" in result.err
    assert "access forbidden: this key may not read suppressions" in result.err and "--no-sync" in result.err
    assert sendgrid_server.log.times == []  # no mail request at all
    assert (
        not (project / ".newsletter" / "journal.sqlite3").exists()
        or "not sent yet" in run_cli("status", EXAMPLE_ISSUE, cwd=project).out
    )


def test_no_sync_skips_it_and_says_so(project: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.account.add("bounces", "amina.okafor@example.org")
    result = send(project, sendgrid_server, "--no-sync")
    assert result.code == 0, result.output
    assert "Not synced with SendGrid first (--no-sync)" in result.out
    assert sorted(sendgrid_server.log.accepted) == sorted(ELIGIBLE)
    assert not any(p.startswith("/v3/suppression") for _, p in sendgrid_server.account.calls)


def test_outbox_sends_do_not_sync(project: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0 and "Synced" not in result.out and "--no-sync" not in result.out
