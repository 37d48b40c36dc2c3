"""Load an issue file: YAML with positions → :class:`~newsletter.issue.model.Issue`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from newsletter import yamldoc
from newsletter.errors import InputError, Problem
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
    issue = yamldoc.validate(doc, Issue, context={"timezone": settings.timezone})
    return IssueFile(path=path, slug=slug, issue=issue, doc=doc)
