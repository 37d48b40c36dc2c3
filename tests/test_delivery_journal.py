"""The journal keeps each new row exactly as given (they reach SQLite as one JSON array)."""

from __future__ import annotations

import itertools
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.delivery.journal import Journal
from newsletter.errors import NewsletterError

EXAMPLE = itertools.count()
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXT, TEXT, TEXT, st.none() | st.dictionaries(TEXT, TEXT, max_size=3)), min_size=1, max_size=20))
def test_rows_come_back_exactly_as_written(tmp_path: Path, rows: list[tuple[str, str, str, dict[str, str] | None]]) -> None:
    """Any text (quotes, backslashes, NUL, emoji, right-to-left marks), merge values or none."""
    with Journal(tmp_path / f"j{next(EXAMPLE)}.sqlite3") as journal:
        send = journal.create(key="k", slug="s", provider="outbox", list_path="l.csv", content_hash="h", eligible=len(rows))
        written = [
            (seq, email, first, last, None if vals is None else orjson.dumps(vals).decode())
            for seq, (email, first, last, vals) in enumerate(rows, 1)
        ]
        journal.add_pending(send, written)
        assert [tuple(r) for r in journal.next_run(send, 0, 100)[0]] == written
        assert journal.counts(send)["pending"] == len(rows)


def test_a_row_written_twice_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        send = journal.create(key="k", slug="s", provider="outbox", list_path="l.csv", content_hash="h", eligible=2)
        journal.add_pending(send, [(1, "a@example.org", "A", "", None)])
        with pytest.raises(NewsletterError, match="already has these recipients"):
            journal.add_pending(send, [(2, "b@example.org", "B", "", None), (1, "a@example.org", "A", "", None)])
        # nothing of the refused call is kept (nor the uncommitted rows before it: pending rows
        # are read from the list again when the send resumes)
        assert journal.next_run(send, 0, 10) == ([], False)
