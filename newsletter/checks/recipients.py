"""The recipient a check personalises the email for: the longest value of each field.

Checks look at the email as the reader who makes it largest would get it: every
merge field filled with the longest value any eligible subscriber has (the email
is measured after personalisation, and Gmail clips at 102 KB). The list is read
once, streamed, with the stdlib ``csv`` module; rows whose name or address could
break a header (CR/LF) are noted on the way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.errors import InputError, Problem, display_path
from newsletter.issue.model import Audience
from newsletter.render.personalize import recipient_values
from newsletter.settings import Settings

# Opaque unsubscribe tokens are about this long (32 random bytes, URL-safe base64).
SAMPLE_TOKEN = "x" * 43
STANDARD = ("email", "first_name", "last_name", "status", "tags")
HEADER_FIELDS = ("email", "first_name", "last_name")


@dataclass(frozen=True, slots=True)
class Subscriber:
    email: str
    first_name: str
    last_name: str
    status: str
    tags: frozenset[str]
    fields: dict[str, str]
    line: int


@dataclass
class Sample:
    """The composite longest recipient and what was learnt reading the list."""

    values: dict[str, str]
    source: str  # how the values were chosen, for the report
    list_file: str | None = None
    eligible: int = 0
    bad_header_rows: list[tuple[Subscriber, str]] = field(default_factory=list)


def _tags(raw: str) -> frozenset[str]:
    if not raw:
        return frozenset()
    return frozenset(t.strip() for t in raw.replace(",", ";").split(";") if t.strip())


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def read_subscribers(path: Path) -> Iterator[Subscriber]:
    """Every row of the list, with the line it starts on."""
    name = display_path(path)
    start = 1
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            columns = [_key(c) for c in next(reader, [])]
            if "email" not in columns:
                raise InputError(
                    Problem(name, 1, None, "email", "the list has no 'email' column",
                            "the first line must name the columns, e.g. email,first_name,last_name")
                )
            at = {column: i for i, column in reversed(list(enumerate(columns)))}
            std = [at.get(column) for column in ("email", "first_name", "last_name", "status", "tags")]
            extra = [(column, i) for i, column in enumerate(columns) if column not in STANDARD and column]
            start = reader.line_num + 1
            for row in reader:
                width = len(row)
                email, first, last, status, tags = (
                    row[i] if i is not None and i < width else "" for i in std
                )
                yield Subscriber(
                    email=email.strip(),
                    first_name=first,
                    last_name=last,
                    status=status.strip().lower() or "subscribed",
                    tags=_tags(tags),
                    fields={column: row[i] if i < width else "" for column, i in extra},
                    line=start,
                )
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise InputError(Problem(name, None, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    except csv.Error as exc:
        raise InputError(
            Problem(name, start, None, "", f"not a readable CSV file: {exc}",
                    "check the quotes in this row: a value with a comma or line break is quoted, "
                    "and a quote inside it is doubled")
        ) from None
    except OSError as exc:
        raise InputError(Problem(name, None, None, "", f"cannot read: {exc.strerror}")) from None


def eligible(path: Path, audience: Audience) -> Iterator[Subscriber]:
    """Subscribed rows in the issue's audience (tags, exclude_tags)."""
    wanted, excluded = set(audience.tags), set(audience.exclude_tags)
    for sub in read_subscribers(path):
        if sub.status != "subscribed" or not sub.email:
            continue
        if wanted and not (sub.tags & wanted):
            continue
        if sub.tags & excluded:
            continue
        yield sub


class _Longest:
    """The longest value seen per field, measured in UTF-8 bytes (what the HTML grows by)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self._sizes: dict[str, int] = {}

    def offer(self, name: str, value: str) -> None:
        best = self._sizes.get(name, -1)
        if len(value) * 4 <= best:  # a character is at most 4 bytes: cannot be longer
            return
        size = len(value.encode("utf-8"))
        if size > best:
            self.values[name], self._sizes[name] = value, size


def sample_recipient(settings: Settings, audience: Audience, list_path: Path | None) -> Sample:
    """The longest value of each field among the eligible subscribers of ``list_path``."""
    unsubscribe = settings.unsubscribe_url.replace("{token}", SAMPLE_TOKEN)
    domain = settings.from_.email.rsplit("@", 1)[-1]
    if list_path is None or not list_path.is_file():
        values = recipient_values(
            email=f"subscriber@{domain}", unsubscribe_url=unsubscribe,
            fallback_first_name=settings.fallback_first_name,
        )
        shown = display_path(list_path) if list_path else "subscribers.csv"
        return Sample(values, f"no subscriber list at {shown}: a sample recipient")
    sample = Sample({}, "", list_file=display_path(list_path))
    found = _Longest()
    bad = sample.bad_header_rows
    for sub in eligible(list_path, audience):
        sample.eligible += 1
        for name, value in (("email", sub.email), ("first_name", sub.first_name), ("last_name", sub.last_name)):
            if ("\n" in value or "\r" in value) and len(bad) < 20:
                bad.append((sub, name))
            found.offer(name, value)
        for name, value in sub.fields.items():
            found.offer(name, value)
    longest = {"email": f"subscriber@{domain}", "first_name": "", "last_name": "", **found.values}
    extra = {k: v for k, v in longest.items() if k not in HEADER_FIELDS}
    sample.values = recipient_values(
        email=longest["email"],
        first_name=longest["first_name"],
        last_name=longest["last_name"],
        unsubscribe_url=unsubscribe,
        fallback_first_name=settings.fallback_first_name,
        extra=extra,
    )
    sample.source = (
        f"the longest values of {sample.eligible} eligible subscriber(s) in {sample.list_file}"
        if sample.eligible
        else f"no eligible subscribers in {sample.list_file}: a sample recipient"
    )
    return sample
