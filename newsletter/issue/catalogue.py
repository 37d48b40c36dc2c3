"""The issues of a project at a glance: each file's subject and date.

Read lightly and forgivingly: only the top-level subject and date are parsed, and a file
that does not parse is left out here (loading it reports its problems). Used by the check
that no issue repeats another, and by ``newsletter new`` to find the latest issue.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ISSUES_DIR = "issues"
SUFFIXES = (".yaml", ".yml")
_SPACE = re.compile(r"\s+")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class IssueSummary:
    """What one issue file says about itself (None for a value it lacks or cannot hold)."""

    path: Path
    slug: str
    subject: str | None
    date: dt.date | None


def same_subject(a: str, b: str) -> bool:
    """Subjects compare as a reader sees them: spacing and capitals aside."""
    return _SPACE.sub(" ", a).strip().casefold() == _SPACE.sub(" ", b).strip().casefold()


def issue_paths(root: Path) -> list[Path]:
    """The issue files of the project, by name."""
    folder = root / ISSUES_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


_cache: dict[Path, tuple[tuple[int, int], IssueSummary | None]] = {}


def summary(path: Path) -> IssueSummary | None:
    """The subject and date of one issue file; None when it is not a YAML mapping."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    found = _read(path)
    _cache[path] = (key, found)
    return found


def _read(path: Path) -> IssueSummary | None:
    try:
        top = _top_scalars(path.read_text(encoding="utf-8"), ("subject", "date"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if top is None:
        return None
    subject = top.get("subject")
    return IssueSummary(
        path=path,
        slug=path.name.removesuffix(path.suffix),
        subject=subject.strip() if subject and subject.strip() else None,
        date=_date(top.get("date")),
    )


def _top_scalars(text: str, wanted: tuple[str, ...]) -> dict[str, str] | None:
    """The scalar values of ``wanted`` keys of a YAML mapping, read from the parser's
    events and stopping once all are found (the blocks that follow are never parsed).
    None when the document is not a mapping."""
    found: dict[str, str] = {}
    depth = 0
    key: str | None = None  # the top-level key whose value comes next
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if depth == 0 and not isinstance(event, yaml.MappingStartEvent):
                return None
            depth += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            if depth == 1:
                key = None  # a collection value ended: a key comes next
        elif isinstance(event, yaml.ScalarEvent):
            if depth == 0:
                return None
            if depth == 1:
                if key is None:
                    key = event.value
                else:
                    if key in wanted:
                        found[key] = event.value
                        if len(found) == len(wanted):
                            break
                    key = None
        elif isinstance(event, yaml.AliasEvent) and depth == 1:
            key = None if key is not None else ""
    return found


def _date(value: object) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def summaries(root: Path) -> list[IssueSummary]:
    """Every issue file of the project that reads as a mapping, by name."""
    return [s for s in map(summary, issue_paths(root)) if s is not None]


def latest(root: Path) -> IssueSummary | None:
    """The issue with the latest date (the last by name among equals; undated ones first)."""
    found = summaries(root)
    return max(found, key=lambda s: (s.date or dt.date.min, s.slug)) if found else None
