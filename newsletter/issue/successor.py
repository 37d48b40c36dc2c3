"""The next issue, started from an earlier one (``newsletter new``).

What carries over and what does not:

- kept as they are: the structure (the blocks, in order), headings, buttons, contact
  blocks, dividers, the audience and greeting, a links block's title, an events block's
  title and intro, and any block marked with a ``# keep`` comment on (or just above) its
  ``- type:`` line, which stays marked for the month after;
- events: only those still to come on the new date (an events block with none left gets
  one placeholder event);
- replaced by a placeholder ``TK: …`` (which ``newsletter check`` reports as an error until
  it is written; a kept photo's address and a placeholder event's time carry a ``# TK: …``
  comment on their line, reported likewise until it is removed): the title, subject,
  preheader and intro, text, quotes, list items, image descriptions, captions and
  credits, and the items of a links block (``https://TK``);
- the date: one month after the earlier issue's (the same day, or the month's last);
- an issue in several languages keeps its ``languages:``, the translations of what is kept,
  and a placeholder in each language for each text to write (``TK: … (in Welsh)``).

The result is YAML text that loads and validates as an issue.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from newsletter import yamldoc
from newsletter.issue.load import IssueFile
from newsletter.issue.model import EventsBlock, Issue

PLACEHOLDER = "TK:"
"""How every placeholder starts; ``check`` reports text holding it (rule ``placeholder``)."""
PLACEHOLDER_URL = "https://TK"
MADE_UP = "~~made-up~~"
LAST_PHOTO = "~~last-photo~~"
"""Markers on a value kept or made up, turned into a ``# TK: …`` comment on its line."""
_COMMENTS = {
    MADE_UP: f"  # {PLACEHOLDER} newsletter new made this time up: set the real one, then remove this comment",
    LAST_PHOTO: f"  # {PLACEHOLDER} last issue's photo: give the new one's address, then remove this comment",
}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
KEEP_MARK = re.compile(r"#\s*keep\b", re.IGNORECASE)
STANDING = frozenset({"heading", "button", "contact", "divider"})
MONTHS = [m.lower() for m in calendar.month_name[1:]]
MONTHS_SHORT = [m.lower() for m in calendar.month_abbr[1:]]


@dataclass(frozen=True, slots=True)
class NextIssue:
    """The next issue as YAML text, and what was carried over."""

    slug: str
    date: dt.date
    text: str
    kept: int
    """Blocks carried over as they are."""
    placeholders: int
    events_kept: int
    events_over: int


def month_after(day: dt.date) -> dt.date:
    """The same day a month later (the month's last day when it has fewer)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_slug(slug: str, old: dt.date, new: dt.date) -> str:
    """``2024-06-june-team-update`` → ``2024-07-july-team-update``: the year-month and the
    month's name changed; a slug without the year-month gets it in front."""
    parts = slug.split("-")
    if len(parts) > 2 and parts[:2] == [f"{old:%Y}", f"{old:%m}"]:
        rest = parts[2:]
    else:
        rest = parts
    month_words = {MONTHS[old.month - 1]: MONTHS[new.month - 1], MONTHS_SHORT[old.month - 1]: MONTHS_SHORT[new.month - 1]}
    rest = [month_words.get(word, word) for word in rest]
    return "-".join([f"{new:%Y}", f"{new:%m}", *rest])


def _kept_by_mark(source_lines: list[str], line: int | None) -> bool:
    """A ``# keep`` comment on the block's first line, or alone on the line above it."""
    if line is None or line > len(source_lines):
        return False
    own = source_lines[line - 1]
    if "#" in own and KEEP_MARK.search(own[own.index("#") :]):
        return True
    above = source_lines[line - 2].strip() if line >= 2 else ""
    return above.startswith("#") and KEEP_MARK.search(above) is not None


class _Draft:
    def __init__(self, month: str) -> None:
        self.month = month
        self.placeholders = 0

    def tk(self, what: str) -> str:
        self.placeholders += 1
        return f"{PLACEHOLDER} {what}"

    def per_language(self, data: Any, languages: tuple[str, ...]) -> Any:
        """``data`` with each placeholder made one per language (``TK: … (in Welsh)``)."""
        if isinstance(data, dict):
            if data and set(data) <= set(languages):  # a translation already: its words stay
                return data
            return {k: self.per_language(v, languages) for k, v in data.items()}
        if isinstance(data, list):
            return [self.per_language(v, languages) for v in data]
        if isinstance(data, str) and data.startswith(PLACEHOLDER) and languages:
            self.placeholders += len(languages) - 1
            end = "\n" if data.endswith("\n") else ""
            return {tag: data if i == 0 else f"{data.rstrip(chr(10))} ({_in_words(tag)}){end}" for i, tag in enumerate(languages)}
        return data


