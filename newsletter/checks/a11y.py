"""Accessibility rules: the document's language, heading order and link words.

Screen readers pick a voice from ``lang``, let readers jump between headings (a
skipped level reads as missing content) and list links out of context, where
"click here" says nothing.
"""

from __future__ import annotations

import string
from collections.abc import Iterator

from newsletter.checks import html as H
from newsletter.checks.context import CheckContext, LinkRef
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule
from newsletter.errors import display_path

FAMILY = "a11y"

HTML_LANG = rule("html-lang", "warning", "The HTML document has no lang attribute.", family=FAMILY)
HEADING_ORDER = rule("heading-order", "warning", "A heading skips a level (e.g. h4 after h2).", family=FAMILY)
LINK_TEXT = rule(
    "link-text",
    "warning",
    'A link says nothing out of context ("click here", "read more").',
    family=FAMILY,
)

VAGUE = frozenset(
    {
        "click here",
        "click",
        "here",
        "tap here",
        "this",
        "this link",
        "link",
        "read more",
        "more",
        "learn more",
        "find out more",
        "more info",
        "more information",
        "see more",
        "see here",
        "go",
        "continue",
        "details",
        "website",
        "this page",
        "page",
    }
)


def _override(ctx: CheckContext) -> Where | None:
    base = ctx.project.root / "templates" / "base.mjml.j2"
    return Where(display_path(base)) if base.is_file() else None


@check(FAMILY)
def lang(ctx: CheckContext) -> Iterator[Finding]:
    value = (ctx.root.get("lang") or "").strip()
    if value and value.lower() != "und":
        return
    yield HTML_LANG(
        "the HTML has no lang attribute: screen readers may read it in the wrong voice",
        ctx.in_templates("<mjml") or _override(ctx) or ctx.settings_at(("language",)),
        'keep <mjml lang="{{ settings.language }}"> in base.mjml.j2',
    )


@check(FAMILY)
def headings(ctx: CheckContext) -> Iterator[Finding]:
    previous = 0
    for el in ctx.root.iter(*H.HEADINGS):
        if H.is_hidden(el):
            continue
        level = int(el.tag[1])
        text = H.text_of(el)
        if level > previous + 1:
            after = f"after an h{previous}" if previous else "before any h1"
            at = ctx.index.text(f"{'#' * level} {text}") or ctx.where_text(text)
            yield HEADING_ORDER(
                f"the heading {text!r} is an h{level} {after}: a level is skipped",
                at,
                f"make it level {previous + 1}" + (" (## in Markdown)" if previous == 1 else ""),
            )
        previous = level


def _vague(name: str) -> bool:
    words = " ".join(name.lower().translate(str.maketrans("", "", string.punctuation + "…→»")).split())
    return words in VAGUE or words.startswith(("click here", "click this"))


def _link_line(ctx: CheckContext, link: LinkRef) -> Where:
    """The line of the link itself: where its Markdown ``[words](`` was written, else the
    line of its address; a link a template wrote, the first field holding its words."""
    if link.source is None:
        return ctx.index.text(link.name) or link.where
    start = link.source.where
    found = ctx.index.refine(start, f"[{link.name}](")
    return found if found != start else link.where


@check(FAMILY)
def link_words(ctx: CheckContext) -> Iterator[Finding]:
    for link in ctx.links:
        if H.is_hidden(link.element):
            continue
        if not link.name:
            yield LINK_TEXT(
                f"the link to {link.href} has no words a screen reader can announce",
                link.where,
                "give the link words, or alt text to the image inside it",
            )
        elif _vague(link.name):
            yield LINK_TEXT(
                f"the link {link.name!r} says nothing out of context",
                _link_line(ctx, link),
                "say where it goes, e.g. [read our blog on trust](…) rather than [click here](…)",
            )
