"""``newsletter correct``: note what changed in an issue readers already have.

After an edit of a published (or sent) issue, the change is described against what
readers last saw (the baseline in ``published.json``): an event's new time or place, an
event added or taken out, corrected text. The note is recorded with its date, the
baseline moves on, and the whole archive is published again, so that the page shows
the note under its title, its feed entry is updated and each changed event's calendar
entry gets its next revision. The correction email (optional) is composed here from the
same note, for an issue in several languages in each (its own words and dates; the note
as written); :mod:`newsletter.delivery.correction` sends it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import UsageError, display_path
from newsletter.issue.events import issue_events
from newsletter.issue.load import IssueFile
from newsletter.issue.model import Issue
from newsletter.project import Project
from newsletter.render.catalog import gettext_in
from newsletter.render.dates import long_date, written_in
from newsletter.render.words import N_
from newsletter.sitenames import SiteAddress, page_name
from newsletter.web.issue import WebIssue, web_issue
from newsletter.web.revisions import corrected, describe, note_text
from newsletter.web.state import Correction, read_state, write_state


@dataclass(frozen=True, slots=True)
class Recorded:
    """The issue's latest correction and its number (1 for the first)."""

    correction: Correction
    number: int
    new: bool
    """Recorded now (False: nothing changed since the last one, which is the one meant)."""


def record(project: Project, issue_file: IssueFile, note: str | None, now: dt.datetime) -> Recorded:
    """Record a correction of ``issue_file`` in ``published.json`` (see the module docstring).

    With nothing changed since the last correction, that one is returned (so that its
    email can be resumed); with nothing changed at all, a :class:`UsageError`."""
    state = read_state(project.root)
    slug = issue_file.slug
    shown = display_path(issue_file.path)
    past = state.issues.get(slug)
    if past is None:
        raise UsageError(
            f"{shown} has not been published: nothing to correct (run `newsletter publish` "
            "to put it on the web; correct it once readers have it)"
        )
    site = SiteAddress.of(project.settings.web_archive_url)
    item: WebIssue = web_issue(project, issue_file, site)
    changes = describe(past.baseline, item)
    if not changes and not note:
        if past.corrections:
            return Recorded(past.corrections[-1], len(past.corrections), False)
        raise UsageError(
            f"{shown} is as its readers last saw it: edit it first, then correct it (or give the note to show with --note)"
        )
    text = note.strip() if note else note_text(changes)
    if not text:
        raise UsageError("--note is empty: say what changed")
    after = corrected(state, item, text, now)
    write_state(project.root, after)
    corrections = after.issues[slug].corrections
    return Recorded(corrections[-1], len(corrections), True)


LEAD = N_("We have corrected the %(date)s issue, *%(title)s* (%(day)s): %(note)s")
EVENTS_NOW = N_("The events as they are now")
READ_IT = N_("Read the corrected issue")
CORRECTION = N_("Correction: %(words)s")


def correction_issue(
    issue_file: IssueFile, recorded: Recorded, archive_url: str, zone: str, default_language: str | None = None
) -> Issue:
    """The short email that tells readers of the correction: the note, the events as they
    are now (each with its calendar link, which updates the entry they added), and a link
    to the corrected page; in the language of ``issue_file`` (one of an issue's several:
    its words and dates, and its own page), else in ``default_language``'s words."""
    from zoneinfo import ZoneInfo

    issue = issue_file.issue
    day = recorded.correction.date.astimezone(ZoneInfo(zone)).date()
    changed = set(recorded.correction.events)
    events = [item.event.model_copy(update={"id": item.id}) for item in issue_events(issue) if item.id in changed]
    language = issue_file.language or default_language
    with written_in(issue_file.language):
        dates = {"date": long_date(issue.date), "day": long_date(day)}
    blocks: list[object] = [
        {
            "type": "text",
            "text": gettext_in(language, LEAD) % {**dates, "title": _md(issue.title), "note": _md(recorded.correction.note)},
        }
    ]
    if events:
        blocks.append({"type": "events", "title": gettext_in(language, EVENTS_NOW), "items": events})
    blocks.append(
        {
            "type": "button",
            "label": gettext_in(language, READ_IT),
            "url": archive_url.rstrip("/") + "/" + page_name(issue_file.page_slug),
        }
    )
    return Issue.model_validate(
        {
            "title": gettext_in(language, CORRECTION) % {"words": issue.title},
            "subject": gettext_in(language, CORRECTION) % {"words": issue.subject},
            "preheader": recorded.correction.note[:140],
            "date": day,
            "greeting": issue.greeting,
            "audience": issue.audience,
            "blocks": blocks,
        }
    )


def correction_issues(
    issue_file: IssueFile, recorded: Recorded, archive_url: str, zone: str, default_language: str
) -> tuple[tuple[str, Issue], ...]:
    """The correction email in each language of an issue in several (the default first); none
    for an issue in one language."""
    return (
        tuple(
            (variant.language or "", correction_issue(variant, recorded, archive_url, zone, default_language))
            for variant in issue_file.in_each_language()
        )
        if issue_file.languages
        else ()
    )


def _md(text: str) -> str:
    """Text put into Markdown as it is (its own asterisks and brackets shown, not obeyed)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~" else c for c in text)


def correction_slug(slug: str, number: int) -> str:
    """The name the correction's send is journaled under."""
    return f"{slug}-correction-{number}"


def issue_path(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"{display_path(path)}: no such issue file")
    return path
