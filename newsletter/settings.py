"""Publication settings: ``newsletter.yaml`` → :class:`Settings`.

Each field is documented where it is defined (the docstring under it), so the
configuration table (docs/configuration.md) and any help text come from one place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from newsletter import yamldoc
from newsletter.errors import InputError
from newsletter.fields import Colour, Email, HeaderText, HeaderWords, NonEmpty, TimeZone, Url, WebUrl, Words
from newsletter.fields import StrictModel as _Strict
from newsletter.root import SETTINGS_FILE as SETTINGS_FILE
from newsletter.root import find_project_root as find_project_root

_NOT_IN_FONTS = re.compile(r"[;{}<>\\\x00-\x1f\x7f]")


def _font_stack(value: str) -> str:
    bad = _NOT_IN_FONTS.search(value)
    if bad is not None:
        shown = repr(bad.group()) if bad.group().isprintable() else f"U+{ord(bad.group()):04X}"
        raise ValueError(
            f"a font list cannot hold {shown}; write font names separated by commas, e.g. Helvetica, Arial, sans-serif"
        )
    return value


FontStack = Annotated[NonEmpty, AfterValidator(_font_stack)]
"""A CSS font-family list: names and commas, nothing that could end the CSS rule."""


class Mailbox(_Strict):
    """A display name and an email address."""

    name: HeaderText
    """Display name, e.g. the organisation's name."""
    email: Email
    """The address itself."""


class Logo(_Strict):
    src: WebUrl
    """Absolute URL of the logo image (https recommended)."""
    alt: NonEmpty
    """Alternative text, usually the organisation's name."""
    width: int = Field(default=160, ge=16, le=600)
    """Width in pixels at which the logo is shown (a wider one than the header's 552 px
    content box is shown at 552)."""
    dark_src: WebUrl | None = None
    """Optional version of the logo for dark backgrounds, shown instead of ``src`` when the
    reader's email app is in dark mode (same size and alt text); none by default."""


class Colours(_Strict):
    brand: Colour = "#5b2a86"
    """Header band, headings and buttons."""
    text: Colour = "#222222"
    """Body text."""
    background: Colour = "#f4f4f4"
    """Behind the email."""
    content_background: Colour = "#ffffff"
    """Behind the content column."""
    link: Colour = "#5b2a86"
    """Links in text."""
    button_text: Colour = "#ffffff"
    """Label of buttons (on the brand colour)."""
    muted: Colour = "#555555"
    """Captions, credits and the footer."""


class DarkColours(_Strict):
    """Colours used when the reader's email app is in dark mode (apps that honour
    ``prefers-color-scheme``, and Outlook.com). The header band and buttons keep the
    brand colour and the button text colour."""

    background: Colour = "#121212"
    """Behind the email."""
    content_background: Colour = "#1e1e1e"
    """Behind the content column."""
    text: Colour = "#e8e8e8"
    """Body text."""
    heading: Colour = "#d4c4f2"
    """h1 and h2 headings (the brand colour in light mode)."""
    link: Colour = "#cdb8f5"
    """Links in text."""
    muted: Colour = "#b3b3b3"
    """Captions, credits and the footer."""


class SendGridOptions(_Strict):
    """Options used only by the ``sendgrid`` provider."""

    asm_group_id: int | None = Field(default=None, ge=1)
    """SendGrid unsubscribe group (``asm.group_id``); none by default."""
    categories: list[HeaderText] = Field(default=[], max_length=8)
    """Extra categories for SendGrid statistics (at most 8): the issue slug is always the first,
    and a real send adds its own (by which SendGrid's Email Logs find its messages again)."""
    click_tracking: bool | None = None
    """Let SendGrid rewrite links to count clicks (off: links stay as written). Unset: off, or on
    for the readers who agreed when ``tracking`` is ``consented``."""
    open_tracking: bool | None = None
    """Let SendGrid add a tracking pixel to count opens. Unset: off, or on for the readers who
    agreed when ``tracking`` is ``consented``."""

    def trackers(self, tracking: str) -> tuple[bool, bool]:
        """(click, open) tracking of a request to readers who may be tracked under ``tracking``."""
        default = tracking == "consented"
        return (
            default if self.click_tracking is None else self.click_tracking,
            default if self.open_tracking is None else self.open_tracking,
        )

    timeout: float = Field(default=30.0, gt=0, le=300)
    """Seconds to wait for SendGrid to answer one request before giving up on it."""
    log_delay: float = Field(default=900.0, ge=0, le=86400)
    """Seconds SendGrid's Email Logs are taken to lag at most. A request whose fate a stop left
    unknown, not in the log and started longer ago than this, never reached SendGrid and is
    sent again; a newer one stays unknown until then."""


