"""Rehearsals are honest: whatever only writes files says so in its last line, and the dry run
and the test send run the real send's gate and say when the real send would refuse."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.sendgrid_server import KEY, SendGridServer

SLUG = "2024-06-june-team-update"


def _break_a_link(project: Path) -> None:
    issue = project / EXAMPLE_ISSUE
    text = issue.read_text(encoding="utf-8")
    issue.write_text(
        text.replace("https://www.coproductioncollective.co.uk/news/meaningful-conversations", "https://TK", 1), encoding="utf-8"
    )


def test_an_outbox_send_says_no_email_was_sent_and_where_the_files_are(project: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)  # no key: the outbox
    assert result.code == 0, result.output
    assert result.out.strip().splitlines()[-1] == (
        f"No email was sent: 5 message(s) written to outbox/{SLUG}/ (set SENDGRID_API_KEY or SMTP_URL to send for real)"
    )


def test_an_outbox_test_send_says_so_too(project: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--test-to", "me@example.com", cwd=project)
    assert result.code == 0, result.output
    assert "  written   me@example.com" in result.out and "  sent " not in result.out
    assert result.out.strip().splitlines()[-1] == (
        f"No email was sent: 1 message(s) written to outbox/{SLUG}-test/ (set SENDGRID_API_KEY or SMTP_URL to send for real)"
    )


def test_a_clean_dry_run_names_the_test_send_as_the_next_step(project: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--dry-run", cwd=project)
    assert result.code == 0, result.output
    last = result.out.strip().splitlines()[-1]
    assert last.startswith("Dry run: nothing was sent. Next, send yourself a test:") and "--test-to" in last
    assert "--yes" not in last


def test_a_dry_run_runs_the_real_sends_gate_and_exits_1_when_it_would_refuse(project: Path) -> None:
    _break_a_link(project)
    result = run_cli("send", EXAMPLE_ISSUE, "--dry-run", cwd=project)
    assert result.code == 1, result.output
    assert "[link-placeholder]" in result.err and "The real send would refuse" in result.err
    assert "--yes" not in result.output
    refused = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)  # the real send agrees
    assert refused.code == 1 and "[link-placeholder]" in refused.err


def test_a_test_send_shows_the_gates_errors(project: Path, sendgrid_server: SendGridServer) -> None:
    _break_a_link(project)
    result = run_cli(
        "send",
        EXAMPLE_ISSUE,
        "--test-to",
        "me@example.com",
        cwd=project,
        env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url},
    )
    assert result.code == 1, result.output
    assert sendgrid_server.log.accepted == ["me@example.com"]  # the test itself went out
    assert "[link-placeholder]" in result.err and "the real send would refuse" in result.err
