"""iCalendar text (RFC 5545) written plainly: the calendar's header, an event's VEVENT and
a zone's VTIMEZONE, byte for byte as the ``icalendar`` package writes them.

Importing and running ``icalendar`` was a tenth of a cold publish's CPU time for the few
properties a calendar entry has. What it does for them is small and written here:
property order (its canonical order, then the rest by name), TEXT escaping, folding at
75 octets (never after a lone backslash), UTC for the stamps, ``TZID`` for zoned times,
``VALUE=DATE`` for all-day entries, and a VTIMEZONE from the zone's transitions found by
the same search (coarse steps, then finer). ``tests/test_calendar_writer.py`` holds every
function here equal to ``icalendar`` on varied input (every zone, years from 1850 to 9999,
text with every character that is escaped or folded); the tests that read the site's
calendar files still parse them with ``icalendar``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

FOLD_AT = 75
"""Octets of a content line before it is folded."""

UTC_ZONES = frozenset(
    """Africa/Abidjan Africa/Accra Africa/Bamako Africa/Banjul Africa/Conakry Africa/Dakar
    Africa/Freetown Africa/Lome Africa/Nouakchott Africa/Ouagadougou Africa/Timbuktu
    Atlantic/Reykjavik Atlantic/St_Helena Etc/GMT Etc/GMT+0 Etc/GMT-0 Etc/GMT0 Etc/Greenwich
    Etc/UCT Etc/UTC Etc/Universal Etc/Zulu GMT GMT+0 GMT-0 GMT0 Greenwich Iceland UCT UTC
    Universal Zulu""".split()
)
"""Zones ``icalendar`` takes for UTC: a time in one is written with ``Z``, without ``TZID``."""

_EVENT_ORDER = (
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DURATION",
    "DTSTAMP",
    "UID",
    "RECURRENCE-ID",
    "SEQUENCE",
    "RRULE",
    "RDATE",
    "EXDATE",
)
_STEPS = [dt.timedelta(days=d) for d in (64, 32, 16, 8, 4, 2, 1)] + [
    dt.timedelta(hours=4),
    dt.timedelta(hours=1),
    dt.timedelta(minutes=20),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=1),
    dt.timedelta(seconds=20),
    dt.timedelta(seconds=5),
    dt.timedelta(seconds=1),
]
"""The steps a zone's transitions are searched with: as far as the offset stays, then finer."""


def text(value: str) -> str:
    """A TEXT value escaped: backslash, ``;``, ``,`` and line breaks (``\\N`` read as one)."""
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """``line`` folded (CRLF and a space) before it reaches :data:`FOLD_AT` octets; an escape's
    backslash (or ``^``) is never left at the end of a line."""
    if line.isascii():  # one octet a character: lines of FOLD_AT - 1 characters
        if len(line) < FOLD_AT:
            return line
        chunks = []
        begin = 0
        while len(line) - begin >= FOLD_AT:
            end = begin + FOLD_AT - 1
            if line[end - 1] in "\\^" and end - begin > 1:
                end -= 1
            chunks.append(line[begin:end])
            begin = end
        chunks.append(line[begin:])
        return "\r\n ".join(chunks)
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if current and size + width >= FOLD_AT:
            carried = current.pop() if len(current) > 1 and current[-1] in "\\^" else ""
            parts.append("".join(current))
            current = [carried] if carried else []
            size = len(carried.encode("utf-8"))
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return "\r\n ".join(parts)


def _stamp(moment: dt.datetime) -> str:
    return f"{moment.year:04}{moment.month:02}{moment.day:02}T{moment.hour:02}{moment.minute:02}{moment.second:02}"


def _utc(moment: dt.datetime) -> str:
    """A stamp (DTSTAMP, LAST-MODIFIED): in UTC, as the RFC asks (a naive time is taken as UTC)."""
    at = moment.astimezone(dt.timezone.utc) if moment.tzinfo is not None else moment
    return _stamp(at) + "Z"


def _is_utc(moment: dt.datetime) -> bool:
    zone = moment.tzinfo
    if zone is dt.timezone.utc:
        return True
    if isinstance(zone, ZoneInfo):
        return zone.key in UTC_ZONES
    return zone is not None and zone.tzname(moment) == "UTC"


