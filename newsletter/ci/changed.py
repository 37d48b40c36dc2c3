"""Which issues a range of commits touched, and the project as another commit holds it."""

from __future__ import annotations

from pathlib import Path

from newsletter.errors import UsageError
from newsletter.gitrepo import commit_of, extract, git

ISSUES = "issues"
SHARED = ("templates/", "newsletter.yaml")
"""Files whose change may change every issue's email."""
__all__ = ["extract", "git"]


def commits(root: Path, base: str, head: str) -> tuple[str, str]:
    return commit_of(root, base), commit_of(root, head)


def changed_files(root: Path, base: str, head: str) -> list[str]:
    """Paths added, changed or renamed from ``base`` to ``head`` (deleted ones left out)."""
    b, h = commits(root, base, head)
    out = git(root, "diff", "--relative", "--name-only", "--no-renames", "--diff-filter=AM", b, h)
    if not out.ok:
        raise UsageError(f"git diff {base} {head}: {out.err.strip()}")
    return sorted(line for line in out.out.splitlines() if line)


def changed_issues(root: Path, base: str, head: str) -> list[str]:
    """The issue files (``issues/*.yaml``) added or changed from ``base`` to ``head``."""
    return [
        p
        for p in changed_files(root, base, head)
        if p.startswith(f"{ISSUES}/") and p.count("/") == 1 and p.endswith((".yaml", ".yml"))
    ]


def shared_changed(root: Path, base: str, head: str) -> bool:
    return any(p.startswith(SHARED) for p in changed_files(root, base, head))
