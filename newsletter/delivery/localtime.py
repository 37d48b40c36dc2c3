"""Local-time delivery: each reader's send time at one hour in their own zone.

``newsletter send ISSUE --at 09:00 --local`` schedules every reader's message for the
next 09:00 in their zone (the list's ``timezone`` column; the newsletter's ``timezone``
setting for a reader without one or with one that is not a zone). The plan is worked
out from a fixed moment, the send's start (the journal keeps it), so a resumed run gives
every reader the time the first run gave them.

The rules:

* The time is the first ``HH:MM`` in the reader's zone at or after the start (on or
  after the date, when ``--at`` names one). With ``--past now`` a reader whose ``HH:MM``
  of that day has already gone is sent at the start instead of the next day's.
* Clocks going forward skip a time (a *gap*): the reader's message goes as many minutes
  after the jump as the time was after the last minute before it (``01:30`` in a skipped
  hour 01:00–02:00 is sent at ``02:30``), the wall-clock reading ``HH:MM`` stands for with
  the offset of before the change (Python's ``fold=0``).
* Clocks going back repeat a time (a *fold*): the first of the two, in summer time.
* Every time must be within SendGrid's 72 hours of the start: a plan that is not is
  refused before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import UsageError

MAX_AHEAD = dt.timedelta(hours=72)
"""SendGrid schedules a message at most this far ahead."""
ZONE_COLUMNS = frozenset({"timezone", "tz"})
"""The list's column naming each reader's zone (an IANA name: ``Asia/Kathmandu``), its
header read as the list's known columns are: case, spaces, ``-`` and ``_`` ignored."""
_SQUASH = re.compile(r"[\s_\-]+")

Past = Literal["next", "now"]


@dataclass(frozen=True, slots=True)
class LocalRule:
    """``--at [DATE]THH:MM --local``: the hour (and optional first date) in each reader's zone."""

    at: dt.time
    date: dt.date | None
    past: Past
    default_zone: str

    @classmethod
    def parse(cls, text: str, past: Past, default_zone: str) -> LocalRule:
        """``09:00`` or ``2024-06-14T09:00`` (no zone: each reader's own)."""
        value = text.strip()
        try:
            if "T" in value or " " in value:
                when = dt.datetime.fromisoformat(value)
                if when.tzinfo is not None:
                    raise ValueError
                return cls(when.time().replace(microsecond=0), when.date(), past, default_zone)
            hour = dt.time.fromisoformat(value)
            if hour.tzinfo is not None:
                raise ValueError
            return cls(hour.replace(microsecond=0), None, past, default_zone)
        except ValueError:
            raise UsageError(
                f"--at '{text}' with --local is an hour in each reader's zone: 09:00, or a day and "
                "hour without a zone (2024-06-14T09:00)"
            ) from None

    @property
    def words(self) -> str:
        day = f" on or after {self.date.isoformat()}" if self.date is not None else ""
        then = "at the start of the send" if self.past == "now" else "the next day"
        return f"{self.at:%H:%M} in each reader's zone{day} (a reader whose {self.at:%H:%M} has gone: {then})"


def wall_time(zone: ZoneInfo, day: dt.date, at: dt.time) -> int:
    """``at`` on ``day`` in ``zone`` as Unix seconds, by the gap and fold rules above."""
    return int(dt.datetime.combine(day, at, tzinfo=zone).timestamp())  # fold=0: see the module docstring


def send_time(zone: ZoneInfo, rule: LocalRule, now: int) -> int:
    """A reader's send time in ``zone`` for a send started at ``now`` (Unix seconds)."""
    today = dt.datetime.fromtimestamp(now, zone).date()
    day = max(today, rule.date) if rule.date is not None else today
    when = wall_time(zone, day, rule.at)
    if when >= now:
        return when
    if rule.past == "now":
        return now
    while when < now:  # a gap can move a day's time past the next one's: step until it is ahead
        day += dt.timedelta(days=1)
        when = wall_time(zone, day, rule.at)
    return when


@lru_cache(maxsize=1024)
def zone_named(name: str) -> ZoneInfo | None:
    """The zone of an IANA name, or None when there is no such zone."""
    name = name.strip()
    if not name or name.startswith(("/", ".")) or ".." in name or "\\" in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@dataclass(slots=True)
class LocalPlan:
    """Each reader's send time, and what the editor is told about it."""

    rule: LocalRule
    now: int
    times: Counter[int] = field(default_factory=Counter)
    """Readers per send time."""
    zones: Counter[str] = field(default_factory=Counter)
    """Readers per zone (as named in the list, the default for the rest)."""
    unknown: list[tuple[int, str]] = field(default_factory=list)
    """(line, value) of each reader whose zone is not a zone: they get the default."""
    defaulted: int = 0
    """Readers without a zone (they get the default)."""
    column: str | None = None
    """The list's zone column, as its header names it (found on the first reader)."""

    def __post_init__(self) -> None:
        if zone_named(self.rule.default_zone) is None:
            raise UsageError(f"newsletter.yaml: timezone '{self.rule.default_zone}' is not a time zone")

    def when(self, fields: Mapping[str, str], line: int) -> int:
        """The send time of the reader on ``line`` of the list (``fields``: their merge columns)."""
        if self.column is None:
            self.column = next((k for k in fields if _SQUASH.sub("", k).lower() in ZONE_COLUMNS), "")
        name = fields.get(self.column, "").strip() if self.column else ""
        zone = zone_named(name) if name else None
        if zone is None:
            if name:
                self.unknown.append((line, name))
            else:
                self.defaulted += 1
            name = self.rule.default_zone
            zone = zone_named(name)
            assert zone is not None  # checked in __post_init__
        at = send_time(zone, self.rule, self.now)
        self.times[at] += 1
        self.zones[name] += 1
        return at

    @property
    def first(self) -> int:
        return min(self.times) if self.times else self.now

    @property
    def last(self) -> int:
        return max(self.times) if self.times else self.now

    def check(self) -> None:
        """Refuse a plan with a time past SendGrid's 72 hours (nothing is sent)."""
        limit = self.now + int(MAX_AHEAD.total_seconds())
        if self.last > limit:
            late = sum(n for at, n in self.times.items() if at > limit)
            last = dt.datetime.fromtimestamp(self.last, dt.timezone.utc)
            raise UsageError(
                f"--at with --local: {late} reader(s) would be sent more than 72 hours ahead "
                f"(the last at {last:%Y-%m-%d %H:%M} UTC), past SendGrid's limit; nothing was sent. "
                "Choose a day within the next two days"
            )


def plan(fields_and_lines: Iterable[tuple[Mapping[str, str], int]], rule: LocalRule, now: int) -> LocalPlan:
    """Every reader's send time (``fields_and_lines``: each reader's merge columns and line)."""
    found = LocalPlan(rule, now)
    for fields, line in fields_and_lines:
        found.when(fields, line)
    found.check()
    return found
