"""The preview's state: every issue of the project built, swapped in whole on each rebuild.

A :class:`Snapshot` is immutable. A rebuild makes a new one beside the old and then
replaces the reference in one step, so a request sees either the old build or the
new one, never half of each: a page never shows a half-built email. A file that
does not build becomes an :class:`IssueBuild` with problems instead of an email;
nothing a user writes can stop the server.

The preview reads only files inside the project folder: an issue, settings file,
template or list that is a link to somewhere else is reported, not read.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import traceback
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from newsletter import yamldoc
from newsletter.audience import Subscriber
from newsletter.checks import Finding, run_checks
from newsletter.errors import InputError, NewsletterError, Problem, display_path
from newsletter.issue.load import IssueFile, load_issue, slug_for
from newsletter.issue.model import Audience
from newsletter.preview.readers import eligible_readers
from newsletter.project import LIST_FILE, Project
from newsletter.render import env as template_envs
from newsletter.render.pipeline import Rendered, render_issue
from newsletter.settings import SETTINGS_FILE, Settings, load_settings
from newsletter.sitenames import SITE_DIR

ISSUES_DIR = "issues"
TEMPLATES_DIR = "templates"
ISSUE_SUFFIXES = (".yaml", ".yml")

_AudienceKey = tuple[tuple[str, ...], tuple[str, ...]]
_Readers = tuple[tuple[Subscriber, ...], str]


@dataclass(frozen=True, slots=True)
class IssueBuild:
    """One issue as last built: its email, or the problems that stop it building."""

    slug: str
    path: Path
    file: str
    """The issue file as a user would type it."""
    title: str
    subject: str
    date: str
    rendered: Rendered | None = None
    issue_file: IssueFile | None = None
    problems: tuple[Problem, ...] = ()
    summary: str = ""
    readers: tuple[Subscriber, ...] = ()
    """People from the list the issue goes to (the first ones), for the "view as" picker."""
    list_problem: str = ""
    findings: tuple[Finding, ...] = ()
    """What ``newsletter check`` finds (for the reader with the longest details)."""
    check_problem: str = ""

    @property
    def ok(self) -> bool:
        return self.rendered is not None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole project as last built; ``version`` goes up by one with every change."""

    version: int
    name: str
    settings: Settings | None
    problems: tuple[Problem, ...]
    """Problems of the project as a whole (settings, templates): no issue builds while any."""
    issues: tuple[IssueBuild, ...]
    """Newest first."""

    def issue(self, slug: str) -> IssueBuild | None:
        for build in self.issues:
            if build.slug == slug:
                return build
        return None


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``, with every link followed, is within ``root`` (already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def _outside_problem(root: Path, path: Path) -> Problem:
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else display_path(path)
    return Problem(
        shown,
        None,
        None,
        "",
        "links to a file outside the project folder; the preview reads only files inside it",
        "copy the file into the project instead of linking to it",
    )


class Site:
    """Builds the project in ``root`` and hands out the latest :class:`Snapshot`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.issues_dir = self.root / ISSUES_DIR
        self.templates_dir = self.root / TEMPLATES_DIR
        self.list_path = self.root / LIST_FILE
        self.site_dir = self.root / SITE_DIR
        """The published web edition: a change there re-runs the checks (web-not-published)."""
        self._snapshot = Snapshot(0, self.root.name, None, (), ())
        self._changed = threading.Condition()
        self._building = threading.Lock()
        self._closed = False
        self._web: dict[tuple[int, str], tuple[str | None, str]] = {}
        self._web_lock = threading.Lock()
        self._languages: dict[tuple[int, str, str], IssueBuild] = {}

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def wait(self, version: int, timeout: float) -> Snapshot:
        """The snapshot once its version differs from ``version`` (or after ``timeout`` s)."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.version != version or self._closed, timeout)
            return self._snapshot

    @property
    def closed(self) -> bool:
        return self._closed

    def in_language(self, snapshot: Snapshot, build: IssueBuild, language: str) -> IssueBuild:
        """The issue rendered in ``language``, one of its languages (else as it is built:
        in its default language). Made on request and kept while the snapshot is current."""
        issue_file = build.issue_file
        if (
            issue_file is None
            or snapshot.settings is None
            or build.rendered is None
            or language not in issue_file.languages
            or language == build.rendered.language
        ):
            return build
        key = (snapshot.version, build.slug, language)
        with self._web_lock:
            known = self._languages.get(key)
        if known is None:
            variant = issue_file.variant(language)
            try:
                rendered = render_issue(variant, snapshot.settings, self.root)
                known = dataclasses.replace(
                    build, rendered=rendered, issue_file=variant, title=variant.issue.title, subject=rendered.subject
                )
            except NewsletterError as exc:
                problems = tuple(getattr(exc, "problems", ())) or (Problem(build.file, None, None, "", exc.format_message()),)
                known = dataclasses.replace(build, rendered=None, problems=problems)
            with self._web_lock:
                self._languages = {k: v for k, v in self._languages.items() if k[0] == snapshot.version}
                self._languages[key] = known
        return known

    def web_edition(self, snapshot: Snapshot, build: IssueBuild) -> tuple[str | None, str]:
        """(the issue's web page as ``newsletter publish`` writes it, or None; a problem).

        Made on first request (most issues are never looked at on the Web tab) and kept
        while the snapshot is current."""
        if build.issue_file is None or snapshot.settings is None:
            return None, ""
        key = (snapshot.version, build.issue_file.page_slug)  # each language's page its own
        with self._web_lock:
            if key in self._web:
                return self._web[key]
        try:
            from newsletter.sitenames import SiteAddress
            from newsletter.web.issue import web_issue
            from newsletter.web.state import read_state

            project = Project(self.root, snapshot.settings)
            address = SiteAddress.of(snapshot.settings.web_archive_url)
            record = read_state(self.root).issues.get(build.slug)  # its corrections, as publish shows them
            corrections = tuple(record.corrections) if record is not None else ()
            page = web_issue(project, build.issue_file, address, corrections, feed=False).page
            made: tuple[str | None, str] = (page.html, "")
        except NewsletterError as exc:
            made = (None, exc.format_message())
        except Exception as exc:  # a bug of ours: show it, keep serving
            traceback.print_exc(file=sys.stderr)
            made = (None, f"internal error: {type(exc).__name__}: {exc}")
        with self._web_lock:
            if any(v != snapshot.version for v, _ in self._web):
                self._web = {k: v for k, v in self._web.items() if k[0] == snapshot.version}
            self._web[key] = made
        return made

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def rebuild(self, changed: Collection[Path] | None = None) -> Snapshot:
        """Rebuild what ``changed`` files affect (everything when None) and publish the result."""
        with self._building:
            old = self._snapshot
            new = self._build(old, changed)
            if new is not old:
                with self._changed:
                    self._snapshot = new
                    self._changed.notify_all()
            return new

    # --- building ------------------------------------------------------------------

    def _build(self, old: Snapshot, changed: Collection[Path] | None) -> Snapshot:
        full = changed is None or any(self._affects_all(p) for p in changed)
        list_changed = full or (
            changed is not None and any(p == self.list_path or p.is_relative_to(self.site_dir) for p in changed)
        )
        if full:
            template_envs.html_env.cache_clear()
            template_envs.text_env.cache_clear()
            settings, problems = self._settings()
        else:
            settings, problems = old.settings, old.problems
        previous = {b.path: b for b in old.issues}
        readers: dict[_AudienceKey, _Readers] = {}
        builds: list[IssueBuild] = []
        for path in self._issue_paths():
            build = previous.get(path)
            if full or build is None or (changed is not None and path in changed):
                build = self._issue(path, settings, problems)
                build = self._with_list(build, settings, readers)
            elif list_changed:
                build = self._with_list(build, settings, readers)
            builds.append(build)
        builds.sort(key=lambda b: (b.date, b.slug), reverse=True)
        unchanged = len(builds) == len(old.issues) and all(a is b for a, b in zip(builds, old.issues))
        if unchanged and not full:
            return old
        name = settings.name if settings is not None else self.root.name
        return Snapshot(old.version + 1, name, settings, problems, tuple(builds))

    def _affects_all(self, path: Path) -> bool:
        return (
            path == self.root / SETTINGS_FILE
            or path.is_relative_to(self.templates_dir)
            or path.is_relative_to(template_envs.BUILTIN_TEMPLATES)
        )

    def _settings(self) -> tuple[Settings | None, tuple[Problem, ...]]:
        path = self.root / SETTINGS_FILE
        if not inside(self.root, path):
            return None, (_outside_problem(self.root, path),)
        try:
            settings = load_settings(self.root)
        except InputError as exc:
            return None, tuple(exc.problems)
        except NewsletterError as exc:
            return None, (Problem(display_path(path), None, None, "", exc.format_message()),)
        linked = tuple(_outside_problem(self.root, p) for p in self._template_files() if not inside(self.root, p))
        return settings, linked

    def _template_files(self) -> list[Path]:
        found: list[Path] = []
        for folder, dirs, files in os.walk(self.templates_dir):
            found.extend(Path(folder) / name for name in (*dirs, *files))
        return found

    def _issue_paths(self) -> list[Path]:
        try:
            entries = list(self.issues_dir.iterdir())
        except OSError:
            return []
        return sorted(p for p in entries if p.suffix in ISSUE_SUFFIXES and not p.name.startswith(".") and not p.is_dir())

    def _issue(self, path: Path, settings: Settings | None, problems: tuple[Problem, ...]) -> IssueBuild:
        file = display_path(path)
        slug = slug_for(path)
        if not inside(self.root, path):
            return IssueBuild(slug, path, file, slug, "", "", problems=(_outside_problem(self.root, path),), summary="not read")
        if settings is None or problems:
            return _failed(path, slug, file, problems, f"the project's {SETTINGS_FILE} or templates have problems")
        try:
            issue_file = load_issue(path, settings)
            rendered = render_issue(issue_file, settings, self.root)
        except InputError as exc:
            n = len(exc.problems)
            return _failed(path, slug, file, tuple(exc.problems), exc.summary or f"{n} problem{'s' if n != 1 else ''} found")
        except NewsletterError as exc:
            problem = Problem(file, None, None, "", exc.format_message())
            return _failed(path, slug, file, (problem,), "does not build")
        except Exception as exc:  # a bug of ours: show it, keep serving
            traceback.print_exc(file=sys.stderr)
            problem = Problem(
                file,
                None,
                None,
                "",
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in newsletter; the details are in the terminal",
            )
            return _failed(path, slug, file, (problem,), "internal error")
        issue = issue_file.issue
        return IssueBuild(
            slug, path, file, issue.title, issue.subject, issue.date.isoformat(), rendered=rendered, issue_file=issue_file
        )

    def _with_list(self, build: IssueBuild, settings: Settings | None, cache: dict[_AudienceKey, _Readers]) -> IssueBuild:
        """The parts of an issue's page that depend on ``subscribers.csv``: the people it
        can be shown as, and the findings of ``newsletter check``."""
        if build.issue_file is None or build.rendered is None or settings is None:
            return build
        audience = build.issue_file.issue.audience
        key = (tuple(audience.tags), tuple(audience.exclude_tags))
        if key not in cache:
            cache[key] = self._readers(audience)
        readers, problem = cache[key]
        findings: tuple[Finding, ...] = ()
        check_problem = ""
        if problem:
            check_problem = "not checked until the list can be read"
        else:
            try:
                project = Project(self.root, settings)
                findings = tuple(run_checks(project, build.issue_file, build.rendered))
            except NewsletterError as exc:
                check_problem = exc.format_message()
            except Exception as exc:  # a bug of ours: show it, keep serving
                traceback.print_exc(file=sys.stderr)
                check_problem = f"internal error: {type(exc).__name__}: {exc}"
        return dataclasses.replace(build, readers=readers, list_problem=problem, findings=findings, check_problem=check_problem)

    def _readers(self, audience: Audience) -> _Readers:
        if not self.list_path.exists():
            return (), ""
        if not inside(self.root, self.list_path):
            return (), str(_outside_problem(self.root, self.list_path))
        try:
            return tuple(eligible_readers(self.list_path, audience)), ""
        except NewsletterError as exc:
            return (), exc.format_message()
        except Exception as exc:  # a bug of ours: show it, keep serving
            traceback.print_exc(file=sys.stderr)
            return (), f"{display_path(self.list_path)}: internal error: {type(exc).__name__}: {exc}"


def _failed(path: Path, slug: str, file: str, problems: tuple[Problem, ...], summary: str) -> IssueBuild:
    """An issue that does not build, with its title, subject and date as written (if readable)."""
    try:
        data = yamldoc.read(path).data
    except Exception:  # whatever stopped the build may stop this read too: the problems say why
        data = None
    if not isinstance(data, dict):
        data = {}

    def text(key: str) -> str:
        value = data.get(key)
        return str(value) if isinstance(value, str | int | float) else ""

    return IssueBuild(slug, path, file, text("title") or slug, text("subject"), text("date"), problems=problems, summary=summary)
