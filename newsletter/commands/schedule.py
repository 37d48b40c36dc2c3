"""``newsletter cancel ISSUE.yaml`` and ``newsletter pause ISSUE.yaml [--unpause]``."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.delivery.providers import send_key
from newsletter.errors import display_path
from newsletter.feedback import schedule
from newsletter.issue.load import slug_for
from newsletter.settings import find_project_root, load_settings


def _where(issue_path: Path) -> tuple[Path, str, str, str, float]:
    root = find_project_root(issue_path)
    slug = slug_for(issue_path)
    settings = load_settings(root)
    return root, slug, send_key(slug, "sendgrid"), settings.timezone, settings.delivery.sendgrid.timeout


def cancel(issue_path: Path) -> None:
    root, slug, key, zone, timeout = _where(issue_path)
    r = schedule.cancel(root, key, slug, zone, timeout=timeout)
    verb = "was already cancelled" if r.already else "is cancelled"
    click.echo(f"The scheduled send of {slug} ({r.when}) {verb}: SendGrid discards it at the send time.")
    click.echo(
        f"The journal records {r.cancelled} recipient(s) as cancelled; send the issue again with "
        f"`newsletter send {display_path(issue_path)}`."
    )


def pause(issue_path: Path, unpause: bool) -> None:
    root, slug, key, zone, timeout = _where(issue_path)
    s, outcome = schedule.pause(root, key, slug, zone, unpause=unpause, timeout=timeout)
    when = schedule.in_words(s.send_at, zone)
    text = {
        "paused": f"The scheduled send of {slug} ({when}) is paused: SendGrid holds it until "
        f"`newsletter pause {display_path(issue_path)} --unpause` (and discards it 72 hours after the send time).",
        "already paused": f"The scheduled send of {slug} ({when}) was already paused.",
        "unpaused": f"The scheduled send of {slug} is no longer paused: it goes out {when} (at once, if that time has passed).",
        "not paused": f"The scheduled send of {slug} ({when}) is not paused.",
    }[outcome]
    click.echo(text)
