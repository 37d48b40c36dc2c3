"""The recipient a check personalises the email for: the longest value of each field.

Checks look at the email as the reader who makes it largest would get it: every
merge field filled with the longest value any eligible subscriber has (the email
is measured after personalisation, and Gmail clips at 102 KB). They come from
:func:`newsletter.audience.longest_values`, which usually finds them among the
values the list's tally kept: the same people :func:`newsletter.audience.eligible`
yields to a send, whose names are always on one line and whose addresses are valid,
so no list value can break a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.audience import longest_values
from newsletter.errors import Problem, display_path
from newsletter.issue.model import Audience
from newsletter.render.personalize import Greeting, recipient_values
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
    name_problems: tuple[Problem, ...] = ()
    """List rows left out because a name would break the To: header."""


def sample_recipient(settings: Settings, audience: Audience, list_path: Path | None) -> Sample:
    """The longest value of each field among the eligible subscribers of ``list_path``."""
    unsubscribe = settings.unsubscribe_url.replace("{token}", SAMPLE_TOKEN)
    domain = settings.from_.email.rsplit("@", 1)[-1]
    if list_path is None or not list_path.is_file():
        values = recipient_values(
            email=f"subscriber@{domain}",
            unsubscribe_url=unsubscribe,
            fallback_first_name=settings.fallback_first_name,
            greeting=Greeting.of(settings),
        )
        shown = display_path(list_path) if list_path else "subscribers.csv"
        return Sample(values, f"no subscriber list at {shown}: a sample recipient")
    found = longest_values(list_path, audience, require_evidence=settings.consent == "required")
    sample = Sample({}, "", list_file=display_path(list_path), eligible=found.eligible, name_problems=found.name_problems)
    longest = {"email": f"subscriber@{domain}", "first_name": "", "last_name": "", **found.values}
    extra = {k: v for k, v in longest.items() if k not in HEADER_FIELDS}
    sample.values = recipient_values(
        email=longest["email"],
        first_name=longest["first_name"],
        last_name=longest["last_name"],
        unsubscribe_url=unsubscribe,
        fallback_first_name=settings.fallback_first_name,
        greeting=Greeting.of(settings),
        extra=extra,
    )
    sample.source = (
        f"the longest values of {sample.eligible} eligible subscriber(s) in {sample.list_file}"
        if sample.eligible
        else f"no eligible subscribers in {sample.list_file}: a sample recipient"
    )
    return sample
