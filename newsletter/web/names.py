"""File names and addresses of the web edition, shared by the email and the site.

The email's links name these files, so they are made in one place: ``<slug>.html``
(the page "View in browser" names), ``<slug>.ics`` (an issue's events) and
``<slug>-event-<n>.ics`` (its n-th event, counted through the issue in order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsletter.issue.model import Event, EventsBlock, Issue

SITE_DIR = "site"
"""The folder ``newsletter publish`` writes by default (relative to the project)."""
INDEX = "index.html"
FEED = "feed.xml"
CALENDAR = "calendar.ics"


def base_url(url: str) -> str:
    """An archive address with exactly one trailing slash."""
    return url.rstrip("/") + "/"


def page_name(slug: str) -> str:
    return f"{slug}.html"


def issue_calendar_name(slug: str) -> str:
    return f"{slug}.ics"


def event_calendar_name(slug: str, number: int) -> str:
    return f"{slug}-event-{number}.ics"


def events_of(issue: Issue) -> Iterator[tuple[int, Event]]:
    """(number, event) for every event of the issue, numbered from 1 in reading order."""
    number = 0
    for block in issue.blocks:
        if isinstance(block, EventsBlock):
            for event in block.items:
                number += 1
                yield number, event


def event_uid(web_archive_url: str, slug: str, number: int) -> str:
    """A calendar UID that stays the same across rebuilds (and corrections of the time)."""
    host = urlsplit(web_archive_url).hostname or "newsletter.invalid"
    return f"{slug}-event-{number}@{host}"


@dataclass(frozen=True, slots=True)
class CalendarLinks:
    """What templates call as ``calendar_url(event)``: the address of the event's ``.ics``
    in the web archive ("" for an event it does not know)."""

    base: str
    names: dict[int, str]  # id(event) → file name

    @classmethod
    def of(cls, web_archive_url: str, slug: str, issue: Issue) -> CalendarLinks:
        names = {id(event): event_calendar_name(slug, n) for n, event in events_of(issue)}
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
                return self.link(href[len(base):])
        return None
