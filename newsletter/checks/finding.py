"""What a check reports: a :class:`Finding` of a :class:`Rule`, at a :class:`Where`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")


@dataclass(frozen=True, slots=True)
class Where:
    """The place a finding points at: a file, a line and column in it, and a field."""

    file: str
    line: int | None = None
    column: int | None = None
    field: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found. Its fields are the stable JSON shape of ``check --format json``."""

    rule: str
    severity: Severity
    message: str
    file: str
    line: int | None
    column: int | None
    field: str
    hint: str

    def location(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location()}: "
        if self.field:
            text += f"{people_field(self.field)}: "
        return text + self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[int, str, int, int, str, str]:
        return (
            SEVERITIES.index(self.severity),
            self.file,
            self.line or 0,
            self.column or 0,
            self.rule,
            self.message,
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule with a stable id (never renamed: scripts and the preview rely on it)."""

    id: str
    severity: Severity
    family: str
    summary: str

    def __call__(self, message: str, where: Where, hint: str = "") -> Finding:
        return Finding(
            rule=self.id,
            severity=self.severity,
            message=message,
            file=where.file,
            line=where.line,
            column=where.column,
            field=where.field,
            hint=hint,
        )


_PART = re.compile(r"([A-Za-z_][\w-]*)|\[(\d+)\]")


def people_field(field: str) -> str:
    """A field path as people count, for what is printed: ``blocks[2].image.alt`` reads
    ``block 3 (image), alt`` and ``blocks[1].events.items[0].start`` reads ``block 2
    (events), item 1, start`` (``check --format json`` keeps the path itself)."""
    words: list[str] = []
    parts = [(name, int(index)) if index else (name, None) for name, index in _PART.findall(field)]
    i = 0
    while i < len(parts):
        name, index = parts[i]
        if index is not None and words:
            key = words.pop()
            if key == "blocks" and i + 1 < len(parts) and parts[i + 1][1] is None:
                words.append(f"block {index + 1} ({parts[i + 1][0]})")
                i += 2
                continue
            if key in ("blocks", "items"):
                words.append(f"{key[:-1]} {index + 1}")
            else:
                words.append(f"{key} item {index + 1}")
        elif name:
            words.append(name)
        i += 1
    return ", ".join(words) if any(" " in w for w in words) else field
