"""The send of an issue in several languages: each reader gets their language's email.

A reader's language is the list's ``language`` column (``cy``, ``cy-GB``, ``en``): the
issue's language of that tag, else of the same language (``cy`` for ``cy-GB``); a reader
with none, or one the issue is not written in, or a tag that is no language gets the
default language, and the summary counts them. The chosen language travels in each
journal row's merge values (``"language"``), so a resumed send gives every reader the
same language, and the send loop (:func:`~newsletter.delivery.run.deliver`) puts readers
of one language in a request with their language's message: one render per language,
each reader one email, journaled as any other.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from newsletter.audience import Entry
from newsletter.delivery.base import Message
from newsletter.fields import check_tag, primary

COLUMN = "language"
"""The list column that names a reader's language."""


@dataclass(slots=True)
class LanguageTally:
    """How many readers get each language, and how many get the default instead of theirs."""

    default: str
    chosen: Counter[str] = field(default_factory=Counter)
    lacking: Counter[str] = field(default_factory=Counter)
    """Readers whose language the issue lacks, by the language they asked for."""
    unknown: int = 0
    """Readers whose ``language`` is no language tag."""

    def lines(self) -> list[str]:
        """The summary, e.g. ``Languages: en 3, cy 2 (1 reader whose language the issue lacks gets en: fr 1)``."""
        shown = ", ".join(f"{tag} {n}" for tag, n in sorted(self.chosen.items(), key=lambda kv: (-kv[1], kv[0])))
        out = [f"Languages: {shown or 'none'}"]
        fell_back = sum(self.lacking.values()) + self.unknown
        if fell_back:
            asked = ", ".join(f"{tag} {n}" for tag, n in sorted(self.lacking.items()))
            parts = [asked] if asked else []
            if self.unknown:
                parts.append(f"{self.unknown} not a language tag")
            out.append(f"  {fell_back} reader(s) whose language the issue lacks get {self.default}: " + "; ".join(parts))
        return out


def chooser(languages: Iterable[str], default: str) -> Callable[[str], tuple[str, str | None]]:
    """A reader's ``language`` cell → (the issue's language they get, what was lacking:
    None when they get theirs, ``""`` for no language given, else the tag asked for, or
    ``"?"`` for a cell that is no language tag)."""
    tags = tuple(languages)
    exact = {t.lower().replace("_", "-"): t for t in tags}
    by_primary: dict[str, str] = {}
    for t in tags:
        by_primary.setdefault(primary(t), t)
    known: dict[str, tuple[str, str | None]] = {}

    def choose(cell: str) -> tuple[str, str | None]:
        key = cell.strip().lower().replace("_", "-")
        if key in known:
            return known[key]
        if not key:
            found: tuple[str, str | None] = (default, None)
        elif key in exact:
            found = (exact[key], None)
        elif check_tag(cell.strip().replace("_", "-")) is not None:
            found = (default, "?")
        elif primary(key) in by_primary:
            found = (by_primary[primary(key)], None)
        else:
            found = (default, cell.strip())
        known[key] = found
        return found

    return choose


def tag_entries(
    found: Iterable[Entry], languages: Iterable[str], default: str, tally: LanguageTally | None = None
) -> Iterator[Entry]:
    """The entries, each one's ``language`` field set to the language they get."""
    choose = chooser(languages, default)
    for entry in found:
        fields = entry.fields
        tag, lacking = choose(fields.get(COLUMN, ""))
        if tally is not None:
            tally.chosen[tag] += 1
            if lacking == "?":
                tally.unknown += 1
            elif lacking:
                tally.lacking[lacking] += 1
        yield entry._replace(fields={**fields, COLUMN: tag})


def messages(message: Message, parts: Mapping[str, Message]) -> dict[str, Message]:
    """``message`` (the send's, with its id, categories and batch) in each language: the
    subject and content of that language's own message in ``parts``."""
    return {
        tag: dataclasses.replace(
            message,
            subject=part.subject,
            html=part.html,
            text=part.text,
            html_parts=part.html_parts,
            text_parts=part.text_parts,
            tokens=part.tokens,
        )
        for tag, part in parts.items()
    }


def combined_digest(digests: Mapping[str, str]) -> str:
    """What identifies the content of a send in several languages: each language's."""
    h = hashlib.sha256()
    for tag in sorted(digests):
        h.update(f"{tag}\0{digests[tag]}\0".encode())
    return h.hexdigest()
