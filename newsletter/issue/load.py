"""Load an issue file: YAML with positions → :class:`~newsletter.issue.model.Issue`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from newsletter import yamldoc
from newsletter.errors import InputError, Problem
from newsletter.issue import languages as langs
from newsletter.issue.model import Issue
from newsletter.settings import Settings

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class IssueFile:
    """A validated issue and where it came from (positions kept for later checks)."""

    path: Path
    slug: str
    issue: Issue
    doc: yamldoc.Document
    language: str | None = None
    """The language of ``issue`` when the issue has several (None: the settings' one)."""
    languages: tuple[str, ...] = ()
    """The issue's languages, the default first; empty for an issue in one language."""
    variants: tuple[tuple[str, Issue, yamldoc.Document], ...] = field(default=(), repr=False, compare=False)
    missing: tuple[Problem, ...] = field(default=(), repr=False, compare=False)
    """Words lacking in a language (shown in the default one): ``check`` errors."""

    @property
    def page_slug(self) -> str:
        """The name of this language's web page: the slug, with ``.cy`` for a language but
        the default (``2024-06-june-team-update.cy``)."""
        if self.language is None or not self.languages or self.language == self.languages[0]:
            return self.slug
        return f"{self.slug}.{self.language}"

    def variant(self, language: str) -> IssueFile:
        """The issue in ``language`` (one of :attr:`languages`)."""
        for tag, issue, doc in self.variants:
            if tag == language:
                return replace(self, issue=issue, doc=doc, language=tag)
        raise KeyError(language)

    def in_each_language(self) -> list[IssueFile]:
        """The issue once per language, the default first (itself alone for one language)."""
        return [self.variant(tag) for tag in self.languages] if self.languages else [self]


def slug_for(path: Path) -> str:
    return path.name.removesuffix(".yaml").removesuffix(".yml")


def load_issue(path: Path, settings: Settings) -> IssueFile:
    """Read and validate one issue; every problem is reported at once as an InputError."""
    doc = yamldoc.read(path)
    slug = slug_for(path)
    if not _SLUG.match(slug):
        raise InputError(
            Problem(
                doc.file,
                None,
                None,
                "",
                f"file name '{path.name}' does not make a good slug",
                "use lower-case letters, digits and hyphens, e.g. 2024-06-june-update.yaml",
            )
        )
    return from_document(doc, path, settings)


def from_document(doc: yamldoc.Document, path: Path, settings: Settings) -> IssueFile:
    """Validate an issue's parsed document (in one language or several): every problem at once."""
    slug = slug_for(path)
    context = {"timezone": settings.timezone}
    languages, default, problems = langs.declared(doc, settings.language)
    if problems:
        raise InputError(sorted(doc.problems + problems, key=lambda p: (p.line or 0, p.column or 0)))
    if default is None:
        issue = yamldoc.validate(doc, Issue, context=context)
        return IssueFile(path=path, slug=slug, issue=issue, doc=doc)
    return _load_variants(path, slug, doc, languages, default, context)


def _load_variants(
    path: Path, slug: str, doc: yamldoc.Document, languages: tuple[str, ...], default: str, context: dict[str, str]
) -> IssueFile:
    """Validate each language's document; every problem of every language at once."""
    problems = langs.structure_problems(doc, languages)
    if problems:
        raise InputError(sorted(doc.problems + problems, key=lambda p: (p.line or 0, p.column or 0)))
    order = (default,) + tuple(t for t in languages if t != default)
    variants: list[tuple[str, Issue, yamldoc.Document]] = []
    missing: list[Problem] = []
    found: dict[Problem, None] = {}  # the same mistake in a shared value is reported once
    for tag in order:
        variant = langs.project(doc, tag, languages, default)
        try:
            variants.append((tag, yamldoc.validate(variant.doc, Issue, context=context), variant.doc))
        except InputError as exc:
            found.update(dict.fromkeys(exc.problems))
        missing.extend(variant.missing)
    if found:
        raise InputError(sorted(found, key=lambda p: (p.line or 0, p.column or 0)))
    _, issue, first = variants[0]
    return IssueFile(
        path=path,
        slug=slug,
        issue=issue,
        doc=first,
        language=default,
        languages=order,
        variants=tuple(variants),
        missing=tuple(missing),
    )
