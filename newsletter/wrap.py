"""Line layout of plain text: wrapped so that plain-text readers never see a ragged or
sideways-scrolling email.

Plain text of any origin is laid out here: Markdown's plain text (:mod:`newsletter.markdown`)
and the text part's templates (:mod:`newsletter.render.text`) both wrap with :func:`wrap`.

Every line is at most :data:`LIMIT` characters (RFC 5322's recommended 78) except a
line that is a single URL: a URL is never broken (a broken link does not work), so one
too long for a line gets a line of its own, without the brackets around it, and the
punctuation after it stays with the words before it.
"""

from __future__ import annotations

import re

LIMIT = 78
"""The longest line the text part has, unless the line is one URL."""

_URL = re.compile(r"(?:https?://|mailto:)\S+", re.IGNORECASE)
_TOKEN = re.compile(r"__nl_[a-z0-9_]+__")
_TRAIL = ".,;:!?'\"’”"


def is_url_line(line: str) -> bool:
    """True for a line that holds one URL and nothing else (indentation aside)."""
    return _URL.fullmatch(line.strip()) is not None


def over_limit(text: str, limit: int = LIMIT) -> list[str]:
    """The lines of ``text`` longer than ``limit`` that are not a single URL."""
    return [line for line in text.splitlines() if len(line) > limit and not is_url_line(line)]


def split_url(word: str) -> tuple[str, str, str] | None:
    """``(before, url, after)`` of a word that is a URL with brackets or punctuation
    around it (``(https://…).`` → ``("(", "https://…", ").")``), or None."""
    start = word.lower().find("http")
    if start < 0 or not word[start:].lower().startswith(("http://", "https://")):
        start = word.lower().find("mailto:")
    if start < 0 or _URL.match(word, start) is None:
        return None
    before, rest = word[:start], word[start:]
    end = len(rest)
    while end and rest[end - 1] in _TRAIL:
        end -= 1
    # a closing bracket belongs to the URL only when the URL opened it (…/Foo_(bar))
    while (
        end
        and rest[end - 1] in ")>]"
        and rest[:end].count(rest[end - 1]) > rest[:end].count({")": "(", ">": "<", "]": "["}[rest[end - 1]])
    ):
        end -= 1
        while end and rest[end - 1] in _TRAIL:
            end -= 1
    return before, rest[:end], rest[end:]


def _unbracket(before: str, after: str) -> tuple[str, str]:
    """Drop the brackets that only framed a URL now on a line of its own."""
    if before.endswith(("(", "<", "[")) and after[:1] in ")>]":
        return before[:-1], after[1:]
    return before, after


def _pieces(word: str, room: int) -> list[str]:
    """A word longer than a line, cut to fit (tokens are kept whole: they are filled later)."""
    if room < 1 or _TOKEN.search(word):
        return [word]
    return [word[i : i + room] for i in range(0, len(word), room)]


def _fill(words: list[str], first: str, indent: str, width: int) -> list[str]:
    lines: list[str] = []
    current = first
    bare = True  # nothing but the prefix on the current line

    def flush() -> None:
        nonlocal current, bare
        lines.append(current.rstrip())
        current, bare = indent, True

    def add(word: str) -> None:
        nonlocal current, bare
        if not bare and len(current) + 1 + len(word) > width:
            flush()
        current += word if bare else " " + word
        bare = False

    for word in words:
        parts = split_url(word) if len(indent) + len(word) > width else None
        if parts is None:
            if len(indent) + len(word) > width:
                for piece in _pieces(word, width - len(indent)):
                    add(piece)
            else:
                add(word)
            continue
        before, url, after = parts
        before, after = _unbracket(before, after)
        if before:
            add(before)
        # what closes the sentence stays with its words; the URL gets a line of its own
        punctuation = after.lstrip(")>]")
        if not bare:
            if len(current) + len(punctuation) > width and " " in current.strip():
                head, _, last = current.rpartition(" ")
                lines.append(head.rstrip())
                current = indent + last
            current += punctuation
            punctuation = ""
            flush()
        elif current.strip():
            flush()
        lines.append(indent + url)
        if punctuation:
            add(punctuation)
    if not bare or not lines:
        flush()
    return lines


def wrap(text: str, indent: str = "", first: str | None = None, width: int = LIMIT) -> str:
    """Fill ``text`` to ``width`` columns: ``first`` starts the first line (a bullet),
    ``indent`` the others. Line breaks in ``text`` are kept."""
    lead = indent if first is None else first
    out: list[str] = []
    for paragraph in str(text).split("\n"):
        out.extend(_fill(paragraph.split(), lead, indent, width))
        lead = indent
    return "\n".join(out)
