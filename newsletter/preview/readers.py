"""Whom the preview can show an issue as: a sample reader and people from ``subscribers.csv``.

The people are those :func:`newsletter.audience.eligible` yields for the issue (the ones
a send reaches), so the picker offers exactly who would get it.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from newsletter.audience import Subscriber, eligible
from newsletter.delivery.headers import mailbox
from newsletter.issue.model import Audience

if TYPE_CHECKING:
    from newsletter.preview.site import IssueBuild


MAX_READERS = 100
"""The picker offers at most this many people from the list (the first eligible ones)."""

SAMPLE = Subscriber("sam.sample@example.org", "Sam", "Sample", "subscribed", (), MappingProxyType({}), 0)
"""Who the email is shown as until someone is picked (not a real subscriber)."""


def key_of(reader: Subscriber) -> str:
    """A stable key for the picker: the list line (addresses stay out of URLs)."""
    return "sample" if reader is SAMPLE else f"line-{reader.line}"


def label_of(reader: Subscriber) -> str:
    name = f"{reader.first_name} {reader.last_name}".strip()
    if reader is SAMPLE:
        return f"Sample reader ({name})"
    return mailbox(name, reader.email)


def eligible_readers(list_path: Path, audience: Audience, limit: int = MAX_READERS) -> list[Subscriber]:
    """The first ``limit`` people the issue goes to, in list order (InputError for a bad list)."""
    people = eligible(list_path, audience)
    try:
        return list(islice(people, limit))
    finally:
        close = getattr(people, "close", None)
        if close is not None:
            close()


def reader_language(build: IssueBuild, reader_key: str) -> str:
    """The language a reader picked in "view as" gets (their list's ``language``), for an
    issue in several languages; "" otherwise (then the issue's default)."""
    issue_file = build.issue_file
    if issue_file is None or not issue_file.languages or reader_key == "sample":
        return ""
    reader = next((r for r in build.readers if key_of(r) == reader_key), None)
    if reader is None:
        return ""
    from newsletter.delivery.languages import COLUMN, chooser

    return chooser(issue_file.languages, issue_file.languages[0])(reader.fields.get(COLUMN, ""))[0]