def _moment(name: str, moment: dt.date) -> str:
    """A DTSTART or DTEND line's name, parameters and value."""
    if not isinstance(moment, dt.datetime):
        return f"{name};VALUE=DATE:{moment.year:04}{moment.month:02}{moment.day:02}"
    if moment.tzinfo is None:
        return f"{name}:{_stamp(moment)}"
    if _is_utc(moment):
        return f"{name}:{_stamp(moment)}Z"
    if not isinstance(moment.tzinfo, ZoneInfo):
        raise ValueError(f"no zone name for {moment!r}: give it a ZoneInfo zone or UTC")
    return f"{name};TZID={moment.tzinfo.key}:{_stamp(moment)}"


def _lines(lines: Iterable[str]) -> bytes:
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def vevent(
    *,
    uid: str,
    stamp: dt.datetime,
    modified: bool,
    sequence: int,
    start: dt.date,
    end: dt.date,
    summary: str,
    location: str,
    description: str,
    url: str,
) -> bytes:
    """One VEVENT: ``start``/``end`` dates (all day) or times (UTC, or zoned by a ZoneInfo)."""
    named = {
        "SUMMARY": f"SUMMARY:{text(summary)}",
        "DTSTART": _moment("DTSTART", start),
        "DTEND": _moment("DTEND", end),
        "DTSTAMP": f"DTSTAMP:{_utc(stamp)}",
        "UID": f"UID:{text(uid)}",
        "SEQUENCE": f"SEQUENCE:{sequence}",
        "DESCRIPTION": f"DESCRIPTION:{text(description)}",
        "LOCATION": f"LOCATION:{text(location)}",
        "URL": f"URL:{url}",
    }
    if modified:
        named["LAST-MODIFIED"] = f"LAST-MODIFIED:{_utc(stamp)}"
    order = [n for n in _EVENT_ORDER if n in named] + sorted(n for n in named if n not in _EVENT_ORDER)
    return _lines(["BEGIN:VEVENT", *(named[n] for n in order), "END:VEVENT"])


def calendar_header(prodid: str, name: str | None) -> bytes:
    """A VCALENDAR's first lines, up to its first component."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{text(prodid)}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:  # icalendar writes these two as they are, unescaped
        lines += [f"NAME:{name}", f"X-WR-CALNAME:{name}"]
    return _lines(lines)


def _offset(delta: dt.timedelta) -> str:
    sign = "-" if delta < dt.timedelta(0) else "+"
    seconds = int(abs(delta).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02}{minutes:02}{seconds:02}" if seconds else f"{sign}{hours:02}{minutes:02}"


def _periods(
    zone: ZoneInfo, first: dt.date, last: dt.date
) -> dict[tuple[dt.timedelta | None, dt.timedelta, str, bool], list[dt.datetime]]:
    """Each kind of period of the zone (offset before, offset, name, standard or not) → the
    local times it starts at, from ``first`` to ``last``: found by stepping ahead as far as the
    offset stays the same, with ever smaller steps."""
    start = dt.datetime(first.year, first.month, first.day, tzinfo=zone)
    end_at = dt.datetime(last.year, last.month, last.day, tzinfo=zone)
    found: dict[tuple[dt.timedelta | None, dt.timedelta, str, bool], list[dt.datetime]] = {}
    offset: dt.timedelta | None = None
    while start < end_at:
        before = offset
        end = start
        offset = end.utcoffset()
        assert offset is not None
        for step in _STEPS:
            last_end = end
            end = end + step
            try:
                while end.utcoffset() == offset:
                    last_end = end
                    end = end + step
            except OverflowError:  # the zone's rules end with the calendar
                break
            end = last_end
        name = start.tzname() or str(offset)
        found.setdefault((before, offset, name, start.dst() == dt.timedelta()), []).append(start.replace(tzinfo=None))
        start = end + _STEPS[-1]
    return found


def vtimezone(key: str, first: dt.date, last: dt.date) -> bytes:
    """The VTIMEZONE of IANA zone ``key`` for times from ``first`` to ``last``."""
    lines = ["BEGIN:VTIMEZONE", f"TZID:{text(key)}", f"COMMENT:This timezone only works from {first} to {last}."]
    for (before, offset, name, standard), starts in _periods(ZoneInfo(key), first, last).items():
        begins = min(starts)
        starts.remove(begins)
        if begins.date() == last:
            begins = dt.datetime(last.year, last.month, last.day)
        kind = "STANDARD" if standard else "DAYLIGHT"
        lines += [f"BEGIN:{kind}", f"DTSTART:{_stamp(begins)}"]
        if starts:
            lines.append("RDATE:" + ",".join(_stamp(s) for s in starts))
        lines += [
            f"TZNAME:{text(name)}",
            f"TZOFFSETFROM:{_offset(before if before is not None else offset)}",
            f"TZOFFSETTO:{_offset(offset)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return _lines(lines)
