"""A second send of an issue already sent (a second ``make run``) shows the result again."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli

SLUG = Path(EXAMPLE_ISSUE).stem


def test_second_outbox_send_shows_the_result_and_where_the_files_are(project: Path) -> None:
    first = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert first.code == 0, first.output
    written = sorted((project / "outbox" / SLUG).iterdir())
    again = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert again.code == 0, again.output
    assert "already sent with outbox" in again.out
    assert "accepted 5  failed 0  unknown 0  suppressed 0  pending 0  of 5 eligible" in again.out
    assert f"the messages are in outbox/{SLUG}/" in again.out
    assert "(set SENDGRID_API_KEY or SMTP_URL to send for real)" in again.out  # both ways to send, not one
    assert f"newsletter report {EXAMPLE_ISSUE}" in again.out
    assert sorted((project / "outbox" / SLUG).iterdir()) == written  # nothing written again
