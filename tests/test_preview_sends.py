"""The send's state on the preview's index and issue page, read from the real send journal
(made by real sends: the outbox, and SendGrid's API as tests/sendgrid_server.py serves it)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.delivery.journal import Journal
from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.feedback_kit import env
from tests.preview_kit import EXAMPLE_SLUG, Running, serving, stopped_send
from tests.sendgrid_server import SendGridServer

ELIGIBLE = 5  # the example list's people the example issue goes to


def sent_state(preview: Running, predicate: Callable[[dict[str, Any]], object]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The send state on the index and on the issue page, once ``predicate`` holds for the index's."""
    index = preview.wait_for("/api/issues", lambda d: predicate(_of(d)))
    issue = preview.json(f"/api/issues/{EXAMPLE_SLUG}")
    assert issue["send"] == _of(index)
    return _of(index), issue["send"]


def _of(index: dict[str, Any]) -> dict[str, Any]:
    return next(i["send"] for i in index["issues"] if i["slug"] == EXAMPLE_SLUG)


def state_files(project: Path) -> set[str]:
    folder = project / ".newsletter"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_not_sent_then_rehearsed_then_sent(project: Path, sendgrid_server: SendGridServer) -> None:
    other_issue = project / "issues" / "2024-07-other.yaml"
    text = (project / EXAMPLE_ISSUE).read_text(encoding="utf-8")
    text = text.replace('subject: "June Team Update', 'subject: "July Team Update').replace(
        "date: 2024-06-14", "date: 2024-07-12"
    )
    other_issue.write_text(text, encoding="utf-8")
    with serving(project) as preview:
        index = preview.json("/api/issues")
        assert {i["send"]["state"] for i in index["issues"]} == {"not-sent"}
        assert _of(index)["text"] == "not sent yet"
        assert not (project / ".newsletter" / "journal.sqlite3").exists()  # reading never creates the journal

        rehearsal = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
        assert rehearsal.code == 0, rehearsal.output
        send, _ = sent_state(preview, lambda s: s["rehearsed"] == ELIGIBLE)
        assert send["state"] == "not-sent"
        assert send["text"] == f"not sent yet (a rehearsal wrote {ELIGIBLE} messages to the outbox)"

        real = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project, env=env(sendgrid_server))
        assert real.code == 0, real.output
        before = state_files(project)
        send, _ = sent_state(preview, lambda s: s["state"] == "sent")
        assert send["provider"] == "sendgrid" and send["counts"]["accepted"] == ELIGIBLE
        assert re.fullmatch(
            rf"sent \d{{1,2}} [A-Z][a-z]+ \d{{4}} \d\d:\d\d (BST|GMT) with sendgrid: "
            rf"{ELIGIBLE} accepted, 0 failed",
            send["text"],
        ), send["text"]
        for _ in range(3):
            preview.json("/api/issues")
        assert state_files(project) == before  # read-only: no -wal or -shm file made by the preview
        assert not {"journal.sqlite3-wal", "journal.sqlite3-shm"} & before
        other = [i["send"] for i in preview.json("/api/issues")["issues"] if i["slug"] == "2024-07-other"]
        assert other == [
            {"state": "not-sent", "text": "not sent yet", "provider": "", "eligible": 0, "counts": {}, "rehearsed": 0}
        ]


def test_a_scheduled_send_shows_its_time_in_words(project: Path, sendgrid_server: SendGridServer) -> None:
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=3)
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--send-at", when.isoformat(), cwd=project, env=env(sendgrid_server))
    assert result.code == 0, result.output
    local = when.astimezone(ZoneInfo("Europe/London"))  # the example newsletter's time zone
    with serving(project) as preview:
        send, _ = sent_state(preview, lambda s: s["state"] != "not-sent")
    assert send["state"] == "scheduled"
    assert send["text"].startswith(
        f"scheduled for {local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()} (in 2 hours"
    ), send
    assert send["text"].endswith(f"with sendgrid: {ELIGIBLE} accepted, 0 failed")

    cancelled = run_cli("cancel", EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
    assert cancelled.code == 0, cancelled.output
    with serving(project) as preview:
        send, _ = sent_state(preview, lambda s: s["state"] != "not-sent")
    assert send["state"] == "cancelled"
    assert send["text"] == (
        f"not sent: the scheduled send with sendgrid was cancelled ({ELIGIBLE} recipients); send it again to send it"
    )


def test_a_stopped_send_says_how_to_resume(project: Path) -> None:
    stopped_send(project)
    with serving(project) as preview:
        send_state, _ = sent_state(preview, lambda s: s["state"] != "not-sent")
    assert send_state["state"] == "stopped"
    assert send_state["counts"]["pending"] == 3
    assert send_state["text"] == (
        f"stopped: 3 pending (0 accepted, 0 failed, 3 pending) — resume with "
        f"newsletter send {EXAMPLE_ISSUE} --yes --provider smtp"
    )

    journal = Journal.open(project)  # a request under way (or cut off mid-request)
    try:
        journal.begin_batch(journal.refresh(EXAMPLE_SLUG), 1, 2, 2)
    finally:
        journal.close()
    with serving(project) as preview:
        send_state, _ = sent_state(preview, lambda s: s["state"] != "stopped")
    assert send_state["state"] == "sending"
    assert send_state["text"] == (
        "sending, or stopped mid-request: 0 of 3 done (0 accepted, 0 failed, 1 pending, "
        f"2 in flight) — if no send is running, resume with newsletter send {EXAMPLE_ISSUE}"
        " --yes --provider smtp"
    )


def test_an_unreadable_journal_is_no_send(project: Path) -> None:
    (project / ".newsletter").mkdir()
    (project / ".newsletter" / "journal.sqlite3").write_bytes(b"not a database at all" * 10)
    with serving(project) as preview:
        index = preview.json("/api/issues")
    assert _of(index)["state"] == "not-sent"


def test_a_send_made_on_another_clone_shows_from_its_record_with_what_was_not_delivered(
    project: Path, sendgrid_server: SendGridServer, tmp_path: Path
) -> None:
    import shutil

    real = run_cli("send", EXAMPLE_ISSUE, "--yes", "--no-sync", cwd=project, env=env(sendgrid_server))
    assert real.code == 0, real.output
    clone = tmp_path / "clone"
    shutil.copytree(project, clone, ignore=shutil.ignore_patterns(".newsletter"))
    with serving(clone) as preview:
        send, _ = sent_state(preview, lambda s: s["state"] == "sent")
        assert "from another clone" in send["text"] and f"{ELIGIBLE} accepted" in send["text"], send["text"]
    assert sendgrid_server.account.logs.event("amina.okafor@example.org", "bounce") == 1
    pulled = run_cli("results", EXAMPLE_ISSUE, cwd=clone, env=env(sendgrid_server))
    assert pulled.code == 0, pulled.output
    with serving(clone) as preview:
        send, _ = sent_state(preview, lambda s: "after SendGrid accepted them" in s["text"])
        assert send["text"].endswith("after SendGrid accepted them: 1 bounced (newsletter report lists them)")
