"""One issue as the web edition holds it: its page, its events, and the digests that say
when it changed — plain values, so that :mod:`newsletter.web.cache` can keep them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.issue.events import issue_events
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.dates import when
from newsletter.render.pipeline import render_html_for_browsers
from newsletter.sitenames import SiteAddress
from newsletter.web.calendar import CalEvent
from newsletter.web.languages import Translation, translations
from newsletter.web.page import WebPage, web_page
from newsletter.web.state import Correction, EventSeen


@dataclass(frozen=True, slots=True)
class WebIssue:
    """One issue as the web edition shows it."""

    path: Path
    slug: str
    title: str
    date: dt.date
    summary: str
    page: WebPage
    events: tuple[CalEvent, ...]
    digest: str
    """Of the issue's content: its words and its events."""
    text_digest: str
    """Of its words alone (events left out)."""
    seen: dict[str, EventSeen]
    """Each event as a reader reads it (for correction notes)."""
    translations: tuple[Translation, ...] = ()
    """Its page in each of its languages but the default (:mod:`newsletter.web.languages`)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "date": self.date.isoformat(),
            "summary": self.summary,
            "page": [self.page.name, self.page.html, self.page.content],
            "events": [e.to_json() for e in self.events],
            "digest": self.digest,
            "text_digest": self.text_digest,
            "seen": {k: v.model_dump() for k, v in self.seen.items()},
            **({"translations": [t.to_json() for t in self.translations]} if self.translations else {}),
        }

    @classmethod
    def from_json(cls, path: Path, data: dict[str, Any]) -> WebIssue:
        name, html, content = data["page"]
        return cls(
            path,
            data["slug"],
            data["title"],
            dt.date.fromisoformat(data["date"]),
            data["summary"],
            WebPage(name, html, content),
            tuple(CalEvent.from_json(e) for e in data["events"]),
            data["digest"],
            data["text_digest"],
            {k: EventSeen.model_validate(v) for k, v in data["seen"].items()},
            tuple(Translation.from_json(t) for t in data.get("translations", ())),
        )


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _without_events(data: Any) -> Any:
    """The issue's data with the items of its events blocks left out."""
    if not isinstance(data, dict) or not isinstance(data.get("blocks"), list):
        return data
    blocks = [
        {k: v for k, v in b.items() if k != "items"} if isinstance(b, dict) and b.get("type") == "events" else b
        for b in data["blocks"]
    ]
    return {**data, "blocks": blocks}


def seen(event: CalEvent) -> EventSeen:
    place = "online" if event.place == "online" else event.place
    return EventSeen(title=event.title, when=when(event.start, event.end), place=place)


def web_issue(
    project: Project, issue_file: IssueFile, site: SiteAddress, corrections: tuple[Correction, ...] = (), *, feed: bool = True
) -> WebIssue:
    """Render one loaded issue for the web: no greeting, MJML's HTML as browsers read it
    (no CSS inlining, no text part: less work than the email's render), then :func:`web_page`."""
    settings = project.settings
    issue = issue_file.issue
    without_greeting = issue.model_copy(update={"greeting": False})
    html = render_html_for_browsers(dataclasses.replace(issue_file, issue=without_greeting), settings, project.root)
    page = web_page(html, settings, issue, issue_file.slug, site, corrections, feed=feed, language=issue_file.language)
    page, translated = translations(project, issue_file, site, corrections, page, feed=feed)
    events = tuple(CalEvent.of(item.id, item.event) for item in issue_events(issue))
    data = issue_file.doc.data
    return WebIssue(
        path=issue_file.path,
        slug=issue_file.slug,
        title=issue.title,
        date=issue.date,
        summary=issue.preheader or issue.subject,
        page=page,
        events=events,
        digest=_digest(data),
        text_digest=_digest(_without_events(data)),
        seen={e.id: seen(e) for e in events},
        translations=translated,
    )
