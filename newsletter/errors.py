"""The one root error of the project and the shapes of its problems.

Every expected failure is a :class:`NewsletterError`. It is a
:class:`click.ClickException`, so the command line prints its message on one
line (or one line per problem) and exits with its code, never with a traceback.

Exit codes follow the design: 2 means bad input or usage (nothing was sent),
1 means the command ran and found problems.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a user's file, pointing at where it is."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str = ""

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
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


class NewsletterError(click.ClickException):
    """The root of every error this project raises on purpose."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file, err=True)


class InputError(NewsletterError):
    """Bad input: one or more problems in a user's file. Exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem, summary: str = "") -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.summary = summary
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [str(p) for p in self.problems]
        if self.summary:
            lines.insert(0, self.summary)
        return "\n".join(lines)

    def show(self, file: IO[Any] | None = None) -> None:
        n = len(self.problems)
        head = self.summary or f"{n} problem{'s' if n != 1 else ''} found"
        click.echo(f"error: {head}", file=file, err=True)
        for p in self.problems:
            click.echo(f"  {p}", file=file, err=True)


class UsageError(NewsletterError):
    """The command was called in a way that cannot work. Exit code 2."""

    exit_code = 2


class ProblemsFound(NewsletterError):
    """The command ran and found problems (failed checks, failed recipients). Exit code 1."""

    exit_code = 1


def display_path(path: Path | str) -> str:
    """The path as a user would type it: relative to the working folder when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(_real(os.getcwd())))
    except ValueError:
        return str(p)


@functools.lru_cache(maxsize=8)
def _real(folder: str) -> Path:
    """The working folder with its links resolved, found once for each (a command names
    hundreds of files: resolving it again for each was half of the time spent on them)."""
    return Path(folder).resolve()
