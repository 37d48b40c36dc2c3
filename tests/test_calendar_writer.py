"""The plain iCalendar writer (newsletter/web/ics.py) against its twin, the ``icalendar``
package: the same bytes for the same entry, on varied input.

The web edition writes its calendar files without icalendar (importing and running it was a
tenth of a cold publish); these tests are what lets it: every zone there is, years from 1850
to 9999, stamps in UTC and in other zones, all-day entries, and text holding every character
that is escaped or that folding must not split (commas, semicolons, backslashes, line breaks
of three kinds, ``^``, multi-byte letters and emoji, long runs that fold many times).
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

import icalendar
import pytest

from newsletter.web import ics

ZONES = sorted(zoneinfo.available_timezones())
LETTERS = list('ab ,;\\\n\r^:"é€😀ÿ\tN') + ["\r\n", "\\N", "\\\\", "^^"]
"""Pieces of text: the characters escaping and folding treat specially, and plain ones."""


def words(rnd: random.Random, most: int) -> str:
    return "".join(rnd.choice(LETTERS) for _ in range(rnd.randint(0, most)))


def by_icalendar(entry: dict[str, Any]) -> bytes:
    """The VEVENT as the icalendar package writes it (what the web edition did before)."""
    component = icalendar.Event()
    component.add("uid", entry["uid"])
    component.add("dtstamp", entry["stamp"])
    if entry["modified"]:
        component.add("last-modified", entry["stamp"])
    component.add("sequence", entry["sequence"])
    component.add("dtstart", entry["start"])
    component.add("dtend", entry["end"])
    component.add("summary", entry["summary"])
    component.add("location", entry["location"])
    component.add("description", entry["description"])
    component.add("url", entry["url"])
    data: bytes = component.to_ical()
    return data


def entries(rnd: random.Random, zone: zoneinfo.ZoneInfo) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for year in (1850, 1970, 2016, 2024, 2038, 9998):
        moment = dt.datetime(
            year, rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23), rnd.choice([0, 15, 30]), tzinfo=zone
        )
        until = moment + dt.timedelta(minutes=rnd.choice([30, 60, 24 * 60 + 5]))
        if rnd.random() < 0.2:
            moment, until = moment.astimezone(dt.timezone.utc), until.astimezone(dt.timezone.utc)
        start: dt.date = moment
        end: dt.date = until
        if rnd.random() < 0.2:  # all day
            start, end = moment.date(), moment.date() + dt.timedelta(days=1)
        text = words(rnd, 120)
        out.append(
            {
                "uid": f"{year}-{words(rnd, 8)}@example.org",
                "stamp": dt.datetime(2020, 3, 29, rnd.randint(0, 23), tzinfo=rnd.choice([dt.timezone.utc, zone])),
                "modified": rnd.random() < 0.5,
                "sequence": rnd.randint(0, 12),
                "start": start,
                "end": end,
                "summary": text,
                "location": text[::-1],
                "description": text * rnd.randint(1, 3),
                "url": "https://example.org/" + "".join(rnd.choice("az,;é%?&=") for _ in range(rnd.randint(0, 90))),
            }
        )
    return out


@pytest.mark.parametrize("part", range(4))
def test_an_event_is_written_as_icalendar_writes_it_in_every_zone(part: int) -> None:
    rnd = random.Random(part)
    compared = 0
    for key in ZONES[part::4]:
        for entry in entries(rnd, zoneinfo.ZoneInfo(key)):
            assert ics.vevent(**entry) == by_icalendar(entry), (key, entry)
            compared += 1
    assert compared >= 6 * (len(ZONES) // 4)


@pytest.mark.parametrize(
    "line",
    [
        "DESCRIPTION:" + "a" * 62,
        "DESCRIPTION:" + "a" * 63,
        "DESCRIPTION:" + "a" * 200,
        "SUMMARY:" + "é" * 70,
        "SUMMARY:" + "😀" * 40,
        "SUMMARY:" + "a" * 65 + "\\\\" + "b" * 30,
        "SUMMARY:" + "a" * 65 + "^^" + "b",
        "SUMMARY:" + "a" * 66 + "\\n" + "b" * 80,
        "X:\\" + "a" * 100,
    ],
)
def test_lines_fold_where_icalendar_folds_them(line: str) -> None:
    from icalendar.parser.string import _foldline

    assert ics.fold(line) == _foldline(line)


def test_lines_of_every_length_fold_where_icalendar_folds_them() -> None:
    from icalendar.parser.string import _foldline

    for length in range(60, 240):
        for at in (length - 1, length // 2, 73, 74, 75, 147, 148):
            for mark in ("\\", "^", "é", "\\\\", "^^"):
                line = "a" * length
                line = line[:at] + mark + line[at:]
                assert ics.fold(line) == _foldline(line), (length, at, mark)


def test_text_is_escaped_as_icalendar_escapes_it() -> None:
    rnd = random.Random(7)
    for _ in range(2000):
        value = words(rnd, 30)
        assert ics.text(value) == icalendar.vText(value).to_ical().decode("utf-8"), repr(value)


@pytest.mark.parametrize(
    "key",
    [
        *ZONES[::9],
        "Europe/London",
        "America/New_York",
        "Australia/Lord_Howe",
        "Pacific/Apia",
        "Pacific/Kiritimati",
        "Africa/Casablanca",
        "America/Sao_Paulo",
        "Asia/Kolkata",
        "Antarctica/Troll",
        "UTC",
        "Etc/GMT+5",
    ],
)
def test_a_zone_is_written_as_icalendar_writes_it(key: str) -> None:
    rnd = random.Random(key)
    first = rnd.choice([1850, 1900, 1970, 2016, 2024])
    spans = [
        (dt.date(first, 1, 1), dt.date(first + rnd.randint(1, 30), 1, 1)),
        (dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
        (dt.date(9998, 1, 1), dt.date(9999, 1, 1)),
    ]
    for begin, end in spans:
        expected = icalendar.Timezone.from_tzinfo(zoneinfo.ZoneInfo(key), tzid=key, first_date=begin, last_date=end).to_ical()
        assert ics.vtimezone(key, begin, end) == expected, (key, begin, end)


@pytest.mark.parametrize("name", [None, "", "Co-Production Collective", "News, views; and\\ more", "é" * 80])
def test_the_calendar_header_is_written_as_icalendar_writes_it(name: str | None) -> None:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//newsletter//web edition//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
    whole = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert whole.endswith(end)
    assert ics.calendar_header("-//newsletter//web edition//EN", name) == whole[: -len(end)]


def test_the_zones_taken_for_utc_are_those_icalendar_takes_for_utc() -> None:
    from icalendar.timezone.tzid import tzid_from_dt

    moment = dt.datetime(2024, 7, 1, 12, 0)
    taken = {key for key in ZONES if tzid_from_dt(moment.replace(tzinfo=zoneinfo.ZoneInfo(key))) == "UTC"}
    assert taken == {key for key in ics.UTC_ZONES if key in ZONES}
