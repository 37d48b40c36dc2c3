"""Publication settings: ``newsletter.yaml`` → :class:`Settings`.

Each field is documented where it is defined (the docstring under it), so the
README's configuration table and any help text come from one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from newsletter import yamldoc
from newsletter.errors import InputError, Problem, display_path
from newsletter.fields import Colour, Email, HeaderText, NonEmpty, TimeZone, Url, WebUrl

SETTINGS_FILE = "newsletter.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    """Width in pixels at which the logo is shown."""


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
    reason: NonEmpty = "You are receiving this email because you signed up to our mailing list."
    """Why the reader is receiving this email, shown in the footer."""
    contact_email: Email
    """Address readers are asked to write to (contact call-outs use it by default)."""
    logo: Logo | None = None
    """Logo in the header; without it the name is shown as text."""
    colours: Colours = Colours()
    """Brand colours, each as #rrggbb."""
    font_stack: NonEmpty = "Helvetica, Arial, sans-serif"
    """CSS font-family list for all text."""
    language: NonEmpty = "en-GB"
    """Language of the content (the HTML ``lang`` attribute)."""
    web_archive_url: WebUrl
    """Base URL of the web archive; the "view in browser" link is this plus ``<slug>.html``."""
    unsubscribe_url: Url
    """Unsubscribe link template; ``{token}`` is replaced by an opaque per-recipient token."""
    timezone: TimeZone = "Europe/London"
    """Time zone for event times written without one (an IANA name)."""
    inliner: Literal["css-inline", "premailer"] = "css-inline"
    """CSS inliner engine: ``css-inline`` (fast, default) or ``premailer``."""
    fallback_first_name: NonEmpty = "friend"
    """Used in the greeting when a subscriber has no first name."""
    check: CheckSettings = CheckSettings()
    """Thresholds of ``newsletter check`` and its online link check."""

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


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``newsletter.yaml``."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    cwd = Path.cwd().resolve()
    if (cwd / SETTINGS_FILE).is_file():
        return cwd
    raise InputError(
        Problem(
            display_path(start),
            None,
            None,
            "",
            f"no {SETTINGS_FILE} found here or in any folder above",
            "run the command inside a newsletter project",
        )
    )


def load_settings(root: Path) -> Settings:
    """Load and validate ``newsletter.yaml`` from the project folder ``root``."""
    return yamldoc.load(root / SETTINGS_FILE, Settings)
