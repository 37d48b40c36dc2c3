"""The Atom feed (RFC 4287), written with lxml's XML writer: escaping and namespaces are
the library's, never string concatenation.

The newest ``FEED_ENTRIES`` issues, each with its full content (absolute links) and
summary. ``published`` is the issue's date at midnight in the publication's time zone;
``updated`` is the same until the page changes, then the time that change was published
(kept in ``published.json``), so feed readers show a corrected issue again and the same
input gives the same bytes. The feed names ``feed.xsl``, an XSLT stylesheet a browser
applies to show the feed as a readable page (feed readers ignore it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from newsletter.sitenames import FEED, FEED_STYLE, INDEX, SiteAddress

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_ENTRIES = 20
"""How many of the newest issues the feed holds (the index lists them all)."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    slug: str
    title: str
    date: dt.date
    summary: str
    content: str
    url: str
    updated: dt.datetime | None = None
    """When the page last changed, if it did since first published."""


def _time(day: dt.date, zone: str) -> str:
    return dt.datetime.combine(day, dt.time(0, 0), ZoneInfo(zone)).isoformat()


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}")
    for key, value in attributes.items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def atom_feed(
    entries: Sequence[FeedEntry],
    *,
    name: str,
    language: str,
    timezone: str,
    site: SiteAddress,
    logo: str | None = None,
    feed_file: str = FEED,
) -> bytes:
    """The feed of ``entries`` (newest first); ``feed_file``: its own name in the site."""
    newest = list(entries)[:FEED_ENTRIES]
    times = {item.slug: (_time(item.date, timezone), _updated(item, timezone)) for item in newest}
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})  # type: ignore[dict-item]  # lxml's default namespace
    feed.set(XML_LANG, language)
    _add(feed, "id", site.url("") if feed_file == FEED else site.url(feed_file))  # each feed its own id
    _add(feed, "title", name)
    latest = max((dt.datetime.fromisoformat(u) for _, u in times.values()), default=None)
    _add(feed, "updated", latest.isoformat() if latest else "1970-01-01T00:00:00+00:00")
    _add(feed, "link", rel="self", type="application/atom+xml", href=site.url(feed_file))
    _add(feed, "link", rel="alternate", type="text/html", href=site.url(INDEX))
    author = _add(feed, "author")
    _add(author, "name", name)
    _add(feed, "generator", "newsletter")
    if logo:
        _add(feed, "logo", logo)
    for item in newest:
        entry = _add(feed, "entry")
        _add(entry, "id", item.url)
        _add(entry, "title", item.title)
        _add(entry, "link", rel="alternate", type="text/html", href=item.url)
        published, updated = times[item.slug]
        _add(entry, "published", published)
        _add(entry, "updated", updated)
        _add(entry, "summary", item.summary)
        _add(entry, "content", item.content, type="html")
    style = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{site.link(FEED_STYLE)}"')
    feed.addprevious(style)
    data: bytes = etree.tostring(feed.getroottree(), xml_declaration=True, encoding="utf-8", pretty_print=True)
    return data


def _updated(item: FeedEntry, zone: str) -> str:
    if item.updated is None:
        return _time(item.date, zone)
    return item.updated.astimezone(ZoneInfo(zone)).isoformat()


def feed_style() -> bytes:
    """``feed.xsl``: the feed as a page a browser shows (built in)."""
    return (Path(__file__).resolve().parent.parent / "templates" / "web" / FEED_STYLE).read_bytes()
