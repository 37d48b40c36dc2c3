"""What ``newsletter send`` prints when the issue was already sent: the result again.

Kept apart from ``send.py`` so that a second ``make run`` shows the figures of the send
that happened, where its messages went and what to run next, instead of one line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from newsletter.delivery.journal import SendRow
from newsletter.delivery.providers import outbox_folder
from newsletter.errors import display_path
from newsletter.settings import Settings


def print_already_sent(send_row: SendRow, counts: dict[str, int], issue_path: Path, root: Path,
                       settings: Settings) -> None:
    """The result of a finished send, shown again; nothing is sent."""
    finished = dt.datetime.fromtimestamp(send_row.finished or send_row.created, ZoneInfo(settings.timezone))
    click.echo(f"This issue was already sent with {send_row.provider}, finished {finished:%Y-%m-%d %H:%M}"
               f" ({settings.timezone}); nothing more to do.")
    click.echo(
        f"  accepted {counts['accepted']}  failed {counts['failed']}  unknown {counts['unknown']}"
        f"  suppressed {counts['suppressed']}  pending {counts['pending']}  of {send_row.eligible} eligible"
    )
    if send_row.provider == "outbox":
        folder = outbox_folder(root, settings, send_row.slug)
        click.echo(f"  No email left this machine: the messages are in {display_path(folder)}/"
                   " (set SENDGRID_API_KEY to send for real)")
    issue = display_path(issue_path)
    click.echo(f"  `newsletter status {issue}` shows the send; `newsletter report {issue}` lists anyone not accepted")