class SmtpOptions(_Strict):
    """Options used only by the ``smtp`` provider (the server itself comes from ``SMTP_URL``)."""

    connections: int = Field(default=4, ge=1, le=16)
    """How many SMTP connections send in parallel (each is reused for many messages)."""
    timeout: float = Field(default=30.0, gt=0, le=300)
    """Seconds to wait for the SMTP server at each step."""


class Delivery(_Strict):
    """How ``newsletter send`` delivers: batching, retries, pacing and provider options."""

    batch_size: int = Field(default=1000, ge=1, le=1000)
    """Recipients per request (SendGrid takes at most 1,000 personalisations per request)."""
    rate: float | None = Field(default=None, gt=0)
    """Highest sending rate in messages per second; no cap when unset."""
    retries: int = Field(default=5, ge=0, le=20)
    """How often one request is retried after a 429, a 5xx or a connection error."""
    backoff: float = Field(default=1.0, ge=0, le=60)
    """First wait in seconds before retrying; it doubles each time (with jitter)."""
    backoff_cap: float = Field(default=60.0, ge=0, le=3600)
    """Longest wait between two tries of one request, in seconds."""
    max_failed_requests: int = Field(default=3, ge=1)
    """Pause the send (exit 1, resumable) once this many requests have failed for good."""
    max_failed_recipients: float = Field(default=0.05, gt=0, le=1)
    """Pause the send once more than this share of tried recipients was refused."""
    list_unsubscribe_mailto: Email | None = None
    """Optional address added to ``List-Unsubscribe`` as a ``mailto:`` alternative."""
    outbox: str = "outbox"
    """Folder (relative to the project) where the ``outbox`` provider writes ``.eml`` files."""
    local_time: bool = False
    """``send --at HH:MM`` means that hour in each reader's zone (the list's ``timezone``
    column), as ``--local`` does; ``--no-local`` overrides it."""
    local_time_past: Literal["next", "now"] = "next"
    """With local-time delivery, a reader whose hour has gone today gets the next day's
    (``next``) or is sent at once (``now``); ``--past`` overrides it."""
    sendgrid: SendGridOptions = SendGridOptions()
    """SendGrid-only options."""
    smtp: SmtpOptions = SmtpOptions()
    """SMTP-only options."""


