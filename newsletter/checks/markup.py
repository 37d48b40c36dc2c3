"""Markup rules: Markdown that does not do what it looks like it does.

A link missing its closing ``)`` is not a link: the reader sees the brackets and the
address as typed. A bracket without its partner is usually the same slip. Both are
warnings at the line (and column) of the bracket, in every text field of the issue and
the settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule

FAMILY = "markup"

LINK_UNCLOSED = rule(
    "link-unclosed",
    "warning",
    "A Markdown link never closes: its ')' is missing, so it shows as typed.",
    family=FAMILY,
)
BRACKETS = rule(
    "brackets-unbalanced",
    "warning",
    "A bracket ([ ] or ( )) has no partner in its paragraph.",
    family=FAMILY,
)

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_PAIRS = {"]": "[", ")": "("}
# With no "(" open, a ")" after a lone letter or digit starting a word is an enumeration
# ("a) first, b) second"), and ":)" a smiley: neither needs an opening bracket.
_NO_OPENER = re.compile(r"(?:(?<!\S)[A-Za-z0-9]|[:;])$")


@dataclass(frozen=True, slots=True)
class Slip:
    kind: str  # "unclosed-link" | "unopened" | "unclosed"
    offset: int  # into the text
    char: str


def _code_span_end(text: str, i: int) -> int:
    """The index after the code span opening at ``i`` (a run of backticks), else ``i + run``."""
    run = len(text[i:]) - len(text[i:].lstrip("`"))
    close = text.find("`" * run, i + run)
    while close >= 0 and close + run < len(text) and text[close + run] == "`":
        close = text.find("`" * run, close + run + 1)
    return close + run if close >= 0 else i + run


def _destination_end(text: str, i: int) -> int | None:
    """The index of the ')' that closes a link opening at ``text[i] == '('``, as CommonMark
    reads it: an address without spaces (or in ``<>``), then an optional title in quotes."""
    j = i + 1
    while j < len(text) and text[j] in " \t\n":
        j += 1
    if text[j : j + 1] == "<":
        close = text.find(">", j)
        if close < 0 or "\n" in text[j:close]:
            return None
        j = close + 1
    else:
        depth = 0
        while j < len(text) and not text[j].isspace():
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return j
                depth -= 1
            j += 1
    while j < len(text) and text[j] in " \t\n":
        j += 1
    quote = {'"': '"', "'": "'", "(": ")"}.get(text[j : j + 1])
    if quote is not None:
        close = text.find(quote, j + 1)
        if close < 0:
            return None
        j = close + 1
        while j < len(text) and text[j] in " \t\n":
            j += 1
    return j if text[j : j + 1] == ")" else None


def slips(paragraph: str) -> list[Slip]:
    """The bracket slips of one paragraph of Markdown, in the order they appear."""
    found: list[Slip] = []
    open_at: dict[str, list[int]] = {"[": [], "(": []}
    i = 0
    while i < len(paragraph):
        c = paragraph[i]
        if c == "\\":
            i += 2
            continue
        if c == "`":
            i = _code_span_end(paragraph, i)
            continue
        if c in open_at:
            open_at[c].append(i)
        elif c == "]" and open_at["["]:
            start = open_at["["].pop()
            if paragraph[i + 1 : i + 2] == "(":
                end = _destination_end(paragraph, i + 1)
                if end is None:
                    found.append(Slip("unclosed-link", start, "["))
                    i = len(paragraph)  # the rest is the address as typed
                    continue
                i = end + 1
                continue
        elif c in _PAIRS:
            if open_at[_PAIRS[c]]:
                open_at[_PAIRS[c]].pop()
            elif not (c == ")" and _NO_OPENER.search(paragraph[:i])):
                found.append(Slip("unopened", i, c))
        i += 1
    found.extend(Slip("unclosed", at, c) for c, starts in open_at.items() for at in starts)
    return sorted(found, key=lambda s: s.offset)


def text_slips(text: str) -> Iterator[Slip]:
    """:func:`slips` of every paragraph of ``text``, offsets into ``text``."""
    start = 0
    for m in [*_PARAGRAPH.finditer(text), None]:
        end = m.start() if m else len(text)
        for slip in slips(text[start:end]):
            yield Slip(slip.kind, start + slip.offset, slip.char)
        if m:
            start = m.end()


def _at(ctx: CheckContext, where: Where, text: str, offset: int) -> Where:
    """The file line and column of ``text[offset]``, written inside the field at ``where``."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    found = ctx.index.refine(where, line.strip())
    if found is where:  # the line is not written as such in the file (folded, quoted)
        return where
    indent = len(line) - len(line.lstrip())
    col = (found.column or 1) + (offset - line_start - indent)
    return Where(found.file, found.line, col, found.field)


def _shown(text: str, offset: int, limit: int = 40) -> str:
    rest = text[offset:].split("\n", 1)[0]
    return repr(rest if len(rest) <= limit else rest[: limit - 1] + "…")


@check(FAMILY)
def brackets(ctx: CheckContext) -> Iterator[Finding]:
    seen: set[tuple[Where, str]] = set()
    for src in ctx.index.sources:
        if src.kind != "text" or not any(c in src.value for c in "[]()"):
            continue
        if (src.where, src.value) in seen:
            continue
        seen.add((src.where, src.value))
        for slip in text_slips(src.value):
            at = _at(ctx, src.where, src.value, slip.offset)
            shown = _shown(src.value, slip.offset)
            if slip.kind == "unclosed-link":
                yield LINK_UNCLOSED(
                    f"the link {shown} never closes: readers see the brackets and the address as typed",
                    at,
                    "end the address with ')': [the words](https://the-address)",
                )
            elif slip.kind == "unclosed":
                partner = "]" if slip.char == "[" else ")"
                yield BRACKETS(
                    f"'{slip.char}' is never closed ({shown}): no '{partner}' follows in its paragraph",
                    at,
                    f"add the missing '{partner}', or remove the '{slip.char}'; a link is written "
                    "[the words](https://the-address)",
                )
            else:
                yield BRACKETS(
                    f"'{slip.char}' closes nothing ({shown}): no '{_PAIRS[slip.char]}' before it in its paragraph",
                    at,
                    f"add the missing '{_PAIRS[slip.char]}', or remove the '{slip.char}'",
                )
