"""Calendar files (RFC 5545), written by :mod:`newsletter.web.ics` as ``icalendar`` writes them.

Each event keeps its own time zone: its start is written with ``TZID`` and the file
holds that zone's ``VTIMEZONE`` (made from the system's zone data for the years the
events span). A time written with a bare offset has no zone to name and is written
in UTC. An event without an end lasts ``event_length`` minutes (``newsletter.yaml``),
or is an all-day entry on its day when that is 0.

Every event's ``UID`` is its lasting identity (:mod:`newsletter.issue.events`), so a
rebuild, a corrected time or the same event in next month's issue updates one entry in
a reader's calendar instead of adding another. ``SEQUENCE`` counts the event's published
revisions and ``DTSTAMP`` / ``LAST-MODIFIED`` say when the current one was published
(both kept in ``published.json``, :mod:`newsletter.web.state`): that is what makes a
calendar app replace what it holds. The first revision's stamp is its issue's date, so
the same input gives the same bytes.

Each event is written once, and every file that holds it (its own, its
issue's, ``calendar.ics``) is put together from those bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.issue.model import Event
from newsletter.web import ics

PRODID = "-//newsletter//web edition//EN"
_END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True, slots=True)
class CalEvent:
    """What a calendar entry is made of: an event with its identity, as plain values."""

    id: str
    title: str
    start: dt.datetime
    end: dt.datetime | None
    place: str
    signup: str | None

    @classmethod
    def of(cls, event_id: str, event: Event) -> CalEvent:
        return cls(event_id, event.title, event.start, event.end, event.place, event.signup)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "start": _moment(self.start),
            "end": _moment(self.end),
            "place": self.place,
            "signup": self.signup,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CalEvent:
        start = _from_moment(data["start"])
        assert start is not None
        return cls(data["id"], data["title"], start, _from_moment(data["end"]), data["place"], data["signup"])

    @property
    def digest(self) -> str:
        """What a reader's calendar shows of it: a change here is a new revision."""
        text = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _moment(moment: dt.datetime | None) -> list[str] | None:
    """A moment as (ISO time, zone key or "")."""
    if moment is None:
        return None
    return [moment.isoformat(), getattr(moment.tzinfo, "key", "")]


def _from_moment(value: list[str] | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value[0])
    return moment.astimezone(ZoneInfo(value[1])) if value[1] else moment


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One published event with everything its calendar entry needs."""

    uid: str
    event: CalEvent
    page_url: str
    stamp: dt.datetime
    """When this revision was published (UTC)."""
    sequence: int = 0
    modified: bool = False
    """Whether this is a later revision (then ``LAST-MODIFIED`` is written, the stamp's time)."""
    length: int = 60
    """Minutes it lasts when it has no end; 0: all day."""
    data: bytes = field(default=b"", compare=False)

    @property
    def all_day(self) -> bool:
        return self.event.end is None and self.length == 0

    @property
    def ends(self) -> dt.datetime:
        if self.event.end is not None:
            return self.event.end
        start = self.event.start
        try:
            if self.length:
                return (start + dt.timedelta(minutes=self.length)).astimezone(start.tzinfo)
            return dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(0, 0), start.tzinfo)
        except OverflowError:  # an event in the last hour of 9999: it ends with the calendar
            return dt.datetime.combine(dt.date.max, dt.time(23, 59, 59), start.tzinfo)


@lru_cache(maxsize=64)
def _vtimezone(key: str, first: dt.date, last: dt.date) -> bytes:
    """The VTIMEZONE of an IANA zone for the years ``first``–``last``, from the system's zone
    data (made once per run: a site's calendar files mostly share a zone and a year)."""
    return ics.vtimezone(key, first, last)


def _zoned(moment: dt.datetime) -> dt.datetime:
    """The moment in its IANA zone, or in UTC when it has only an offset."""
    return moment if isinstance(moment.tzinfo, ZoneInfo) else moment.astimezone(dt.timezone.utc)


def vevent(item: CalendarEntry) -> bytes:
    """The entry's VEVENT (escaping, folding, TZID: see :mod:`newsletter.web.ics`)."""
    event = item.event
    place = "Online" if event.place == "online" else event.place
    lines = []
    if event.signup:
        lines.append(f"Sign up: {event.signup}")
    lines.append(f"From the newsletter: {item.page_url}")
    if item.all_day:
        start: dt.date = event.start.date()
        end: dt.date = item.ends.date()
    else:
        start, end = _zoned(event.start), _zoned(item.ends)
    return ics.vevent(
        uid=item.uid,
        stamp=item.stamp,
        modified=item.modified,
        sequence=item.sequence,
        start=start,
        end=end,
        summary=event.title,
        location=place,
        description="\n".join(lines),
        url=event.signup or item.page_url,
    )


@lru_cache(maxsize=256)
def _header(name: str | None) -> bytes:
    return ics.calendar_header(PRODID, name)


def calendar_file(items: Iterable[CalendarEntry], name: str | None = None) -> bytes:
    """A VCALENDAR of ``items`` (in the order given), with the VTIMEZONE of every zone used."""
    zones: set[str] = set()
    years: list[int] = []
    events: list[bytes] = []
    for item in items:
        events.append(item.data or vevent(item))
        if item.all_day:
            continue
        for moment in (item.event.start, item.ends):
            years.append(moment.year)
            if isinstance(moment.tzinfo, ZoneInfo):
                zones.add(moment.tzinfo.key)
    parts = [_header(name)]
    if years:
        # the zone's rules to the start of the year after the last; there is none after 9999,
        # so then to the start of 9999, from a year before at the latest (rules to extend)
        last = dt.date(min(max(years) + 1, dt.MAXYEAR), 1, 1)
        first = dt.date(min(min(years), last.year - 1), 1, 1)
        parts += [_vtimezone(key, first, last) for key in sorted(zones)]
    return b"".join([*parts, *events, _END])


def in_order(items: Iterable[CalendarEntry]) -> list[CalendarEntry]:
    """Soonest first."""
    return sorted(items, key=lambda i: (i.event.start, i.uid))