class CheckSettings(_Strict):
    timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds to wait for each link or image in ``newsletter check --online``."""
    max_images: int = Field(default=6, ge=0)
    """More images than this in one email is a warning (slow to load, often blocked)."""


class Settings(_Strict):
    """Everything about the publication that does not change from issue to issue."""

    name: NonEmpty
    """The publication's or organisation's name, shown in the header and footer."""
    from_: Mailbox = Field(alias="from")
    """Who the email comes from (name and address)."""
    reply_to: Mailbox | None = None
    """Where replies go; defaults to the from address."""
    postal_address: NonEmpty
    """Postal address shown in every footer (required by anti-spam law)."""
    reason: Words = "You are receiving this email because you signed up to our mailing list."
    """Why the reader is receiving this email, shown in the footer; or a mapping of language to
    words (``{en: …, cy: …}``) for an issue in several languages. Left as it is, each language
    with a theme catalog gets its own."""
    contact_email: Email
    """Address readers are asked to write to (contact call-outs use it by default)."""
    logo: Logo | None = None
    """Logo in the header; without it the name is shown as text."""
    colours: Colours = Colours()
    """Brand colours, each as #rrggbb."""
    dark_colours: DarkColours = DarkColours()
    """Colours for readers in dark mode, each as #rrggbb."""
    font_stack: FontStack = "Helvetica, Arial, sans-serif"
    """CSS font-family list for all text."""
    language: NonEmpty = "en-GB"
    """Language of the content (the HTML ``lang`` attribute)."""
    web_archive_url: WebUrl
    """Base URL of the web archive; the "view in browser" link is this plus ``<slug>.html``."""
    unsubscribe_url: Url
    """Unsubscribe link template; ``{token}`` is replaced by an opaque per-recipient token."""
    subscribe_url: WebUrl | None = None
    """Sign-up page for new readers; the web edition links to it where the email has its unsubscribe link."""
    unsubscribe: Literal["link", "sendgrid"] = "link"
    """Who handles unsubscribes: ``link`` (your page at ``unsubscribe_url``; tokens come back
    with ``subscribers unsubscribe --tokens-from``) or ``sendgrid`` (SendGrid's unsubscribe
    group ``delivery.sendgrid.asm_group_id``, required then; ``subscribers sync`` brings them back)."""
    timezone: TimeZone = "Europe/London"
    """Time zone for event times written without one (an IANA name)."""
    event_length: int = Field(default=60, ge=0, le=24 * 60)
    """Minutes an event without an ``end`` lasts in calendar files; 0 makes it an all-day
    entry on its day."""
    inliner: Literal["css-inline", "premailer"] = "css-inline"
    """CSS inliner engine: ``css-inline`` (fast, default) or ``premailer``."""
    greeting: HeaderWords = "Dear {first_name},"
    """The line that opens the email for a reader whose first name is known (``{first_name}`` is
    replaced by it); or a mapping of language to words (``{en: "Dear {first_name},", cy: "Annwyl
    {first_name},"}``) for an issue in several languages. Left as it is, each language with a
    theme catalog gets its own (Welsh: "Annwyl {first_name},")."""
    greeting_without_name: HeaderWords = "Hello,"
    """The opening line for a reader with no first name in the list (a mapping of language to
    words, as ``greeting``). Not "Dear friend": spam filters score it. Left as it is, Welsh gets "Helo,"."""
    fallback_first_name: NonEmpty = "friend"
    """Stands in for a missing first name in your own merge fields (``recipient.first_name``); the greeting doesn't use it."""
    consent: Literal["optional", "required"] = "optional"
    """``required``: a subscriber is sent to only when their row holds evidence of consent
    (``consent_source``, ``consent_at``, ``consent_wording``); the others are held back and
    named by ``subscribers check`` and ``newsletter check``."""
    tracking: Literal["everyone", "consented"] = "everyone"
    """Who SendGrid's click and open tracking (``delivery.sendgrid.click_tracking`` /
    ``open_tracking``, off unless set) apply to: ``everyone``, or only the readers whose
    ``tracking_consent`` column says yes (``consented``: both trackers on for them unless set
    off; everyone else is sent in requests with every tracker off)."""
    delivery: Delivery = Delivery()
    """Sending: batch size, retries, rate cap and provider options (safe defaults)."""
    check: CheckSettings = CheckSettings()
    """Thresholds of ``newsletter check`` and its online link check."""
    approval: Literal["none", "required", "another-person", "pull-request"] = "none"
    """Who must approve the rendered email (``newsletter approve``) before a real send: ``none``
    (nobody; ``check`` warns), ``required`` (someone), ``another-person`` (someone who is not the
    only author of the issue's commits) or ``pull-request`` (an approved review of the merged pull
    request, recorded by the CI send workflow). A send refuses an email that changed since."""

    @field_validator("unsubscribe_url")
    @classmethod
    def _has_token(cls, value: str) -> str:
        if "{token}" not in value:
            raise ValueError("unsubscribe_url must contain {token} (the per-recipient token)")
        return value

    @property
    def sender(self) -> Mailbox:
        return self.from_

    @property
    def replies_to(self) -> Mailbox:
        return self.reply_to or self.from_


LIST_FILE = "subscribers.csv"
"""The subscriber list's name in the project folder, unless a command is given another."""


def project_list(given: Path | None) -> Path:
    """The list a ``subscribers`` command works on: ``given`` (``--list``), else the
    ``subscribers.csv`` of the project the current folder is in (from ``issues/`` too, as
    ``check`` finds it), else the current folder's own."""
    if given is not None:
        return given
    try:
        return find_project_root(Path.cwd()) / LIST_FILE
    except InputError:
        return Path(LIST_FILE)


def load_settings(root: Path) -> Settings:
    """Load and validate ``newsletter.yaml`` from the project folder ``root``."""
    return yamldoc.load(root / SETTINGS_FILE, Settings)
