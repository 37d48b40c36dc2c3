"""Which issues were sent for real: this clone's send journal, and the send records every
clone shares (``sends/``, :mod:`newsletter.delivery.records`).

Read-only: the journal is never created or changed here, and SQLite is not even loaded
when the project never sent anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from newsletter.delivery.state import STATE_DIR
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from newsletter.delivery.records import Record


@dataclass(frozen=True, slots=True)
class SentIssue:
    """A real send recorded in the project's journal (not tests, dry runs or sandbox checks)."""

    slug: str
    provider: str
    finished: bool


def sent_issues(root: Path) -> list[SentIssue]:
    """The sends recorded in ``.newsletter/`` (this clone's journal) and the real sends in
    ``sends/`` (the records every clone shares), oldest first."""
    local = journal_sends(root)
    known = {s.slug for s in local}
    shared = [SentIssue(r.slug, r.provider, r.state == "finished") for r in recorded_sends(root)
              if r.slug not in known]
    return local + shared


def recorded_sends(root: Path) -> list[Record]:
    """The send records of issues that reached (or may have reached) readers."""
    from newsletter.delivery import records

    try:
        return [r for r in records.all_records(root) if r.delivered_any and r.state != "cancelled"]
    except NewsletterError:  # a broken record is reported by the send that reads it
        return []


def journal_sends(root: Path) -> list[SentIssue]:
    """The real sends recorded in ``.newsletter/``, oldest first; the journal is opened
    read-only and never created."""
    if not (root / STATE_DIR).is_dir():
        return []  # never sent: no need to load the journal's code or SQLite
    import sqlite3

    from newsletter.delivery.journal import JOURNAL_FILE

    path = root / STATE_DIR / JOURNAL_FILE
    if not path.is_file():
        return []
    # With no write-ahead log beside it the file holds every committed send and nobody is
    # writing: read it as immutable, which creates no -wal/-shm files. Else a send is
    # running: read-only through its log.
    live = path.with_name(path.name + "-wal").exists()
    mode = "mode=ro" if live else "mode=ro&immutable=1"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=5)
        try:
            rows = db.execute("SELECT slug, provider, finished FROM sends ORDER BY created").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
    return [SentIssue(str(slug), str(provider), finished is not None) for slug, provider, finished in rows]
