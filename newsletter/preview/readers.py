"""Whom the preview can show an issue as: a sample reader and people from ``subscribers.csv``.

Until ``newsletter.audience`` is on main this reads the list itself with the standard
library's csv module (a stand-in for ``newsletter.audience.eligible``, with the same
:class:`Subscriber` shape, so swapping it is a one-line change).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.issue.model import Audience

LIST_FILE = "subscribers.csv"
MAX_READERS = 100
"""The picker offers at most this many people from the list (the first eligible ones)."""

_KNOWN = {"email", "first_name", "last_name", "status", "tags"}


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One person on the list (the shape of ``newsletter.audience.Subscriber``)."""

    email: str
    first_name: str
    last_name: str
    status: str
    tags: tuple[str, ...]
    fields: Mapping[str, str] = field(default_factory=dict)
    line: int = 0


SAMPLE = Subscriber("sam.sample@example.org", "Sam", "Sample", "subscribed", (), {}, 0)
"""Who the email is shown as until someone is picked (not a real subscriber)."""


def key_of(reader: Subscriber) -> str:
    """A stable key for the picker: the list line (addresses stay out of URLs)."""
    return "sample" if reader is SAMPLE else f"line-{reader.line}"


def address(name: str, email: str) -> str:
    """``Name <email>`` as a mail header shows it once decoded (quoted where it must be)."""
    if not name:
        return email
    if any(c in name for c in '()<>[]:;@\\,."'):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{email}>"


def label_of(reader: Subscriber) -> str:
    name = f"{reader.first_name} {reader.last_name}".strip()
    if reader is SAMPLE:
        return f"Sample reader ({name})"
    return address(name, reader.email)


def _tags(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strip().lower() for t in raw.split(";") if t.strip()))


def _matches(tags: tuple[str, ...], audience: Audience) -> bool:
    wanted = {t.strip().lower() for t in audience.tags}
    unwanted = {t.strip().lower() for t in audience.exclude_tags}
    return (not wanted or not wanted.isdisjoint(tags)) and unwanted.isdisjoint(tags)


def eligible_readers(list_path: Path, audience: Audience, limit: int = MAX_READERS) -> list[Subscriber]:
    """The first ``limit`` subscribed people the issue goes to, in list order, each address once.

    Raises OSError, UnicodeDecodeError or csv.Error for a list that cannot be read.
    """
    out: list[Subscriber] = []
    seen: set[str] = set()
    with list_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = csv.DictReader(fh)
        for row in rows:
            cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
            email = cells.get("email", "")
            if "@" not in email or email.lower() in seen:
                continue
            seen.add(email.lower())
            tags = _tags(cells.get("tags", ""))
            if (cells.get("status") or "subscribed").lower() != "subscribed" or not _matches(tags, audience):
                continue
            extra = {k: v for k, v in cells.items() if k not in _KNOWN}
            out.append(
                Subscriber(email, cells.get("first_name", ""), cells.get("last_name", ""),
                           "subscribed", tags, extra, rows.line_num)
            )
            if len(out) >= limit:
                break
    return out
