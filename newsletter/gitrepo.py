"""Git, run as a tool: a command with a timeout, no terminal and bounded output; a commit
named by the user resolved safely; the project's files as a commit holds them."""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import UsageError

TIMEOUT = 120.0
_MAX_OUTPUT = 1 << 20
_MAX_ARCHIVE = 200 << 20
_REF = re.compile(r"^[0-9A-Za-z._/^~@{}-]{1,200}$")


@dataclass(frozen=True, slots=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def git(root: Path, *args: str, timeout: float = TIMEOUT) -> Ran:
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    }
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired:
        return Ran(124, "", f"git {args[0]} did not finish within {timeout:.0f} s")
    except OSError as exc:
        return Ran(127, "", f"git cannot be run: {exc.strerror or exc}")
    return Ran(
        proc.returncode,
        proc.stdout[:_MAX_OUTPUT].decode("utf-8", "replace"),
        proc.stderr[:_MAX_OUTPUT].decode("utf-8", "replace"),
    )


def commit_of(root: Path, ref: str) -> str:
    if not _REF.match(ref) or ref.startswith("-"):
        raise UsageError(f"{ref!r} is not a commit")
    found = git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    if not found.ok:
        raise UsageError(f"{ref!r}: no such commit here (fetch the history: actions/checkout with fetch-depth: 0)")
    return found.out.strip()


def extract(root: Path, ref: str, target: Path) -> bool:
    """The project's files as ``ref`` holds them, into ``target``; False when ``ref`` has no project."""
    commit = commit_of(root, ref)
    prefix = git(root, "rev-parse", "--show-prefix").out.strip()  # the project may be a folder of the repository
    tree = f"{commit}:{prefix.rstrip('/')}" if prefix else commit
    try:
        proc = subprocess.run(
            ["git", "archive", "--format=tar", tree], cwd=root, capture_output=True, timeout=120, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"git archive {ref}: {exc}") from None
    if proc.returncode != 0 or len(proc.stdout) > _MAX_ARCHIVE:
        raise UsageError(f"git archive {ref}: {proc.stderr.decode('utf-8', 'replace').strip() or 'too large'}")
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(target, filter="data")
    return (target / "newsletter.yaml").is_file()
