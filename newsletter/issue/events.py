"""Every event of an issue with its lasting identity.

An event's identity names its calendar file (``events/<id>.ics``) and makes its calendar
``UID``, so it must survive what editors do to an issue: fixing a time, moving an event,
removing the one before it, carrying it into next month's issue. It is the event's own
``id:`` when the YAML gives one; otherwise it is made from what an edit rarely changes,
the day it starts (in its own time zone) and its title: ``2024-07-01-co-pro-cuppa``.
Its position in the issue plays no part. Two events of one issue with the same day and
title are told apart by their start time (``2024-07-01-workshop-1400``), then by a number.

Changing the day or the title of an event without an ``id:`` changes its identity;
``newsletter check`` warns when that would happen to an event already published, and
says which ``id:`` keeps it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from newsletter.issue.model import Event, EventsBlock, Issue

MAX_WORDS = 48
"""At most this many characters of the title go into a derived identity."""
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class IssueEvent:
    """One event of an issue: its identity, where it is, and the event itself."""

    id: str
    event: Event
    block: int
    """Index of its events block in ``issue.blocks``."""
    item: int
    """Index in that block's ``items``."""


def title_words(title: str) -> str:
    """``"Co-Pro Cuppa: July!"`` → ``"co-pro-cuppa-july"`` (accents folded, ASCII only);
    a title with no Latin letter or digit gets a short hash of itself instead."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    words = _NOT_WORD.sub("-", folded).strip("-")[:MAX_WORDS].rstrip("-")
    return words or "event-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]


def derived_id(event: Event) -> str:
    """The identity of an event without ``id:``: its start's day and its title."""
    return f"{event.start.date().isoformat()}-{title_words(event.title)}"


def issue_events(issue: Issue) -> list[IssueEvent]:
    """Every event of the issue in reading order, each with its identity (distinct within the issue)."""
    found: list[tuple[int, int, Event]] = [
        (b, i, event)
        for b, block in enumerate(issue.blocks)
        if isinstance(block, EventsBlock)
        for i, event in enumerate(block.items)
    ]
    base = [event.id or derived_id(event) for _, _, event in found]
    counts: dict[str, int] = {}
    for key in base:
        counts[key] = counts.get(key, 0) + 1
    taken: set[str] = set()
    out: list[IssueEvent] = []
    for (b, i, event), key in zip(found, base):
        if counts[key] > 1 and event.id is None:
            key = f"{key}-{event.start:%H%M}"
        unique, n = key, 1
        while unique in taken:
            n += 1
            unique = f"{key}-{n}"
        taken.add(unique)
        out.append(IssueEvent(unique, event, b, i))
    return out
