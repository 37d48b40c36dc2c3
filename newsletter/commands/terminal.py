"""The command line's :class:`~newsletter.delivery.progress.Reporter`: lines through click, a
question on the terminal, and a rich progress bar (with recipients per second) only when
standard error is a terminal (plain notes otherwise: fast to start, readable in logs)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import click

from newsletter.delivery.run import ProgressSink


def echo(text: str = "", *, err: bool = False) -> None:
    try:
        click.echo(text, err=err)
    except BrokenPipeError:
        # whoever read the output went away (`newsletter send … | head -1`): the send goes on,
        # and what it prints from now on goes nowhere
        stream = sys.stderr if err else sys.stdout
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class Terminal:
    """Says and warns with click; asks with ``confirm`` when standard input is a terminal."""

    def __init__(self, confirm: Callable[[str], bool]) -> None:
        self.confirm = confirm

    def say(self, text: str = "") -> None:
        echo(text)

    def warn(self, text: str) -> None:
        echo(text, err=True)

    def ask(self, question: str) -> bool | None:
        if not sys.stdin.isatty():
            return None
        return self.confirm(question)

    def progress(self, total: int, done: int) -> AbstractContextManager[ProgressSink]:
        return _progress_bar(total, done)


class _Bar:
    def __init__(self, progress: Any, task: Any) -> None:
        self.progress = progress
        self.task = task

    def advance(self, accepted: int, total: int) -> None:
        speed = self.progress.tasks[0].speed
        rate = f"{speed:,.0f} recipients/s" if speed else ""
        self.progress.update(self.task, completed=accepted, total=total, rate=rate)

    def note(self, text: str) -> None:
        self.progress.console.print(f"  {text}", markup=False, highlight=False)


class _Lines:
    def advance(self, accepted: int, total: int) -> None:
        pass

    def note(self, text: str) -> None:
        echo(f"  {text}", err=True)


@contextmanager
def _progress_bar(total: int, done: int) -> Iterator[ProgressSink]:
    """A rich progress bar on a terminal; plain notes otherwise."""
    if not sys.stderr.isatty():
        yield _Lines()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("send", total=total, completed=done, rate="")
        yield _Bar(progress, task)
