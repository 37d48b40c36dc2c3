"""Committing a few project files (a send record, an approval) and pushing them to the
branch's remote, taking other runs' commits in between: the shared repository is where
every clone and CI run learn what was sent.

Git is run without a terminal (``GIT_TERMINAL_PROMPT=0``): a push that would ask for a
password fails instead of waiting. Every call has a timeout and a bounded output.
"""

from __future__ import annotations

from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.gitrepo import Ran, git, git_raw

ATTEMPTS = 5
__all__ = ["Ran", "git"]
FALLBACK_IDENTITY = ("-c", "user.name=newsletter", "-c", "user.email=newsletter@localhost")


def _identity(root: Path) -> tuple[str, ...]:
    return () if git(root, "config", "user.email").out.strip() else FALLBACK_IDENTITY


def upstream(root: Path) -> tuple[str, str]:
    """(remote, branch) the work tree's branch pushes to."""
    branch = git(root, "symbolic-ref", "--short", "-q", "HEAD").out.strip()
    if not branch:
        raise NewsletterError(
            "git: not on a branch (a detached HEAD): check out the branch to push the send "
            "record to (in a workflow: actions/checkout with ref: the default branch)"
        )
    remote = git(root, "config", f"branch.{branch}.remote").out.strip() or "origin"
    return remote, branch


def commit(root: Path, paths: list[str], message: str) -> bool:
    """Commit ``paths`` (only them) if they differ from HEAD; whether a commit was made."""
    present = [p for p in paths if (root / p).exists()]
    if not present:
        return False
    added = git(root, "add", "--", *present)
    if not added.ok:
        raise NewsletterError(f"git add {' '.join(present)}: {added.err.strip()}")
    if git(root, "diff", "--cached", "--quiet", "--", *present).ok:
        return False
    made = git(root, *_identity(root), "commit", "-q", "-m", message, "--", *present)
    if not made.ok:
        raise NewsletterError(f"git commit: {made.err.strip() or made.out.strip()}")
    return True


def fetch(root: Path, remote: str, branch: str) -> str:
    """Fetch the branch; its commit."""
    got = git(root, "fetch", "-q", remote, branch)
    if not got.ok:
        raise NewsletterError(f"git fetch {remote} {branch}: {got.err.strip()}")
    return git(root, "rev-parse", "FETCH_HEAD").out.strip()


def show(root: Path, commit_id: str, path: str) -> bytes | None:
    """A file as ``commit_id`` holds it, or None."""
    shown = git_raw(root, "show", f"{commit_id}:{path}")
    return shown.out if shown.ok else None


def push_once(root: Path, remote: str, branch: str) -> Ran:
    return git(root, "push", "-q", remote, f"HEAD:refs/heads/{branch}")


def rebase(root: Path, onto: str) -> None:
    done = git(root, *_identity(root), "rebase", "-q", onto)
    if not done.ok:
        git(root, "rebase", "--abort")
        raise NewsletterError(
            f"git rebase onto the remote branch failed (another run changed the same file?): "
            f"{done.err.strip() or done.out.strip()}"
        )


def push_rebasing(root: Path, remote: str, branch: str) -> None:
    """Push HEAD to the branch, rebasing on commits others pushed meanwhile (a few tries)."""
    pushed = push_once(root, remote, branch)
    for _ in range(ATTEMPTS - 1):
        if pushed.ok:
            return
        rebase(root, fetch(root, remote, branch))
        pushed = push_once(root, remote, branch)
    if not pushed.ok:
        raise NewsletterError(f"git push to {remote}/{branch} failed after {ATTEMPTS} tries: {pushed.err.strip()}")
