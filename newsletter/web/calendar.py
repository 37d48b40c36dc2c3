"""Calendar files (RFC 5545) with the ``icalendar`` package.

Each event keeps its own time zone: its start is written with ``TZID`` and the file
holds that zone's ``VTIMEZONE`` (made from the system's zone data for the years the
events span). A time written with a bare offset has no zone to name and is written
in UTC. Every event's ``UID`` is made from the issue's slug and the event's number
(:func:`newsletter.web.names.event_uid`), so a rebuild, or a corrected time, updates
the event in a reader's calendar instead of adding another. ``DTSTAMP`` is the issue's
date, not the time of the build: the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

from newsletter.issue.model import Event

PRODID = "-//newsletter//web edition//EN"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One event of one issue, with everything its calendar entry needs."""

    uid: str
    event: Event
    issue_date: dt.date
    page_url: str

    @property
    def ends(self) -> dt.datetime:
        return self.event.end or self.event.start


@lru_cache(maxsize=64)
def _vtimezone(key: str, first: dt.date, last: dt.date) -> icalendar.Timezone:
    """The VTIMEZONE of an IANA zone for the years ``first``–``last``, from the system's zone
    data (made once per run: a site's calendar files mostly share a zone and a year)."""
    return icalendar.Timezone.from_tzinfo(ZoneInfo(key), tzid=key, first_date=first, last_date=last)


def _zoned(moment: dt.datetime) -> dt.datetime:
    """The moment in its IANA zone, or in UTC when it has only an offset."""
    return moment if isinstance(moment.tzinfo, ZoneInfo) else moment.astimezone(dt.timezone.utc)


def _vevent(item: CalendarEvent) -> icalendar.Event:
    event = item.event
    place = "Online" if event.place == "online" else event.place
    lines = []
    if event.signup:
        lines.append(f"Sign up: {event.signup}")
    lines.append(f"From the newsletter: {item.page_url}")
    vevent = icalendar.Event()
    vevent.add("uid", item.uid)
    vevent.add("dtstamp", dt.datetime.combine(item.issue_date, dt.time(0, 0), dt.timezone.utc))
    vevent.add("dtstart", _zoned(event.start))
    if event.end is not None:
        vevent.add("dtend", _zoned(event.end))
    vevent.add("summary", event.title)
    vevent.add("location", place)
    vevent.add("description", "\n".join(lines))
    vevent.add("url", event.signup or item.page_url)
    return vevent


def calendar_file(items: Iterable[CalendarEvent], name: str | None = None) -> bytes:
    """A VCALENDAR of ``items`` (in the order given), with the VTIMEZONE of every zone used."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
    zones: set[str] = set()
    years: list[int] = []
    for item in items:
        cal.add_component(_vevent(item))
        for moment in (item.event.start, item.ends):
            years.append(moment.year)
            if isinstance(moment.tzinfo, ZoneInfo):
                zones.add(moment.tzinfo.key)
    if years:
        # the zone's rules to the start of the year after the last; there is none after 9999,
        # so then to the start of 9999, from a year before at the latest (rules to extend)
        last = dt.date(min(max(years) + 1, dt.MAXYEAR), 1, 1)
        first = dt.date(min(min(years), last.year - 1), 1, 1)
        cal.subcomponents[:0] = [_vtimezone(key, first, last) for key in sorted(zones)]
    data: bytes = cal.to_ical()
    return data


def upcoming(items: Iterable[CalendarEvent], now: dt.datetime) -> list[CalendarEvent]:
    """The events that have not ended by ``now``, soonest first."""
    return sorted((i for i in items if i.ends >= now), key=lambda i: (i.event.start, i.uid))
