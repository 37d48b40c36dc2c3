"""Everything a check looks at, computed once: the personalised email, parsed, and an
index from what was rendered back to the YAML fields it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lxml.etree import _Element

from newsletter import yamldoc
from newsletter.checks import html as H
from newsletter.checks.finding import Where
from newsletter.checks.recipients import Sample, sample_recipient
from newsletter.checks.sources import Locator, Source, SourceIndex, sources_of
from newsletter.errors import NewsletterError, display_path
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.personalize import TOKEN_RE
from newsletter.render.pipeline import Rendered
from newsletter.settings import SETTINGS_FILE, Settings


@dataclass(frozen=True, slots=True)
class LinkRef:
    """An ``<a href>`` of the email as a reader gets it, and where its address was written."""

    href: str
    name: str  # accessible name: what the link says
    element: _Element
    where: Where
    source: Source | None
    token_field: str | None  # the per-recipient field its address is made of, if any


@dataclass(frozen=True, slots=True)
class ImageRef:
    src: str
    alt: str | None
    element: _Element
    where: Where
    source: Source | None


@dataclass
class CheckContext:
    project: Project
    issue_file: IssueFile
    rendered: Rendered
    sample: Sample
    html: str  # personalised with the sample recipient
    text: str
    root: _Element
    issue_at: Locator
    settings_at: Locator
    index: SourceIndex
    links: list[LinkRef] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)
    list_path: Path | None = None
    """The subscriber list the email is checked against."""

    @property
    def settings(self) -> Settings:
        return self.project.settings

    @property
    def issue_where(self) -> Where:
        return Where(self.issue_file.doc.file)

    @cached_property
    def _templates(self) -> list[tuple[Path, list[str]]]:
        folder = self.project.root / "templates"
        out: list[tuple[Path, list[str]]] = []
        if folder.is_dir():
            for path in sorted(folder.rglob("*.j2")):
                try:
                    out.append((path, path.read_text(encoding="utf-8").splitlines()))
                except (OSError, UnicodeDecodeError):
                    continue
        return out

    def in_templates(self, snippet: str) -> Where | None:
        """The first line of the project's own templates that holds ``snippet``."""
        if not snippet:
            return None
        for path, lines in self._templates:
            for number, line in enumerate(lines, start=1):
                col = line.find(snippet)
                if col >= 0:
                    return Where(display_path(path), number, col + 1, "")
        return None

    def where_text(self, snippet: str) -> Where:
        """The field that wrote this text, else the template line, else the issue file."""
        return self.index.text(snippet) or self.in_templates(snippet) or self.issue_where


def _settings_doc(root: Path) -> yamldoc.Document | None:
    try:
        return yamldoc.read(root / SETTINGS_FILE)
    except NewsletterError:
        return None


def _links(ctx: CheckContext, tokened: _Element) -> list[LinkRef]:
    sent = [a for a in ctx.root.iter("a") if a.get("href") is not None]
    raw = [a for a in tokened.iter("a") if a.get("href") is not None]
    paired = len(sent) == len(raw)
    out: list[LinkRef] = []
    for i, a in enumerate(sent):
        href = a.get("href") or ""
        token = TOKEN_RE.search(raw[i].get("href") or "") if paired else None
        token_field = token.group(1) if token else None
        source = None if token_field else ctx.index.link(href)
        if source is not None:
            where = ctx.index.where(source)
        elif token_field == "unsubscribe_url":
            where = ctx.settings_at(("unsubscribe_url",))
        else:
            where = (
                ctx.in_templates(href or 'href=""')
                or (ctx.in_templates(f"recipient.{token_field}") if token_field else None)
                or ctx.issue_where
            )
        out.append(LinkRef(href, H.accessible_name(a), a, where, source, token_field))
    return out


def _images(ctx: CheckContext) -> list[ImageRef]:
    out: list[ImageRef] = []
    for img in ctx.root.iter("img"):
        src = img.get("src") or ""
        source = ctx.index.image(src)
        where = ctx.index.where(source) if source else (ctx.in_templates(src) or ctx.issue_where)
        out.append(ImageRef(src, img.get("alt"), img, where, source))
    return out


def _refine(*locators: Locator) -> Callable[[Where, str], Where]:
    def refine(where: Where, snippet: str) -> Where:
        for loc in locators:
            if loc.file == where.file:
                return loc.refine(where, snippet)
        return where

    return refine


def build_context(project: Project, issue_file: IssueFile, rendered: Rendered, list_path: Path | None = None) -> CheckContext:
    settings = project.settings
    list_path = project.list_path(list_path)
    sample = sample_recipient(settings, issue_file.issue.audience, list_path)
    html, text = rendered.fill(sample.values)
    issue_at = Locator(issue_file.doc, issue_file.doc.file, issue_file.path)
    settings_path = project.root / SETTINGS_FILE
    settings_at = Locator(_settings_doc(project.root), display_path(settings_path), settings_path)
    sources = sources_of(issue_file.issue, issue_at) + sources_of(settings, settings_at)
    sources.append(Source(settings_at(("web_archive_url",)), "link", rendered.archive_url))
    ctx = CheckContext(
        project=project,
        issue_file=issue_file,
        rendered=rendered,
        sample=sample,
        html=html,
        text=text,
        root=H.parse(html),
        issue_at=issue_at,
        settings_at=settings_at,
        index=SourceIndex(sources, _refine(issue_at, settings_at)),
        list_path=list_path,
    )
    ctx.links = _links(ctx, H.parse(rendered.html))
    ctx.images = _images(ctx)
    return ctx
