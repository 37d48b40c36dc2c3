"""The whole web edition: every issue that builds → pages, index, feed and calendar files.

Files are made in memory first, then written with :func:`newsletter.files.write_if_changed`:
a file whose bytes did not change is not touched (nor its modification time), so an
upload tool sends only what changed. Each file is replaced atomically; they are synced
to disk together at the end. Only the issues and ``newsletter.yaml`` are
read: no subscriber list, no journal, no secret, so nothing personal reaches ``site/``.
An issue that does not build is reported and left out; the others are published.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from newsletter.errors import InputError, NewsletterError, Problem, UsageError, display_path
from newsletter.files import write_if_changed
from newsletter.issue.load import IssueFile, slug_for
from newsletter.project import Project
from newsletter.render.pipeline import render_html_for_browsers
from newsletter.web.calendar import CalendarEvent, calendar_file, upcoming
from newsletter.web.feed import FeedEntry, atom_feed
from newsletter.web.index import index_item, index_page
from newsletter.web.names import (
    CALENDAR,
    FEED,
    INDEX,
    SiteAddress,
    event_calendar_name,
    event_uid,
    events_of,
    issue_calendar_name,
    page_name,
)
from newsletter.web.page import WebPage, web_page

ISSUE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Failed:
    """An issue left out of the site, and why."""

    file: str
    summary: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class WebIssue:
    """One issue as the web edition shows it."""

    issue_file: IssueFile
    page: WebPage
    events: tuple[CalendarEvent, ...]

    @property
    def slug(self) -> str:
        return self.issue_file.slug


@dataclass
class SiteResult:
    out_dir: Path
    issues: list[WebIssue] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    not_yet: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    upcoming: int = 0


def issue_paths(project: Project) -> list[Path]:
    """The project's issue files, in name order."""
    folder = project.root / "issues"
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if p.suffix in ISSUE_SUFFIXES and not p.name.startswith(".") and p.is_file())


def web_issue(project: Project, issue_file: IssueFile, site: SiteAddress) -> WebIssue:
    """Render one loaded issue for the web: no greeting, MJML's HTML as browsers read it
    (no CSS inlining, no text part: a third of the email's render), then :func:`web_page`."""
    settings = project.settings
    without_greeting = issue_file.issue.model_copy(update={"greeting": False})
    html = render_html_for_browsers(dataclasses.replace(issue_file, issue=without_greeting), settings, project.root)
    page = web_page(html, settings, issue_file.issue, issue_file.slug, site)
    url = site.url(page_name(issue_file.slug))
    events = tuple(
        CalendarEvent(event_uid(settings.web_archive_url, issue_file.slug, n), event, issue_file.issue.date, url)
        for n, event in events_of(issue_file.issue)
    )
    return WebIssue(issue_file, page, events)


def _failed(path: Path, exc: NewsletterError) -> Failed:
    if isinstance(exc, InputError):
        n = len(exc.problems)
        return Failed(display_path(path), exc.summary or f"{n} problem{'s' if n != 1 else ''} found",
                      tuple(exc.problems))
    return Failed(display_path(path), "does not build", (Problem(display_path(path), None, None, "", exc.format_message()),))


def render_site(project: Project, paths: Sequence[Path], site: SiteAddress, now: dt.datetime,
                *, only_dated: bool) -> tuple[dict[str, bytes], SiteResult]:
    """Every file of the site, by name, and what went into it (nothing is written here).

    With ``only_dated``, issues dated after ``now`` (in the publication's time zone) wait."""
    result = SiteResult(Path())
    seen: set[str] = set()
    today = now.astimezone(ZoneInfo(project.settings.timezone)).date()
    for path in paths:
        slug = slug_for(path)
        if slug in seen:
            result.failed.append(Failed(display_path(path), "published twice", (Problem(
                display_path(path), None, None, "", f"another issue file has the slug '{slug}'",
                "rename one of them"),)))
            continue
        try:
            issue_file = project.load(path)
            if only_dated and issue_file.issue.date > today:
                result.not_yet.append(display_path(path))
                continue
            result.issues.append(web_issue(project, issue_file, site))
            seen.add(slug)
        except NewsletterError as exc:
            result.failed.append(_failed(path, exc))
    result.issues.sort(key=lambda w: (w.issue_file.issue.date, w.slug), reverse=True)
    return _files(project, result, site, now), result


def _files(project: Project, result: SiteResult, site: SiteAddress, now: dt.datetime) -> dict[str, bytes]:
    settings = project.settings
    files: dict[str, bytes] = {}
    for item in result.issues:
        files[item.page.name] = item.page.html.encode("utf-8")
        if item.events:
            files[issue_calendar_name(item.slug)] = calendar_file(item.events, item.issue_file.issue.title)
            for number, event in enumerate(item.events, start=1):
                files[event_calendar_name(item.slug, number)] = calendar_file([event])
    summaries = [
        (w, w.issue_file.issue.preheader or w.issue_file.issue.subject) for w in result.issues
    ]
    items = [index_item(w.slug, w.issue_file.issue.title, w.issue_file.issue.date, s, site) for w, s in summaries]
    files[INDEX] = index_page(items, settings, site, project.root).encode("utf-8")
    entries = [
        FeedEntry(w.slug, w.issue_file.issue.title, w.issue_file.issue.date, s, w.page.content,
                  site.url(page_name(w.slug)))
        for w, s in summaries
    ]
    files[FEED] = atom_feed(entries, name=settings.name, language=settings.language,
                            timezone=settings.timezone, site=site)
    coming = upcoming([e for w in result.issues for e in w.events], now)
    result.upcoming = len(coming)
    files[CALENDAR] = calendar_file(coming, f"{settings.name}: events")
    return files


def prepare_folder(out_dir: Path) -> None:
    """Make the output folder, or say clearly why it cannot be written to (exit 2)."""
    shown = display_path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{shown}: is a file, not a folder; choose another with -o") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot create the folder: {exc.strerror}; choose another with -o") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(f"{shown}: cannot write into this folder (permission denied); choose another with -o")


def build_site(project: Project, paths: Sequence[Path] | None, out_dir: Path, *, base_url: str | None,
               now: dt.datetime) -> SiteResult:
    """Publish ``paths`` (default: every issue in ``issues/`` dated today or earlier) to ``out_dir``."""
    prepare_folder(out_dir)
    site = SiteAddress.of(project.settings.web_archive_url, base_url)
    chosen = list(paths) if paths else issue_paths(project)
    files, result = render_site(project, chosen, site, now, only_dated=not paths)
    result.out_dir = out_dir
    for name, data in files.items():
        # each file atomic; made durable all at once (one fsync per file cost seconds for a big site)
        if write_if_changed(out_dir / name, data, durable=False):
            result.written.append(name)
        else:
            result.unchanged.append(name)
    if result.written:
        os.sync()
    return result
