"""The recipient a check personalises the email for: the longest value of each field.

Checks look at the email as the reader who makes it largest would get it: every
merge field filled with the longest value any eligible subscriber has (the email
is measured after personalisation, and Gmail clips at 102 KB). The list is read
once, streamed, through :func:`newsletter.audience.eligible` (the same people a send
reaches); values that could break a header (CR/LF) are noted on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience import Subscriber, eligible
from newsletter.errors import display_path
from newsletter.issue.model import Audience
from newsletter.render.personalize import recipient_values
from newsletter.settings import Settings

# Opaque unsubscribe tokens are about this long (32 random bytes, URL-safe base64).
SAMPLE_TOKEN = "x" * 43
HEADER_FIELDS = ("email", "first_name", "last_name")


@dataclass
class Sample:
    """The composite longest recipient and what was learnt reading the list."""

    values: dict[str, str]
    source: str  # how the values were chosen, for the report
    list_file: str | None = None
    eligible: int = 0
    bad_header_rows: list[tuple[Subscriber, str]] = field(default_factory=list)


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
