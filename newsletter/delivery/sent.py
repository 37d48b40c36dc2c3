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


def sent_issues(root: Path) -> list[SentIssue]:
    """The sends recorded in ``.newsletter/`` (this clone's journal) and the real sends in
    ``sends/`` (the records every clone shares), oldest first."""
    local = journal_sends(root)
    known = {s.slug for s in local}
    shared = [SentIssue(r.slug, r.provider) for r in recorded_sends(root) if r.slug not in known]
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
    from newsletter.delivery.journal_read import local_sends

    return [SentIssue(s.slug, s.provider) for s in local_sends(root)]
