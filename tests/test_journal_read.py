"""The journal's read-only API: one definition of a finished send, figures that match the
writer's, and reading that never creates or changes a file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from newsletter.delivery.base import BatchResult, RowTuple
from newsletter.delivery.journal import Journal
from newsletter.delivery.journal_read import (
    JOURNAL_FILE,
    is_finished,
    journal_path,
    local_figures,
    local_sends,
    open_existing,
)
from newsletter.delivery.state import STATE_DIR
from newsletter.errors import NewsletterError

ROWS: list[RowTuple] = [
    (1, "a@example.org", "A", "", None),
    (2, "b@example.org", "B", "", None),
    (3, "c@example.org", "C", "", None),
]


def _journal(root: Path) -> Journal:
    (root / STATE_DIR).mkdir(parents=True, exist_ok=True)
    return Journal(journal_path(root))


def test_a_send_is_finished_once_its_whole_audience_is_done_with(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        send = journal.create(key="k", slug="s", provider="sendgrid", list_path="l.csv", content_hash="h", eligible=3)
        journal.add_pending(send, ROWS)
        send = journal.set_loaded(send)
        assert not is_finished(send, journal.counts(send))
        journal.begin_batch(send, 1, 3, 3)
        journal.finish_batch(send, 1, 3, 3, BatchResult(accepted=[1], failed={2: "refused"}, unknown={3: "lost"}))
        assert not is_finished(send, journal.counts(send))  # an unknown row is not done with
        journal.resolve_unknown(send, resend=False)  # marked sent by the editor: done with
        assert is_finished(send, journal.counts(send))
    [figures] = local_figures(tmp_path)
    assert figures.finished and figures.done == 3
    assert {k: v for k, v in figures.counts.items() if v} == {"accepted": 1, "failed": 1, "marked_sent": 1}


def test_a_send_whose_list_is_not_all_read_is_not_finished(tmp_path: Path) -> None:
    """Even when every row written so far is done with and as many as were counted eligible."""
    with _journal(tmp_path) as journal:
        send = journal.create(key="k", slug="s", provider="sendgrid", list_path="l.csv", content_hash="h", eligible=1)
        journal.add_pending(send, ROWS[:1])
        journal.begin_batch(send, 1, 1, 1)
        journal.finish_batch(send, 1, 1, 1, BatchResult(accepted=[1]))
        send = journal.refresh("k")
        assert not send.loaded and not is_finished(send, journal.counts(send))
    assert [f.finished for f in local_figures(tmp_path)] == [False]


def test_every_send_is_read_in_order_with_its_own_figures(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        first = journal.create(key="k1", slug="one", provider="outbox", list_path="l.csv", content_hash="h", eligible=3)
        journal.add_pending(first, ROWS)
        second = journal.create(key="k2", slug="two", provider="smtp", list_path="l.csv", content_hash="h", eligible=1)
        journal.add_pending(second, ROWS[:1])
        journal.set_loaded(second)
    assert [(s.key, s.slug, s.provider) for s in local_sends(tmp_path)] == [("k1", "one", "outbox"), ("k2", "two", "smtp")]
    assert [(f.send.key, f.counts["pending"]) for f in local_figures(tmp_path)] == [("k1", 3), ("k2", 1)]


def test_reading_creates_nothing(tmp_path: Path) -> None:
    assert local_sends(tmp_path) == [] and local_figures(tmp_path) == []
    assert not (tmp_path / STATE_DIR).exists()
    with _journal(tmp_path) as journal:
        journal.create(key="k", slug="s", provider="outbox", list_path="l.csv", content_hash="h", eligible=0)
    before = sorted(p.name for p in (tmp_path / STATE_DIR).iterdir())
    assert JOURNAL_FILE in before
    local_sends(tmp_path)
    local_figures(tmp_path)
    assert sorted(p.name for p in (tmp_path / STATE_DIR).iterdir()) == before


def test_a_journal_that_is_not_one_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / STATE_DIR).mkdir()
    journal_path(tmp_path).write_bytes(b"not a database, " * 100)
    assert local_sends(tmp_path) == [] and local_figures(tmp_path) == []


def test_a_journal_opened_to_read_is_left_as_it_was(tmp_path: Path) -> None:
    assert open_existing(tmp_path) is None and not (tmp_path / STATE_DIR).exists()
    with _journal(tmp_path) as journal:
        send = journal.create(key="k", slug="s", provider="outbox", list_path="l.csv", content_hash="h", eligible=3)
        journal.add_pending(send, ROWS)
    files = {p.name: p.read_bytes() for p in (tmp_path / STATE_DIR).iterdir()}
    view = open_existing(tmp_path)
    assert view is not None
    with view:
        [send] = view.sends_for("s")
        assert view.counts(send)["pending"] == 3
        assert [email for email, _, _ in view.not_accepted(send)] == [r[1] for r in ROWS]
    assert {p.name: p.read_bytes() for p in (tmp_path / STATE_DIR).iterdir()} == files


def test_a_journal_file_sqlite_never_wrote_reads_as_no_journal(tmp_path: Path) -> None:
    (tmp_path / STATE_DIR).mkdir()
    journal_path(tmp_path).touch()  # made owner-only before SQLite opened it, then the send stopped
    assert open_existing(tmp_path) is None
    assert local_sends(tmp_path) == [] and local_figures(tmp_path) == []
    assert journal_path(tmp_path).stat().st_size == 0


def test_a_file_that_is_not_a_journal_is_refused_when_read(tmp_path: Path) -> None:
    (tmp_path / STATE_DIR).mkdir()
    journal_path(tmp_path).write_bytes(b"not a database, " * 100)
    with pytest.raises(NewsletterError, match=r"journal\.sqlite3: cannot read the send journal"):
        open_existing(tmp_path)


def test_a_journal_of_another_format_is_refused_when_read(tmp_path: Path) -> None:
    with _journal(tmp_path) as journal:
        journal.create(key="k", slug="s", provider="outbox", list_path="l.csv", content_hash="h", eligible=0)
    db = sqlite3.connect(journal_path(tmp_path))
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(NewsletterError, match=r"journal\.sqlite3: .*journal format 99"):
        open_existing(tmp_path)
