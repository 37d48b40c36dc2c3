"""Content rules: nothing of the machinery may show (template syntax, merge tokens),
and events must not be over before the issue goes out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from newsletter.checks import html as H
from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule
from newsletter.errors import NewsletterError
from newsletter.issue.model import EventsBlock
from newsletter.render.dates import long_date, when

FAMILY = "content"

TEMPLATE_LEFTOVER = rule(
    "template-leftover",
    "error",
    "Template syntax ({{ }}, {% %}, *|MERGE|*) shows in the email.",
    family=FAMILY,
)
TOKEN_UNFILLED = rule(
    "token-unfilled",
    "error",
    "A per-recipient token (__nl_…__) is left unfilled, or its field has no value in the list.",
    family=FAMILY,
)
PLACEHOLDER_TEXT = rule(
    "placeholder",
    "error",
    "Words still to be written: a placeholder (TK: …, as newsletter new writes them, or lorem ipsum).",
    family=FAMILY,
)
EVENT_PAST = rule("event-before-date", "error", "An event starts before the issue's date.", family=FAMILY)

# Jinja/Liquid/Handlebars ({{ x }}, {% x %}, {# x #}) and Mailchimp (*|FNAME|*) merge tags;
# Markdown turns the Mailchimp stars into emphasis, leaving |FNAME|.
LEFTOVER = re.compile(r"\{\{.{0,60}?\}\}|\{%.{0,60}?%\}|\{#.{0,60}?#\}|\{\{|\{%|\*?\|[A-Z][A-Z0-9_:]*\|\*?")
# "TK:" is how `newsletter new` marks the words still to write; lorem ipsum is filler text.
PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9])TK:|(?i:\blorem ipsum\b)")
LOOSE_TOKEN = re.compile(r"__nl_[A-Za-z0-9_]*?__")
ATTRIBUTES = ("href", "src", "alt", "title", "aria-label")


def _html_strings(ctx: CheckContext) -> Iterator[str]:
    """Text a reader sees or a client follows: text nodes and link, image and title attributes."""
    for _, text in H.text_nodes(ctx.root):
        yield text
    for el in ctx.root.iter():
        if isinstance(el.tag, str):
            for name in ATTRIBUTES:
                value = el.get(name)
                if value:
                    yield value
    title = ctx.root.find(".//title")
    if title is not None and title.text:
        yield title.text


def _strings(ctx: CheckContext) -> Iterator[str]:
    yield from _html_strings(ctx)
    yield ctx.text


@check(FAMILY)
def leftovers(ctx: CheckContext) -> Iterator[Finding]:
    for text in _strings(ctx):
        for m in LEFTOVER.finditer(text):
            snippet = m.group(0)
            yield TEMPLATE_LEFTOVER(
                f"template syntax shows in the email: {snippet!r}",
                ctx.where_text(snippet),
                "issue text is shown as written, never run as a template: write the words "
                "themselves (the greeting already uses the reader's first name)",
            )


@check(FAMILY)
def tokens(ctx: CheckContext) -> Iterator[Finding]:
    for text in _strings(ctx):
        for m in LOOSE_TOKEN.finditer(text):
            yield TOKEN_UNFILLED(
                f"the token {m.group(0)!r} was not filled: it is not a valid merge field token",
                ctx.where_text(m.group(0)),
                "use recipient.<field> in templates; tokens look like __nl_first_name_html__",
            )
    listed = ctx.sample.values
    source = ctx.sample.list_file or "the subscriber list"
    for name in sorted(ctx.rendered.html_parts.fields | ctx.rendered.text_parts.fields):
        if name in listed:
            continue
        yield TOKEN_UNFILLED(
            f"the merge field {name!r} has no column in {source}: every reader would see a blank",
            ctx.in_templates(f"recipient.{name}") or ctx.in_templates(f"recipient.url.{name}") or ctx.where_text(name),
            f"add a {name} column to the list, or remove recipient.{name} from the template",
        )


@check(FAMILY)
def placeholders(ctx: CheckContext) -> Iterator[Finding]:
    for src in ctx.index.sources:
        if src.kind != "text":
            continue
        m = PLACEHOLDER.search(src.value)
        if m is None:
            continue
        line = src.value[src.value.rfind("\n", 0, m.start()) + 1 :].split("\n", 1)[0].strip()
        yield PLACEHOLDER_TEXT(
            f"still a placeholder: {line if len(line) <= 80 else line[:79] + '…'!r}",
            ctx.index.refine(src.where, line),
            'write this issue\'s own words here (newsletter new leaves "TK: …" where they go)',
        )


# A value `newsletter new` kept or made up (last month's photo, an event's time) carries
# a "# TK: …" comment on its line until the real one is written and the comment removed.
PLACEHOLDER_COMMENT = re.compile(r"(?:^|\s)#\s*TK:.*$")


@check(FAMILY)
def placeholder_comments(ctx: CheckContext) -> Iterator[Finding]:
    from newsletter.yamllimits import read_text

    try:
        text = read_text(ctx.issue_file.path, ctx.issue_file.doc.file)
    except NewsletterError:  # gone or changed since it was loaded: the load reports it next time
        return
    for number, line in enumerate(text.splitlines(), start=1):
        m = PLACEHOLDER_COMMENT.search(line)
        if m is None or line.lstrip().startswith("#"):
            continue
        comment = m.group(0).strip().lstrip("#").strip()
        yield PLACEHOLDER_TEXT(
            f"still a placeholder: {line.split('#', 1)[0].strip()!r} ({comment})",
            Where(ctx.issue_file.doc.file, number, line.index("#", m.start()) + 1, ""),
            "write the real value on this line, then remove the '# TK: …' comment",
        )


@check(FAMILY)
def events(ctx: CheckContext) -> Iterator[Finding]:
    issue = ctx.issue_file.issue
    zone = ZoneInfo(ctx.settings.timezone)
    send_start = dt.datetime.combine(issue.date, dt.time(0, 0), tzinfo=zone)
    for i, block in enumerate(issue.blocks):
        if not isinstance(block, EventsBlock):
            continue
        for j, event in enumerate(block.items):
            if event.start >= send_start:
                continue
            yield EVENT_PAST(
                f"{event.title!r} starts {when(event.start.astimezone(zone))}, before the issue's date ({long_date(issue.date)})",
                ctx.issue_at(("blocks", i, "items", j, "start")),
                "check the year and month, or remove an event that is over",
            )
