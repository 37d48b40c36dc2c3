"""What changed since the last publish, as calendar apps and feed readers must be told.

Pure functions on :class:`~newsletter.web.state.PublishedState`, tested without files:

* an event is one entry however many issues hold it; the newest of them (by date, then
  slug) says what it is now, and its page is the issue it first appeared in;
* an event whose calendar-visible details changed gets the next ``SEQUENCE`` and is
  stamped with the time of publishing (``DTSTAMP`` and ``LAST-MODIFIED``); one that did
  not change keeps its revision and stamp, byte for byte;
* an issue whose content changed gets ``updated`` (its feed entry's) set to that time;
* nothing is ever forgotten: records of issues and events no longer published stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.web.calendar import CalEvent
from newsletter.web.issue import WebIssue
from newsletter.web.state import Baseline, Correction, EventRecord, EventSeen, IssueRecord, PublishedState


@dataclass(frozen=True, slots=True)
class Current:
    """An event as the site publishes it now: its newest details, from which issue, and its record."""

    event: CalEvent
    newest: str
    record: EventRecord


def newest_first(issues: Sequence[WebIssue]) -> list[WebIssue]:
    return sorted(issues, key=lambda w: (w.date, w.slug), reverse=True)


def advance(state: PublishedState, issues: Sequence[WebIssue], now: dt.datetime) -> PublishedState:
    """The state after publishing ``issues`` at ``now`` (see the module docstring)."""
    stamp = now.astimezone(dt.timezone.utc).replace(microsecond=0)
    issue_records = dict(state.issues)
    for item in issues:
        ids = [e.id for e in item.events]
        old = issue_records.get(item.slug)
        if old is None:
            issue_records[item.slug] = IssueRecord(
                digest=item.digest,
                title=item.title,
                date=item.date,
                summary=item.summary,
                events=ids,
                baseline=Baseline(text=item.text_digest, events=dict(item.seen)),
            )
        elif (old.digest, old.title, old.date, old.summary, old.events) != (
            item.digest,
            item.title,
            item.date,
            item.summary,
            ids,
        ):
            changed = old.digest != item.digest
            issue_records[item.slug] = old.model_copy(
                update={
                    "digest": item.digest,
                    "title": item.title,
                    "date": item.date,
                    "summary": item.summary,
                    "events": ids,
                    "updated": stamp if changed else old.updated,
                }
            )
    event_records = dict(state.events)
    oldest_holder: dict[str, str] = {}
    for item in sorted(issues, key=lambda w: (w.date, w.slug)):
        for event in item.events:
            oldest_holder.setdefault(event.id, item.slug)
    for event_id, (event, _newest) in _newest_details(issues).items():
        old_event = event_records.get(event_id)
        if old_event is None:
            event_records[event_id] = EventRecord(digest=event.digest, issue=oldest_holder[event_id])
        elif old_event.digest != event.digest:
            event_records[event_id] = old_event.model_copy(
                update={"digest": event.digest, "sequence": old_event.sequence + 1, "modified": stamp}
            )
    return PublishedState(issues=issue_records, events=event_records)


def _newest_details(issues: Sequence[WebIssue]) -> dict[str, tuple[CalEvent, str]]:
    found: dict[str, tuple[CalEvent, str]] = {}
    for item in newest_first(issues):
        for event in item.events:
            found.setdefault(event.id, (event, item.slug))
    return found


def current_events(state: PublishedState, issues: Sequence[WebIssue]) -> dict[str, Current]:
    """Every event the site publishes now (after :func:`advance`), by identity."""
    return {
        event_id: Current(event, newest, state.events[event_id]) for event_id, (event, newest) in _newest_details(issues).items()
    }


def first_stamp(state: PublishedState, record: EventRecord) -> dt.datetime:
    """The stamp of an event's first revision: midnight (UTC) of the day of the issue that first held it."""
    issue = state.issues.get(record.issue)
    day = issue.date if issue is not None else dt.date(1970, 1, 1)
    return dt.datetime.combine(day, dt.time(0, 0), dt.timezone.utc)


# --- corrections -------------------------------------------------------------------------


def describe(baseline: Baseline, item: WebIssue) -> list[str]:
    """What changed since readers last saw the issue, in words (empty: nothing did)."""
    notes: list[str] = []
    for event_id, now in item.seen.items():
        before = baseline.events.get(event_id)
        if before is None:
            notes.append(f"{now.title} ({now.when}) is new")
        elif before != now:
            notes.append(_event_change(before, now))
    for event_id, before in baseline.events.items():
        if event_id not in item.seen:
            notes.append(f"{before.title} ({before.when}) is no longer in this issue")
    if baseline.text != item.text_digest:
        notes.insert(0, "the text was corrected")
    return notes


def _event_change(before: EventSeen, now: EventSeen) -> str:
    parts = []
    if before.title != now.title:
        parts.append(f"is now called {now.title} (was {before.title})")
    if before.when != now.when:
        day, _, time = before.when.partition(", ")
        new_day, _, new_time = now.when.partition(", ")
        if day == new_day:
            parts.append(f"on {day} is now at {new_time} (was {time})")
        else:
            parts.append(f"is now on {now.when} (was {before.when})")
    if before.place != now.place:
        parts.append(f"is now {_place(now.place)} (was {_place(before.place)})")
    return f"{before.title} " + " and ".join(parts)


def _place(place: str) -> str:
    return "online" if place == "online" else f"at {place}"


def changed_events(baseline: Baseline, item: WebIssue) -> list[str]:
    """The identities of the issue's events that are new or changed since the baseline."""
    return [e for e, seen in item.seen.items() if baseline.events.get(e) != seen]


def corrected(state: PublishedState, item: WebIssue, note: str, now: dt.datetime) -> PublishedState:
    """The state with a correction of ``item`` recorded: its note, and a new baseline."""
    record = state.issues[item.slug]
    stamp = now.astimezone(dt.timezone.utc).replace(microsecond=0)
    updated = record.model_copy(
        update={
            "corrections": [*record.corrections, Correction(date=stamp, note=note, events=changed_events(record.baseline, item))],
            "baseline": Baseline(text=item.text_digest, events=dict(item.seen)),
        }
    )
    return state.model_copy(update={"issues": {**state.issues, item.slug: updated}})


def note_text(changes: list[str]) -> str:
    """``["a", "b"]`` → ``"A; b."``"""
    text = "; ".join(changes)
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
