"""Dates and times written out the way a reader says them (British English)."""

from __future__ import annotations

import datetime as dt

# Zones whose readers have a friendlier name than the abbreviation.
_ZONE_NAMES = {"Europe/London": "UK time", "Europe/Belfast": "UK time"}


def long_date(day: dt.date) -> str:
    """14 June 2024"""
    return f"{day.day} {day:%B %Y}"


def zone_label(moment: dt.datetime) -> str:
    """UK time; CEST for a named zone; UTC-04:00 for a bare offset."""
    key = getattr(moment.tzinfo, "key", None)
    if key in _ZONE_NAMES:
        return _ZONE_NAMES[key]
    if key:
        return moment.strftime("%Z")
    offset = moment.utcoffset() or dt.timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"UTC{'-' if offset < dt.timedelta(0) else '+'}{minutes // 60:02d}:{minutes % 60:02d}"


def when(start: dt.datetime, end: dt.datetime | None = None) -> str:
    """Monday 1 July 2024, 12:00–13:00 (UK time)"""
    text = f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}"
    if end is not None:
        if end.date() == start.date():
            text += f"–{end:%H:%M}"
        else:
            text += f" to {end:%A} {end.day} {end:%B %Y}, {end:%H:%M}"
    return f"{text} ({zone_label(start)})"
