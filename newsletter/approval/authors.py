"""Who wrote an issue, as git says: the author addresses of the commits that touched its file,
and whether the file on disk is the committed one (uncommitted lines have no known author)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Authors:
    emails: frozenset[str]
    """Lower-cased author addresses of the commits that touched the file (renames followed)."""
    in_git: bool
    """Whether the project is a git work tree at all."""
    committed: bool
    """Whether the file on disk is exactly what the last commit holds."""


def _git(root: Path, *args: str) -> str | None:
    """A git command's output (:func:`newsletter.gitrepo.git`), None on any failure."""
    from newsletter.gitrepo import git

    ran = git(root, *args, timeout=GIT_TIMEOUT)
    return ran.out if ran.ok else None


def of(root: Path, rel_path: str) -> Authors:
    """The authors of ``rel_path`` (a path in the project, as git names it)."""
    if _git(root, "rev-parse", "--is-inside-work-tree") is None:
        return Authors(frozenset(), False, False)
    log = _git(root, "log", "--follow", "--format=%ae", "--", rel_path) or ""
    emails = frozenset(line.strip().lower() for line in log.splitlines() if line.strip())
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", rel_path)
    committed = bool(emails) and status is not None and not status.strip()
    return Authors(emails, True, committed)


def user_email(root: Path) -> str | None:
    """``git config user.email`` here, if set."""
    out = _git(root, "config", "user.email")
    return out.strip() or None if out is not None else None
