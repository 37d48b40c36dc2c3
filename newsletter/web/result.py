"""What a publish was asked for and what it did: plain values shared by
:mod:`newsletter.web.edition` (which writes) and :mod:`newsletter.web.make` (which makes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.errors import InputError, NewsletterError, Problem, display_path
from newsletter.web.archive import issue_paths


@dataclass(frozen=True, slots=True)
class Failed:
    """An issue left out of the site, and why."""

    file: str
    summary: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Listed:
    """An issue of the site as the summary shows it."""

    slug: str
    title: str
    page: str


@dataclass
class SiteResult:
    out_dir: Path
    issues: list[Listed] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    not_yet: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    events: int = 0
    public: str = ""
    """Where the site is served (``--base-url``, else ``web_archive_url``): where to upload it."""
    changed_since_sent: list[str] = field(default_factory=list)
    """Sent issues edited since readers last saw them (``newsletter correct`` tells them)."""
    gone: list[str] = field(default_factory=list)
    """Published issues whose file is gone (their pages stay as published)."""
    state_written: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "issues": [[i.slug, i.title, i.page] for i in self.issues],
            "not_yet": self.not_yet,
            "events": self.events,
            "gone": self.gone,
            "public": self.public,
            "changed_since_sent": self.changed_since_sent,
        }

    @classmethod
    def from_json(cls, out_dir: Path, data: dict[str, Any], unchanged: list[str]) -> SiteResult:
        return cls(
            out_dir,
            [Listed(*i) for i in data["issues"]],
            not_yet=list(data["not_yet"]),
            unchanged=unchanged,
            events=int(data["events"]),
            public=str(data["public"]),
            gone=list(data["gone"]),
            changed_since_sent=list(data["changed_since_sent"]),
        )


def failed_issue(path: Path, exc: NewsletterError) -> Failed:
    if isinstance(exc, InputError):
        n = len(exc.problems)
        return Failed(display_path(path), exc.summary or f"{n} problem{'s' if n != 1 else ''} found", tuple(exc.problems))
    return Failed(display_path(path), "does not build", (Problem(display_path(path), None, None, "", exc.format_message()),))


def twice(path: Path, slug: str) -> Failed:
    return Failed(
        display_path(path),
        "published twice",
        (Problem(display_path(path), None, None, "", f"another issue file has the slug '{slug}'", "rename one of them"),),
    )


@dataclass(frozen=True, slots=True)
class Request:
    """What a publish was asked for."""

    root: Path
    named: tuple[Path, ...]
    out_dir: Path
    base_url: str | None
    now: dt.datetime

    def candidates(self) -> list[Path]:
        """Every issue file of the project, and those named, once each."""
        seen: set[Path] = set()
        out = []
        for path in [*issue_paths(self.root), *self.named]:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(path)
        return out
