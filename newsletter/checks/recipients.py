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
    columns: frozenset[str] = frozenset()
    eligible: int = 0
    bad_header_rows: list[tuple[Subscriber, str]] = field(default_factory=list)


def _tags(raw: str) -> frozenset[str]:
    return frozenset(t.strip() for t in raw.replace(",", ";").split(";") if t.strip())


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def read_subscribers(path: Path) -> Iterator[Subscriber]:
    """Every row of the list, with the line it starts on."""
    name = display_path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = [_key(c) for c in reader.fieldnames or []]
            if "email" not in columns:
                raise InputError(
                    Problem(name, 1, None, "email", "the list has no 'email' column",
                            "the first line must name the columns, e.g. email,first_name,last_name")
                )
            start = reader.line_num + 1
            for row in reader:
                values = {_key(k): (v or "") for k, v in row.items() if k is not None}
                yield Subscriber(
                    email=values.get("email", "").strip(),
                    first_name=values.get("first_name", ""),
                    last_name=values.get("last_name", ""),
                    status=values.get("status", "subscribed").strip().lower() or "subscribed",
                    tags=_tags(values.get("tags", "")),
                    fields={k: v for k, v in values.items() if k not in STANDARD},
                    line=start,
                )
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise InputError(Problem(name, None, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    except csv.Error as exc:
        raise InputError(Problem(name, None, None, "", f"not a readable CSV file: {exc}")) from None
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


def _longer(current: str, candidate: str) -> bool:
    return len(candidate.encode("utf-8")) > len(current.encode("utf-8"))


def sample_recipient(settings: Settings, audience: Audience, list_path: Path | None) -> Sample:
    """The longest value of each field among the eligible subscribers of ``list_path``."""
    unsubscribe = settings.unsubscribe_url.replace("{token}", SAMPLE_TOKEN)
    domain = settings.from_.email.rsplit("@", 1)[-1]
    longest: dict[str, str] = {"email": f"subscriber@{domain}", "first_name": "", "last_name": ""}
    if list_path is None or not list_path.is_file():
        values = recipient_values(
            email=longest["email"], unsubscribe_url=unsubscribe,
            fallback_first_name=settings.fallback_first_name,
        )
        shown = display_path(list_path) if list_path else "subscribers.csv"
        return Sample(values, f"no subscriber list at {shown}: a sample recipient")
    sample = Sample({}, "", list_file=display_path(list_path))
    seen_email = False
    columns: set[str] = set()
    for sub in eligible(list_path, audience):
        sample.eligible += 1
        for name in HEADER_FIELDS:
            value = getattr(sub, name)
            if any(ch in value for ch in "\r\n") and len(sample.bad_header_rows) < 20:
                sample.bad_header_rows.append((sub, name))
        if not seen_email or _longer(longest["email"], sub.email):
            longest["email"] = sub.email
            seen_email = True
        for name in ("first_name", "last_name"):
            if _longer(longest[name], getattr(sub, name)):
                longest[name] = getattr(sub, name)
        for name, value in sub.fields.items():
            columns.add(name)
            if _longer(longest.get(name, ""), value):
                longest[name] = value
            else:
                longest.setdefault(name, "")
    extra = {k: v for k, v in longest.items() if k not in HEADER_FIELDS}
    sample.values = recipient_values(
        email=longest["email"],
        first_name=longest["first_name"],
        last_name=longest["last_name"],
        unsubscribe_url=unsubscribe,
        fallback_first_name=settings.fallback_first_name,
        extra=extra,
    )
    sample.columns = frozenset(columns | set(STANDARD))
    sample.source = (
        f"the longest values of {sample.eligible} eligible subscriber(s) in {sample.list_file}"
        if sample.eligible
        else f"no eligible subscribers in {sample.list_file}: a sample recipient"
    )
    return sample
