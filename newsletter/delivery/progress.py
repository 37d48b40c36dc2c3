"""What a send prints: the audience, a progress bar on long sends, the final summary.

Summaries are plain ``click.echo`` lines (fast to start, readable in logs); the rich
progress bar (with recipients per second) is shown only on a terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from newsletter.delivery.run import ProgressSink, RunResult

SHOW_UNKNOWN = 20
"""How many unknown addresses are listed on screen (``newsletter report`` lists all)."""


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


def print_audience(summary: Any, list_name: str) -> None:
    """The audience figures of ``newsletter.audience.summarize``."""
    echo(f"Audience from {list_name}:")
    echo(f"  eligible    {summary.eligible}")
    suppressed = summary.unsubscribed + summary.bounced + summary.complained
    echo(
        f"  suppressed  {suppressed} (unsubscribed {summary.unsubscribed}, bounced {summary.bounced},"
        f" complained {summary.complained})"
    )
    echo(f"  invalid     {summary.invalid}")
    echo(f"  duplicates  {summary.duplicates}")
    if summary.excluded_by_tags:
        echo(f"  left out by the issue's audience tags  {summary.excluded_by_tags}")
    print_held_back(summary)


def print_held_back(summary: Any) -> None:
    """Subscribers a send leaves out for want of evidence of consent (``consent: required``)."""
    if summary.unproven:
        first = summary.unproven_rows[0]
        echo(f"  held back   {summary.unproven}: no evidence of consent (consent: required), e.g. "
             f"{first.file}:{first.line}: {first.message.split(';')[0]}; `newsletter subscribers check` lists them all")


def print_unknown(rows: Sequence[tuple[str, int, str]]) -> None:
    echo(f"{len(rows)} recipient(s) may or may not have received this issue (state: unknown):", err=True)
    for email, batch, reason in rows[:SHOW_UNKNOWN]:
        echo(f"  {email}  (batch {batch}: {reason})", err=True)
    if len(rows) > SHOW_UNKNOWN:
        echo(f"  … and {len(rows) - SHOW_UNKNOWN} more (newsletter report lists them all)", err=True)


def print_counts(counts: dict[str, int], eligible: int) -> None:
    """Where every recipient of a send stands (``marked sent`` apart from ``accepted``)."""
    marked = f"  marked sent {counts['marked_sent']}" if counts.get("marked_sent") else ""
    # the list is read as it is sent: rows not read yet are pending too, so the figures add up
    unread = max(0, eligible - sum(counts.get(state, 0) for state in (
        "accepted", "marked_sent", "failed", "unknown", "suppressed", "pending", "in_flight", "cancelled")))
    extra = "".join(f"  {name.replace('_', ' ')} {counts[name]}" for name in ("in_flight", "cancelled")
                    if counts.get(name))
    echo(
        f"  accepted {counts['accepted']}{marked}  failed {counts['failed']}  unknown {counts['unknown']}"
        f"  suppressed {counts['suppressed']}  pending {counts['pending'] + unread}{extra}  of {eligible} eligible"
    )


def print_already_sent(send_row: Any, counts: dict[str, int], issue: str, outbox: str | None, timezone: str) -> None:
    """The result of a finished send, shown again when the same command runs once more
    (nothing is sent): when it finished, its figures, where an outbox send's files are."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    finished = dt.datetime.fromtimestamp(send_row.finished or send_row.created, ZoneInfo(timezone))
    echo(f"This issue was already sent with {send_row.provider}, finished {finished:%Y-%m-%d %H:%M}"
         f" ({timezone}); nothing more to do.")
    print_counts(counts, send_row.eligible)
    if outbox is not None:
        echo(f"  No email left this machine: the messages are in {outbox}/ (set SENDGRID_API_KEY to send for real)")
    echo(f"  `newsletter status {issue}` shows the send; `newsletter report {issue}` lists anyone not accepted")


def print_summary(counts: dict[str, int], eligible: int, result: RunResult, provider: str, *,
                  delivers: bool = True, when: str | None = None) -> None:
    """``delivers``: False for the outbox, which only writes files; ``when``: a scheduled
    send's time, in words."""
    rate = result.accepted / result.seconds if result.seconds > 0 else 0.0
    figures = f"({result.seconds:.1f} s, {rate:,.0f} recipients/s, {result.requests} requests)"
    if not delivers:
        echo(f"Written to the {provider}: {result.accepted} message file(s) in this run {figures}")
    elif when is not None:
        echo(f"Scheduled with {provider} for {when}: {result.accepted} accepted in this run {figures}")
    else:
        echo(f"Sent with {provider}: {result.accepted} accepted in this run {figures}")
    print_counts(counts, eligible)
    for note in result.notes[:10]:
        echo(f"  ! {note}", err=True)


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
def progress_bar(total: int, done: int) -> Iterator[ProgressSink]:
    """A rich progress bar (with recipients per second) on a terminal; plain notes otherwise."""
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
