"""Making the site's files in memory: each issue (from the cache when unchanged), then the
index, the feed and the calendar files, and the revisions to record.

:func:`make_site` is what :func:`newsletter.web.edition.build_site` calls when the site
cannot be taken as it is; it writes nothing itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.errors import NewsletterError, display_path
from newsletter.issue.load import IssueFile, slug_for
from newsletter.project import Project
from newsletter.settings import Settings, load_settings
from newsletter.sitenames import (
    CALENDAR,
    FEED,
    FEED_STYLE,
    INDEX,
    SiteAddress,
    event_calendar_name,
    event_uid,
    issue_calendar_name,
    page_name,
)
from newsletter.web import cache
from newsletter.web.archive import in_archive
from newsletter.web.calendar import CalendarEntry, calendar_file, in_order, vevent
from newsletter.web.feed import FEED_ENTRIES, FeedEntry, atom_feed, feed_style
from newsletter.web.index import IndexItem, index_item, index_name, index_page
from newsletter.web.issue import WebIssue, web_issue
from newsletter.web.languages import feed_name
from newsletter.web.result import Listed, Request, SiteResult, failed_issue, twice
from newsletter.web.revisions import advance, current_events, describe, first_stamp
from newsletter.web.state import Correction, PublishedState, dump_state, read_state, state_path, write_state


@dataclass
class Made:
    files: dict[str, bytes]
    result: SiteResult
    root: Path
    state: PublishedState
    before: bytes
    until: float | None = None
    """When the next waiting issue's day comes (a Unix time): the site changes then."""
    issues: list[WebIssue] = field(default_factory=list)

    def write_state(self) -> bool:
        data = dump_state(self.state)
        if data == self.before and state_path(self.root).is_file() == bool(self.before):
            return False
        return write_state(self.root, self.state, data)


def _midnight(day: dt.date, zone: ZoneInfo) -> float:
    return dt.datetime.combine(day, dt.time(0, 0), zone).timestamp()


@dataclass
class _Found:
    """An issue of the archive before it is rendered: what the cache knows of it."""

    path: Path
    slug: str
    key: str
    date: dt.date
    cached: dict[str, Any] | None
    issue_file: IssueFile | None
    corrections: tuple[Correction, ...]


def collect(
    project: Project,
    request: Request,
    paths: Sequence[Path],
    sent: frozenset[str],
    state: PublishedState,
    site: SiteAddress,
    result: SiteResult,
    pack: cache.Pack,
) -> tuple[list[WebIssue], float | None]:
    """Every issue of the archive, rendered (or from the cache); the others noted in ``result``.

    First which issues are in the archive (from the cache, or by loading them), then each is
    rendered, the feed's content made only for the newest (the only ones the feed holds)."""
    root = project.root
    zone = ZoneInfo(project.settings.timezone)
    today = request.now.astimezone(zone).date()
    named = {p.resolve() for p in request.named}
    address = (site.archive, site.public, site.absolute)
    found: list[_Found] = []
    seen: set[str] = set()
    until: float | None = None
    for path in paths:
        slug = slug_for(path)
        if slug in seen:
            result.failed.append(twice(path, slug))
            continue
        try:
            data = _read(path)
            record = state.issues.get(slug)
            corrections = tuple(record.corrections) if record is not None else ()
            key = cache.issue_key(root, data, slug, address, [c.model_dump(mode="json") for c in corrections])
            hit = pack.get(key)
            if not isinstance(hit, dict):
                hit = None
            issue_file = None
            date = _cached_date(hit)
            if date is None:
                hit = None
                issue_file = project.load(path)
                date = issue_file.issue.date
            named_here = bool(named) and path.resolve() in named
            if not in_archive(slug, date, today=today, named=named_here, sent=sent, published=state.issues):
                result.not_yet.append(display_path(path))
                stamp = _midnight(date, zone)
                until = stamp if until is None else min(until, stamp)
                if hit is None:
                    pack.put(key, {"date": date.isoformat()})
                continue
            found.append(_Found(path, slug, key, date, hit, issue_file, corrections))
            seen.add(slug)
        except NewsletterError as exc:
            result.failed.append(failed_issue(path, exc))
    found.sort(key=lambda f: (f.date, f.slug), reverse=True)
    issues: list[WebIssue] = []
    for n, item in enumerate(found):
        feed = n < FEED_ENTRIES
        try:
            issues.append(_rendered(project, item, site, pack, feed=feed))
        except NewsletterError as exc:
            result.failed.append(failed_issue(item.path, exc))
    return issues, until


