"""Validated field types shared by the settings, the issue and the web edition's models, and
their one base model."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")

LINK_SCHEMES = ("http", "https", "mailto")
_HIDDEN = ("Zs", "Zl", "Zp", "Cf", "Cc")
"""Kinds of character that do not show (spaces, separators, format and control characters)."""


class StrictModel(BaseModel):
    """A model that refuses unknown keys and cannot be changed once made."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_url(value: str, schemes: tuple[str, ...] = LINK_SCHEMES) -> str:
    """Accept only absolute http(s) or mailto URLs; never javascript:, data: or relative ones."""
    value = value.strip()
    if not value:
        raise ValueError("URL is empty")
    if _CONTROL.search(value) or " " in value:
        raise ValueError("URL contains spaces or control characters")
    # in ASCII only the space and control characters are of these kinds, refused above
    hidden = None if value.isascii() else next((c for c in value if unicodedata.category(c) in _HIDDEN), None)
    if hidden is not None:
        raise ValueError(
            f"URL contains U+{ord(hidden):04X} {unicodedata.name(hidden, 'an invisible character')}; "
            "retype the address (it was probably pasted with it)"
        )
    scheme = urlsplit(value).scheme.lower()
    if scheme not in schemes:
        allowed = ", ".join(f"{s}:" for s in schemes)
        shown = f"'{scheme}:'" if scheme else "no scheme"
        raise ValueError(f"URL has {shown}; only {allowed} links are allowed")
    if scheme in ("http", "https") and not urlsplit(value).hostname:
        raise ValueError("URL has no host name")
    if scheme == "mailto" and not _EMAIL.match(value[len("mailto:") :].split("?")[0]):
        raise ValueError("mailto: link has no valid address")
    return value


def _http_or_https(value: str) -> str:
    return check_url(value, ("http", "https"))


def _colour(value: str) -> str:
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise ValueError(f"'{value}' is not a colour; write it as #rrggbb (e.g. #1a5f7a) or #rgb")
    value = value.lower()
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters but tab and line feed: invisible, and some (ESC, BEL) break the MJML
and HTML made from the text; they come in through YAML's escapes ("\\a", "\\e", "\\x07")."""


def _text(value: str) -> str:
    bad = _TEXT_CONTROL.search(value)
    if bad is not None:
        shown = repr(bad.group())[1:-1]
        raise ValueError(
            f"control character U+{ord(bad.group()):04X} ({shown}) in the text, at character "
            f"{bad.start() + 1}: delete it (only tabs and line breaks may be in text)"
        )
    return value


def _header_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("line breaks and control characters are not allowed in a header value")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value) or ".." in value:
        raise ValueError(f"'{value}' is not a valid email address")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else " (use a name like Europe/London)"
        raise ValueError(f"unknown time zone '{value}'{hint}") from None
    return value


_EVENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _event_id(value: str) -> str:
    if not _EVENT_ID.match(value):
        raise ValueError(
            f"'{value}' is not an event id: use lower-case letters, digits and hyphens "
            "(at most 80, starting with a letter or digit), e.g. 2024-07-01-co-pro-cuppa"
        )
    return value


def check_tag(tag: object) -> str | None:
    """Why ``tag`` is not a language tag Babel knows (``en``, ``cy``, ``pt-BR``), or None."""
    from babel import Locale, UnknownLocaleError  # here: only a file that names languages needs Babel

    if isinstance(tag, bool):
        return "YAML reads a bare no, yes, on or off as true or false: quote a language tag ('no')"
    if not isinstance(tag, str) or not tag.strip():
        return "a language is a tag such as en, cy or pt-BR"
    try:
        Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        return f"'{tag}' is not a language tag Babel knows (such as en, cy or pt-BR)"
    return None


def primary(tag: str) -> str:
    """The language part of a tag: ``en`` for ``en-GB``."""
    return tag.replace("_", "-").split("-", 1)[0].lower()


def _language_tag(value: str) -> str:
    why = check_tag(value)
    if why is not None:
        raise ValueError(why)
    return value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Url = Annotated[str, AfterValidator(check_url)]
"""An absolute http(s) or mailto URL."""
WebUrl = Annotated[str, AfterValidator(_http_or_https)]
Colour = Annotated[str, AfterValidator(_colour)]
HeaderText = Annotated[str, BeforeValidator(_strip), Field(min_length=1), AfterValidator(_header_text)]
Email = Annotated[str, AfterValidator(_email)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
Text = Annotated[str, AfterValidator(_text)]
"""Text with no control characters but tab and line feed."""
NonEmpty = Annotated[str, BeforeValidator(_strip), Field(min_length=1), AfterValidator(_text)]
EventId = Annotated[str, BeforeValidator(_strip), AfterValidator(_event_id)]
LanguageTag = Annotated[str, BeforeValidator(_strip), AfterValidator(_language_tag)]
"""A language tag Babel knows: the keys of words given per language (``{en: …, cy: …}``)."""


def _one_or_per_language(value: object) -> str:
    return PER_LANGUAGE if isinstance(value, dict) else "one"


PER_LANGUAGE = "per language"
"""The tag of the mapping form of :data:`HeaderWords` and :data:`Words` (a problem's location holds it)."""

HeaderWords = Annotated[
    Annotated[HeaderText, Tag("one")] | Annotated[dict[LanguageTag, HeaderText], Tag(PER_LANGUAGE)],
    Discriminator(_one_or_per_language),
]
"""A header line, or one per language (``{en: "Dear {first_name},", cy: "Annwyl {first_name},"}``):
a mapping is read as one, each key a language tag, so a mistake in it is named at its line."""

Words = Annotated[
    Annotated[NonEmpty, Tag("one")] | Annotated[dict[LanguageTag, NonEmpty], Tag(PER_LANGUAGE)],
    Discriminator(_one_or_per_language),
]
"""Text, or the same per language (as :data:`HeaderWords`)."""
"""An event's lasting identity: the name of its calendar file and its calendar UID."""
