"""Dates and times written out the way a reader says them (British English)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Zones whose readers have a friendlier name than the abbreviation.
_ZONE_NAMES = {"Europe/London": "UK time", "Europe/Belfast": "UK time"}


_LOCALE: ContextVar[str | None] = ContextVar("date_locale", default=None)
"""The locale of the render under way (an issue in several languages), else None: the
templates' ``long_date`` and ``when`` filters read it, so their signatures (and compiled
templates kept in the cache) stay as they are."""


@contextmanager
def written_in(locale: str | None) -> Iterator[None]:
    """Dates written by :func:`long_date` and :func:`when` in ``locale`` meanwhile."""
    reset = _LOCALE.set(locale)
    try:
        yield
    finally:
        _LOCALE.reset(reset)


def long_date(day: dt.date) -> str:
    """14 June 2024 (in the language of :func:`written_in`, when one is given)"""
    locale = _LOCALE.get()
    if locale is not None and not _english(locale):
        return long_date_in(day, locale)
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
    """Monday 1 July 2024, 12:00–13:00 (UK time) (in the language of :func:`written_in`)"""
    locale = _LOCALE.get()
    if locale is not None and not _english(locale):
        return when_in(start, end, locale)
    text = f"{start:%A} {start.day} {start:%B %Y}, {start:%H:%M}"
    if end is not None:
        if end.date() == start.date():
            text += f"–{end:%H:%M}"
        else:
            text += f" to {end:%A} {end.day} {end:%B %Y}, {end:%H:%M}"
    return f"{text} ({zone_label(start)})"


# --- in a reader's language (an issue in several languages), through Babel's CLDR data ---


def _english(locale: str) -> bool:
    return locale.replace("_", "-").split("-", 1)[0].lower() == "en"


def long_date_in(day: dt.date, locale: str) -> str:
    """14 June 2024; 14 Mehefin 2024 in Welsh (each language's own long date)."""
    if _english(locale):
        return long_date(day)
    from babel.dates import format_date

    return str(format_date(day, "long", locale=locale.replace("-", "_")))


def when_in(start: dt.datetime, end: dt.datetime | None, locale: str) -> str:
    """Dydd Llun, 1 Gorffennaf 2024, 12:00–13:00 (Amser Haf Prydain)"""
    if _english(locale):
        return when(start, end)
    from babel.dates import format_date, format_time, get_timezone_name

    code = locale.replace("-", "_")
    text = f"{format_date(start, 'full', locale=code)}, {format_time(start, 'HH:mm', locale=code)}"
    if end is not None:
        if end.date() == start.date():
            text += f"–{format_time(end, 'HH:mm', locale=code)}"
        else:
            text += f" – {format_date(end, 'full', locale=code)}, {format_time(end, 'HH:mm', locale=code)}"
    zone = get_timezone_name(start, "long", locale=code) if getattr(start.tzinfo, "key", None) else zone_label(start)
    return f"{text} ({zone})"
