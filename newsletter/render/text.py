"""Filters of the plain-text part's templates: ``wrap`` (:func:`newsletter.wrap.wrap`, the
line layout shared with Markdown's plain text), ``underline`` and ``link_target``."""

from __future__ import annotations

from newsletter.wrap import wrap

__all__ = ["link_target", "underline", "wrap"]


def underline(text: str, char: str = "-") -> str:
    """A rule as long as the longest line of ``text`` (for a wrapped heading)."""
    return char * max((len(line) for line in str(text).splitlines()), default=0)


def link_target(url: str) -> str:
    """How a link's address reads in plain text: a mailto link is just the address."""
    return url[len("mailto:") :] if url.lower().startswith("mailto:") else url
