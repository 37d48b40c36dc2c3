"""File names and addresses of the web edition, shared by the email and the site.

It sits below both :mod:`newsletter.render` (the email's links) and :mod:`newsletter.web`
(the files), so that neither imports the other.

The email's links name these files, so they are made in one place: ``<slug>.html``
(the page "View in browser" names), ``<slug>.ics`` (an issue's events) and
``events/<id>.ics`` (one event, named by its lasting identity: see
:mod:`newsletter.issue.events`; an event carried into the next issue keeps its file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from newsletter.issue.model import Issue

SITE_DIR = "site"
"""The folder ``newsletter publish`` writes by default (relative to the project)."""
INDEX = "index.html"
FEED = "feed.xml"
CALENDAR = "calendar.ics"
FEED_STYLE = "feed.xsl"
EVENTS_DIR = "events"


def base_url(url: str) -> str:
    """An archive address with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def page_name(slug: str) -> str:
    return f"{slug}.html"


def issue_calendar_name(slug: str) -> str:
    return f"{slug}.ics"


def event_calendar_name(event_id: str) -> str:
    return f"{EVENTS_DIR}/{event_id}.ics"


def event_uid(web_archive_url: str, event_id: str) -> str:
    """A calendar UID that stays the same across rebuilds, edits and issues: the event's identity."""
    host = urlsplit(web_archive_url).hostname or "newsletter.invalid"
    return f"{event_id}@{host}"


@dataclass(frozen=True, slots=True)
class CalendarLinks:
    """What templates call as ``calendar_url(event)``: the address of the event's ``.ics``
    in the web archive ("" for an event it does not know)."""

    base: str
    names: dict[int, str]  # id(event) → file name

    @classmethod
    def of(cls, web_archive_url: str, issue: Issue) -> CalendarLinks:
        from newsletter.issue.events import issue_events

        names = {id(item.event): event_calendar_name(item.id) for item in issue_events(issue)}
        return cls(base_url(web_archive_url), names)

    def __call__(self, event: object) -> str:
        name = self.names.get(id(event))
        return self.base + name if name else ""


@dataclass(frozen=True, slots=True)
class SiteAddress:
    """Where the site lives and how its pages link to each other.

    ``archive`` is ``web_archive_url`` (what the emails link to); ``public`` is where the
    site is served (``--base-url``, else the archive). Links between the site's own
    files are relative (the folder works from any host and from the local disk)
    unless ``absolute`` is set; canonical URLs, the feed and calendar files always use
    absolute addresses.
    """

    archive: str
    public: str
    absolute: bool = False

    @classmethod
    def of(cls, web_archive_url: str, base: str | None = None) -> SiteAddress:
        archive = base_url(web_archive_url)
        return cls(archive, base_url(base) if base else archive, bool(base))

    def url(self, name: str) -> str:
        """The absolute address of one of the site's files."""
        return self.public + name

    def link(self, name: str) -> str:
        """How a page of the site links to one of its files."""
        return self.url(name) if self.absolute else name

    def local(self, href: str) -> str | None:
        """For an address inside the archive (or the public site), the link a page uses."""
        for base in (self.archive, self.public):
            if href.startswith(base) and href != base:
                return self.link(href[len(base) :])
        return None
