"""Naming what changed between the render an approval was made of and the one on disk now:
the issue file's lines (from their hashes: no git history needed), a template, a setting.
Pure functions over :class:`~newsletter.approval.made_from.MadeFrom`, tested in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from newsletter.approval.made_from import MadeFrom

SHOWN = 8
"""How many changed places are named; the rest are counted."""
_LINE_WIDTH = 80


@dataclass(frozen=True, slots=True)
class Change:
    file: str
    line: int | None
    what: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.what}"


def _quoted(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= _LINE_WIDTH else text[: _LINE_WIDTH - 1] + "…")


def issue_changes(before: MadeFrom, after: MadeFrom, lines: list[str]) -> list[Change]:
    """The issue file's changed lines, numbered as in the file now; ``lines`` is its text now."""
    file = after.issue_file
    if before.issue_sha256 == after.issue_sha256:
        return []
    if before.issue_file != after.issue_file:
        return [Change(file, None, f"the approved email was made from {before.issue_file}")]
    out: list[Change] = []
    ops = SequenceMatcher(None, before.lines, after.lines, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        if tag in ("replace", "insert"):
            verb = "changed" if tag == "replace" else "added"
            for j in range(j1, j2):
                out.append(Change(file, j + 1, f"{verb}: {_quoted(lines[j]) if j < len(lines) else ''}"))
        else:  # delete
            n = i2 - i1
            out.append(Change(file, j1 if j1 else None, f"{n} line(s) removed {'after this line' if j1 else 'at the start'}"))
    if not out:  # only line endings or the final newline differ
        out.append(Change(file, None, "the file's bytes changed (line endings or the final newline)"))
    return out


def template_changes(before: MadeFrom, after: MadeFrom) -> list[Change]:
    out: list[Change] = []
    for name in sorted(set(before.templates) | set(after.templates)):
        was, now = before.templates.get(name), after.templates.get(name)
        if was == now:
            continue
        if now is None:
            out.append(Change(f"templates/{name}", None, "template removed since the approval"))
        elif was is None:
            out.append(Change(now.origin, None, f"template {name} is new since the approval"))
        elif was.origin != now.origin:
            came = "now overridden by the project" if now.origin != "built-in" else "the project's override was removed"
            out.append(Change(now.origin if now.origin != "built-in" else was.origin, None, f"template {name}: {came}"))
        else:
            where = now.origin if now.origin != "built-in" else f"built-in template {name}"
            out.append(
                Change(
                    where,
                    None,
                    "template changed since the approval"
                    + (" (another version of newsletter)" if now.origin == "built-in" else ""),
                )
            )
    return out


def setting_changes(before: MadeFrom, after: MadeFrom, settings_file: Path | None = None) -> list[Change]:
    out: list[Change] = []
    changed = sorted(k for k in set(before.settings) | set(after.settings) if before.settings.get(k) != after.settings.get(k))
    positions = _key_lines(settings_file) if changed and settings_file is not None else {}
    for key in changed:
        out.append(Change("newsletter.yaml", positions.get(key), f"setting '{key}' changed since the approval"))
    return out


def _key_lines(path: Path) -> dict[str, int]:
    """The line of each top-level key of ``newsletter.yaml`` (none when it cannot be read)."""
    from newsletter import yamldoc
    from newsletter.errors import NewsletterError

    try:
        doc = yamldoc.read(path)
    except NewsletterError:
        return {}
    out = {}
    for key in doc.data if isinstance(doc.data, dict) else ():
        pos = doc.position((key,), key=True)
        if pos is not None:
            out[str(key)] = pos.line
    return out


def changes(before: MadeFrom, after: MadeFrom, issue_lines: list[str], settings_file: Path | None = None) -> list[Change]:
    """Every named difference, issue lines first; when none is found but the render still
    differs, the tool is the one left to blame."""
    found = (
        issue_changes(before, after, issue_lines)
        + template_changes(before, after)
        + setting_changes(before, after, settings_file)
    )
    if not found:
        tool = (
            f"newsletter {before.tool} then, {after.tool} now"
            if before.tool != after.tool
            else "the same version of newsletter, so one of its libraries"
        )
        found.append(
            Change(
                "the render",
                None,
                f"the issue, templates and settings are as approved, but the email renders differently ({tool})",
            )
        )
    return found


def summary(found: list[Change], limit: int = SHOWN) -> list[str]:
    """The changes as lines for people, the first ``limit`` and how many more."""
    lines = [str(c) for c in found[:limit]]
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit} more change(s)")
    return lines
