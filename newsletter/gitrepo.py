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


@dataclass(frozen=True, slots=True)
class RawRan:
    """A git command's exit code and its output as bytes (at most the ``limit`` asked for)."""

    code: int
    out: bytes
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def git_raw(root: Path, *args: str, input: bytes | None = None, timeout: float = TIMEOUT, limit: int = _MAX_OUTPUT) -> RawRan:
    """Run git with a timeout, no terminal (nothing may prompt) and ``input`` or nothing on
    its standard input; a timeout is code 124, git missing 127."""
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    }
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            timeout=timeout,
            env=env,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
        )
    except subprocess.TimeoutExpired:
        return RawRan(124, b"", f"git {args[0]} did not finish within {timeout:.0f} s")
    except OSError as exc:
        return RawRan(127, b"", f"git cannot be run: {exc.strerror or exc}")
    return RawRan(proc.returncode, proc.stdout[:limit], proc.stderr[:_MAX_OUTPUT].decode("utf-8", "replace"))


def git(root: Path, *args: str, timeout: float = TIMEOUT) -> Ran:
    """:func:`git_raw`, its output as text."""
    ran = git_raw(root, *args, timeout=timeout)
    return Ran(ran.code, ran.out.decode("utf-8", "replace"), ran.err)


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
    archived = git_raw(root, "archive", "--format=tar", tree, limit=_MAX_ARCHIVE + 1)
    if not archived.ok or len(archived.out) > _MAX_ARCHIVE:
        raise UsageError(f"git archive {ref}: {archived.err.strip() or 'too large'}")
    with tarfile.open(fileobj=io.BytesIO(archived.out)) as tar:
        tar.extractall(target, filter="data")
    return (target / "newsletter.yaml").is_file()