def _in_words(tag: str) -> str:
    """``in Welsh`` for ``cy`` (Babel's English name of the language), else ``in cy``."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(tag, sep="-").get_display_name("en")
    except (ValueError, UnknownLocaleError):
        name = None
    return f"in {name or tag}"


def _block(
    draft: _Draft, raw: dict[str, Any], model: Any, heading: str | None, starts_at: dt.datetime
) -> tuple[dict[str, Any], int, int]:
    """The block for the new issue: (data, events kept, events over)."""
    kind = raw.get("type")
    under = f" under “{heading}”" if heading else ""
    if kind == "text":
        return {"type": "text", "text": draft.tk(f"the words of this section{under}") + "\n"}, 0, 0
    if kind == "quote":
        return (
            {
                "type": "quote",
                "text": draft.tk("what was said, without quotation marks"),
                "by": draft.tk("who said it, and their role or project"),
            },
            0,
            0,
        )
    if kind == "list":
        out = {**raw, "items": [draft.tk(f"the points of this list{under}, one per item")]}
        return out, 0, 0
    if kind == "image":
        out = {**raw, "alt": draft.tk("describe the new photo (and change src: to its address)")}
        if isinstance(raw.get("src"), str):
            draft.placeholders += 1
            out["src"] = raw["src"] + LAST_PHOTO
        for key in ("caption", "credit"):
            if key in raw:
                out[key] = draft.tk(f"the {key} of the new photo")
        return out, 0, 0
    if kind == "links":
        item = {"title": draft.tk("the words of a link to read more"), "url": PLACEHOLDER_URL}
        return {**raw, "items": [item]}, 0, 0
    if isinstance(model, EventsBlock):
        items = raw.get("items") or []
        coming = [item for item, event in zip(items, model.items) if event.start >= starts_at]
        over = len(model.items) - len(coming)
        still = len(coming)
        if not coming:
            draft.placeholders += 1
            coming = [
                {
                    "title": draft.tk("the next event (and set its start, place and signup)"),
                    "start": f"{starts_at:%Y-%m-%d} 12:00{MADE_UP}",
                }
            ]
        return {**raw, "items": coming}, still, over
    return dict(raw), 0, 0


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, text blocks as ``|``, dates and times
    left plain (the loader reads them as text, as the issue's own loader does)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") or value.endswith("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data: Any) -> str:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False)
    for marker, comment in _COMMENTS.items():  # the marked value gets its comment after it
        text = re.sub(rf"{re.escape(marker)}(['\"]?)$", rf"\1{comment}", text, flags=re.MULTILINE)
    return text


def next_issue(source: IssueFile, source_text: str, *, date: dt.date, slug: str, timezone: str, source_name: str) -> NextIssue:
    """The next issue after ``source``: see the module's docstring for what carries over."""
    languages = source.languages
    # an issue in several languages: its text as written, every translation in it
    raw: dict[str, Any] = yamldoc.parse(source_text, source_name).data if languages else source.doc.data
    projected: dict[str, Any] = source.doc.data
    issue: Issue = source.issue
    draft = _Draft(f"{date:%B %Y}")
    starts_at = dt.datetime.combine(date, dt.time(0, 0), tzinfo=ZoneInfo(timezone))
    lines = source_text.splitlines()

    head: dict[str, Any] = {
        "title": draft.tk(f"the headline of the {draft.month} issue"),
        "subject": draft.tk(f"the subject line of the {draft.month} issue (under 60 characters)"),
    }
    if "preheader" in raw:
        head["preheader"] = draft.tk("one line shown after the subject in inboxes (40 to 140 characters)")
    head["date"] = date.isoformat()
    if "hero" in raw:
        hero = {**raw["hero"], "alt": draft.tk("describe the new photo (and change src: to its address)")}
        if isinstance(hero.get("src"), str):
            draft.placeholders += 1
            hero["src"] = hero["src"] + LAST_PHOTO
        if "credit" in hero:
            hero["credit"] = draft.tk("the credit of the new photo")
        head["hero"] = hero
    if "intro" in raw:
        head["intro"] = draft.tk(f"the opening paragraph of the {draft.month} issue") + "\n"
    for key in ("greeting", "audience"):
        if key in raw:
            head[key] = raw[key]
    head = draft.per_language(head, languages)

    parts = [
        f"# The {draft.month} issue, started from {source_name} by `newsletter new`.\n"
        f'# Write this month\'s words where it says "{PLACEHOLDER} …" (`newsletter check` lists\n'
        '# every one left). Blocks marked "# keep" carry over as they are each month.\n',
        f"languages: [{', '.join(languages)}]\n" if languages else "",
        _dump(head),
        "\nblocks:\n",
    ]
    kept = events_kept = events_over = 0
    heading: str | None = None
    for i, (block_raw, block) in enumerate(zip(raw["blocks"], issue.blocks)):
        pos = source.doc.position(("blocks", i))
        marked = _kept_by_mark(lines, pos.line if pos else None)
        if marked:
            data, n_kept, n_over = dict(block_raw), 0, 0
        else:
            data, n_kept, n_over = _block(draft, block_raw, block, heading, starts_at)
        if marked or block_raw.get("type") in STANDING:
            kept += 1
        events_kept += n_kept
        events_over += n_over
        if block_raw.get("type") == "heading":
            heading = str(projected["blocks"][i].get("text", "")).strip() or None
        text = _dump([draft.per_language(data, languages)])
        parts.append(
            ("\n" if i else "")
            + ("  # keep\n" if marked else "")
            + "".join(f"  {line}\n" if line else "\n" for line in text.splitlines())
        )
    return NextIssue(slug, date, "".join(parts), kept, draft.placeholders, events_kept, events_over)
