"""The sync a SendGrid send runs first, so that nobody SendGrid knows has gone is sent to.

One function for ``newsletter send`` to call (:func:`sync_before_send`); if the sync
fails the send refuses, in SendGrid's own words, before anything is sent.
"""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.feedback.account import SendGridError
from newsletter.feedback.sync import SyncOptions, sync
from newsletter.settings import Settings


def sync_before_send(list_path: Path, root: Path, settings: Settings, provider: str, *, skip: bool) -> None:
    """Sync the list with SendGrid before a real SendGrid send (not with ``skip``: said)."""
    if provider != "sendgrid":
        return
    if skip:
        click.echo(
            "Not synced with SendGrid first (--no-sync): unsubscribes, bounces and spam reports "
            "since the last sync are not in the list"
        )
        return
    try:
        result = sync(SyncOptions(list_path, root, settings, count_unpushed=False))
    except SendGridError as exc:
        raise SendGridError(
            f"nothing was sent: the sync with SendGrid failed: {exc.message} "
            "(fix that, or send without syncing first: --no-sync)",
            exc.status,
        ) from None
    click.echo(result.summary())