def _cached_date(hit: dict[str, Any] | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(hit["date"]) if hit is not None else None
    except (KeyError, TypeError, ValueError):  # damaged: a miss
        return None


def _rendered(project: Project, found: _Found, site: SiteAddress, pack: cache.Pack, *, feed: bool) -> WebIssue:
    """The issue from the cache when it holds it (with the feed's content, if asked), else rendered and kept."""
    cached = found.cached.get("issue") if found.cached is not None else None
    if isinstance(cached, dict):
        try:
            item = WebIssue.from_json(found.path, cached)
        except (KeyError, IndexError, TypeError, ValueError):  # damaged: a miss
            pass
        else:
            if item.page.content is not None or not feed:
                return item
    issue_file = found.issue_file or project.load(found.path)
    item = web_issue(project, issue_file, site, found.corrections, feed=feed)
    pack.put(found.key, {"date": found.date.isoformat(), "issue": item.to_json()})
    return item


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot read: {exc.strerror}") from None


def make_site(request: Request, paths: Sequence[Path], sent: frozenset[str]) -> Made:
    """Every file of the site, by name, and what went into it (nothing of the site is written
    here: only the cache)."""
    root = request.root
    project = Project(root, load_settings(root))
    settings = project.settings
    site = SiteAddress.of(settings.web_archive_url, request.base_url)
    before_state = read_state(root)
    before = dump_state(before_state) if state_path(root).is_file() else b""
    result = SiteResult(request.out_dir, public=site.public)
    pack = cache.Pack.open(root, cache.manifest_name(request.out_dir, request.base_url, "issues"))
    issues, until = collect(project, request, paths, sent, before_state, site, result, pack)
    pack.save()
    state = advance(before_state, issues, request.now)
    files: dict[str, bytes] = {}
    vevents = cache.Pack.open(root, cache.manifest_name(request.out_dir, request.base_url, "events"))
    entries = _entries(state, issues, site, settings.web_archive_url, settings.event_length, vevents)
    vevents.save()
    for item in issues:
        files[item.page.name] = item.page.html.encode("utf-8")
        for translation in item.translations:  # an issue in several languages: a page in each
            files[translation.page.name] = translation.page.html.encode("utf-8")
        if item.events:
            files[issue_calendar_name(item.slug)] = calendar_file([entries[e.id] for e in item.events], item.title)
        result.issues.append(Listed(item.slug, item.title, item.page.name))
    for event_id, entry in entries.items():
        files[event_calendar_name(event_id)] = calendar_file([entry])
    published = {w.slug for w in issues}
    failed = {slug_for(Path(f.file)) for f in result.failed}
    result.gone = sorted(s for s in state.issues if s not in published and s not in failed)
    listed = [(w.slug, w.title, w.date, w.summary) for w in issues]
    listed += [(s, r.title, r.date, r.summary) for s, r in state.issues.items() if s in result.gone]
    listed.sort(key=lambda x: (x[2], x[0]), reverse=True)
    files.update(indexes(listed, issues, settings, site, root))
    feed = [
        FeedEntry(w.slug, w.title, w.date, w.summary, w.page.content, site.url(page_name(w.slug)), state.issues[w.slug].updated)
        for w in issues[:FEED_ENTRIES]
        if w.page.content is not None
    ]
    files[FEED] = atom_feed(feed, name=settings.name, language=settings.language, timezone=settings.timezone, site=site)
    files.update(language_feeds(issues, state, settings, site))
    files[FEED_STYLE] = feed_style()
    ordered = in_order(entries.values())
    files[CALENDAR] = calendar_file(ordered, f"{settings.name}: events")
    result.events = len(ordered)
    result.changed_since_sent = [
        display_path(w.path)
        for w in issues
        if w.slug in sent and w.slug in before_state.issues and describe(before_state.issues[w.slug].baseline, w)
    ]
    return Made(files, result, root, state, before, until, issues)


def indexes(
    listed: Sequence[tuple[str, str, dt.date, str]], issues: Sequence[WebIssue], settings: Settings, site: SiteAddress, root: Path
) -> dict[str, bytes]:
    """``index.html`` of every issue, and one index per other language of the issues
    written in it (``index.cy.html``), each naming the others."""
    by_language: dict[str, list[IndexItem]] = {}
    for w in issues:
        for t in w.translations:
            by_language.setdefault(t.language, []).append(IndexItem(w.slug, t.title, w.date, t.summary, site.link(t.page.name)))
    languages = [settings.language, *sorted(by_language)] if by_language else []
    files = {INDEX: index_page([index_item(*x, site) for x in listed], settings, site, root, languages=languages).encode("utf-8")}
    for language, items in sorted(by_language.items()):
        items.sort(key=lambda i: (i.date, i.slug), reverse=True)
        files[index_name(language)] = index_page(items, settings, site, root, language=language, languages=languages).encode(
            "utf-8"
        )
    return files


def language_feeds(issues: Sequence[WebIssue], state: PublishedState, settings: Settings, site: SiteAddress) -> dict[str, bytes]:
    """One feed per language but the default, of the newest issues written in it."""
    entries: dict[str, list[FeedEntry]] = {}
    for w in issues[:FEED_ENTRIES]:
        for t in w.translations:
            if t.page.content is not None:
                entries.setdefault(t.language, []).append(
                    FeedEntry(
                        w.slug, t.title, w.date, t.summary, t.page.content, site.url(t.page.name), state.issues[w.slug].updated
                    )
                )
    return {
        feed_name(language): atom_feed(
            found, name=settings.name, language=language, timezone=settings.timezone, site=site, feed_file=feed_name(language)
        )
        for language, found in sorted(entries.items())
    }


def _entries(
    state: PublishedState, issues: Sequence[WebIssue], site: SiteAddress, archive_url: str, length: int, vevents: cache.Pack
) -> dict[str, CalendarEntry]:
    """Each event once, as the site publishes it now, its VEVENT written (or as written
    before, for the same revision: ``vevents``)."""
    published = {w.slug for w in issues}
    out: dict[str, CalendarEntry] = {}
    for event_id, current in sorted(current_events(state, issues).items()):
        record = current.record
        home = record.issue if record.issue in published else current.newest
        entry = CalendarEntry(
            uid=event_uid(archive_url, event_id),
            event=current.event,
            page_url=site.url(page_name(home)),
            stamp=record.modified or first_stamp(state, record),
            sequence=record.sequence,
            modified=record.modified is not None,
            length=length,
        )
        key = cache.entry_key(
            [
                entry.uid,
                entry.event.to_json(),
                entry.page_url,
                entry.stamp.isoformat(),
                entry.sequence,
                entry.modified,
                entry.length,
            ]
        )
        text = vevents.get(key)
        if not isinstance(text, str):
            text = vevent(entry).decode("utf-8")
            vevents.put(key, text)
        out[event_id] = CalendarEntry(
            entry.uid,
            entry.event,
            entry.page_url,
            entry.stamp,
            entry.sequence,
            entry.modified,
            entry.length,
            text.encode("utf-8"),
        )
    return out
