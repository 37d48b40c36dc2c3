"""The issue schema: one YAML file in ``issues/`` → an immutable, validated :class:`Issue`.

Blocks are a discriminated union chosen by ``type``. Every key is checked
(``extra="forbid"``), every URL is http(s) or mailto, Markdown links included.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from newsletter.fields import Email, EventId, HeaderText, NonEmpty, Text, TimeZone, Url, WebUrl
from newsletter.fields import StrictModel as _Strict
from newsletter.markdown import check_links

Markdown = Annotated[Text, AfterValidator(check_links)]
"""Markdown text; links must be http(s) or mailto."""
InlineMarkdown = Annotated[NonEmpty, AfterValidator(check_links)]


class _Image(_Strict):
    src: WebUrl
    """Absolute URL of the image (https)."""
    alt: Text
    """Alternative text; required. Use "" only with ``decorative: true``."""
    decorative: bool = False
    """Set when the image carries no information (then alt may be empty)."""
    credit: InlineMarkdown | None = None
    """Photo credit, e.g. "Cody Engel from Unsplash" (Markdown links allowed)."""
    link: Url | None = None
    """Where a click on the image goes."""
    width: int | None = Field(default=None, ge=1, le=600)
    """Display width in pixels (at most 600); the full width when omitted."""

    @model_validator(mode="after")
    def _alt_or_decorative(self) -> _Image:
        if not self.alt.strip() and not self.decorative:
            raise ValueError("alt text is empty; describe the image, or set decorative: true if it adds nothing")
        return self


class Hero(_Image):
    """The large photo under the title."""


class TextBlock(_Strict):
    type: Literal["text"]
    text: Annotated[NonEmpty, AfterValidator(check_links)]
    """Markdown: paragraphs, links, emphasis, lists."""


class HeadingBlock(_Strict):
    type: Literal["heading"]
    text: NonEmpty
    """The heading's words."""
    level: Literal[2, 3] = 2
    """2 for a section, 3 for a sub-section."""


class QuoteBlock(_Strict):
    type: Literal["quote"]
    text: InlineMarkdown
    """What was said, without quotation marks."""
    by: NonEmpty
    """Who said it (and their role or project)."""


class ListBlock(_Strict):
    type: Literal["list"]
    items: list[InlineMarkdown] = Field(min_length=1)
    """The bullet points (inline Markdown each)."""
    ordered: bool = False
    """Number the items instead of bullets."""


class ImageBlock(_Image):
    type: Literal["image"]
    caption: InlineMarkdown | None = None
    """Shown under the image."""


class ButtonBlock(_Strict):
    type: Literal["button"]
    label: NonEmpty
    """The words on the button: say what happens ("Sign up to a Cuppa")."""
    url: Url
    """Where it goes: https (http works, with a check warning) or mailto."""


class Event(_Strict):
    title: NonEmpty
    """What the event is."""
    id: EventId | None = None
    """Optional lasting identity (lower-case letters, digits, hyphens): its calendar file is
    ``events/<id>.ics`` and its calendar entry keeps it through any edit. Without it, the
    identity is the start's day and the title (``2024-07-01-co-pro-cuppa``)."""
    timezone: TimeZone | None = None
    """The event's own IANA time zone (e.g. Europe/Paris), when it is not the settings' one."""
    start: dt.datetime
    """Start, e.g. 2024-07-01 12:00, in the event's time zone (else the settings'); a
    written offset (2024-07-01 12:00+02:00) is shown in the event's zone if it has one."""
    end: dt.datetime | None = None
    """Optional end, same form as start."""
    place: NonEmpty = "online"
    """Where it happens, or "online"."""
    signup: Url | None = None
    """Sign-up link."""

    @field_validator("start", "end")
    @classmethod
    def _zoned(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is None:
            return value
        own = info.data.get("timezone")
        if value.tzinfo is not None:
            return value.astimezone(ZoneInfo(own)) if own else value
        zone = own or (info.context or {}).get("timezone", "Europe/London")
        zoned = value.replace(tzinfo=ZoneInfo(zone))
        if zoned.astimezone(dt.timezone.utc).astimezone(zoned.tzinfo).replace(tzinfo=None) != value:
            # a wall-clock time skipped when the clocks go forward: it never happens there
            raise ValueError(
                f"{value:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks go forward then): give a time that does"
            )
        return zoned

    @model_validator(mode="after")
    def _ends_after_start(self) -> Event:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class EventsBlock(_Strict):
    type: Literal["events"]
    title: NonEmpty | None = None
    """Optional heading above the events."""
    intro: Markdown | None = None
    """Optional text before the list."""
    items: list[Event] = Field(min_length=1)
    """The events, in the order to show them."""


class LinkItem(_Strict):
    title: NonEmpty
    """The link's words."""
    url: Url
    """Where it goes."""
    summary: InlineMarkdown | None = None
    """One line about it."""


class LinksBlock(_Strict):
    type: Literal["links"]
    title: NonEmpty = "Other news"
    """Heading of the list."""
    items: list[LinkItem] = Field(min_length=1)
    """The links."""


class ContactBlock(_Strict):
    type: Literal["contact"]
    text: InlineMarkdown
    """The invitation, e.g. "Questions? Email us on"."""
    email: Email | None = None
    """Address to write to; defaults to ``contact_email`` from newsletter.yaml."""


class DividerBlock(_Strict):
    type: Literal["divider"]


Block = Annotated[
    Union[
        TextBlock,
        HeadingBlock,
        QuoteBlock,
        ListBlock,
        ImageBlock,
        ButtonBlock,
        EventsBlock,
        LinksBlock,
        ContactBlock,
        DividerBlock,
    ],
    Field(discriminator="type"),
]

MAX_BLOCKS = 1000
"""Most blocks in one issue (an email of more is clipped by every mail client long before)."""


class Audience(_Strict):
    tags: list[NonEmpty] = []
    """Only subscribers with at least one of these tags (all subscribers when empty)."""
    exclude_tags: list[NonEmpty] = []
    """Leave out subscribers with any of these tags."""


class Issue(_Strict):
    """One issue of the newsletter."""

    title: NonEmpty
    """The headline shown at the top of the email."""
    subject: HeaderText = Field(max_length=998)
    """The email's subject line."""
    preheader: HeaderText | None = None
    """The preview text shown after the subject in inboxes."""
    date: dt.date
    """The issue's date (and the earliest send date)."""
    hero: Hero | None = None
    """Optional large photo under the title."""
    intro: Markdown | None = None
    """Opening paragraph(s), Markdown."""
    greeting: bool = True
    """Start with the settings' ``greeting`` ("Dear <first name>,"; ``greeting_without_name`` when unknown)."""
    audience: Audience = Audience()
    """Who receives it: subscribers filtered by tags."""
    blocks: list[Block] = Field(min_length=1, max_length=MAX_BLOCKS)
    """The content, in order."""
    languages: list[str] = []
    """The languages the issue is written in (``[en, cy]``), when more than the settings'
    ``language``: then any text may be a mapping of language to words (see
    :mod:`newsletter.issue.languages`)."""
