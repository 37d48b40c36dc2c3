"""Which issues the web archive holds: it never shrinks.

An issue is in the archive once its day has come, once it has been sent, once it has
been published (named on the command line ahead of its day, say: ``published.json``
remembers it), or when it is named now. ``newsletter publish`` always writes the whole
archive, so publishing one issue can never leave the others out of the index or feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path

ISSUE_SUFFIXES = (".yaml", ".yml")


def issue_paths(root: Path) -> list[Path]:
    """The project's issue files, in name order."""
    folder = root / "issues"
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if p.suffix in ISSUE_SUFFIXES and not p.name.startswith(".") and p.is_file())


def sent_slugs(root: Path) -> frozenset[str]:
    """The issues sent for real (a send begun counts: readers have it), from this clone's
    journal and the send records of every clone; the one place the web edition asks."""
    from newsletter.delivery.sent import sent_issues

    return frozenset(s.slug for s in sent_issues(root))


def in_archive(
    slug: str, date: dt.date, *, today: dt.date, named: bool, sent: Collection[str], published: Collection[str]
) -> bool:
    """Whether an issue belongs in the archive (see the module docstring)."""
    return named or date <= today or slug in sent or slug in published
