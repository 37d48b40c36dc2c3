"""``newsletter subscribers sync``: SendGrid's suppressions into the list and back."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.errors import InputError, Problem, display_path
from newsletter.feedback.sync import SyncOptions, SyncResult, sync
from newsletter.project import Project

SHOW_AT_MOST = 50
READ = {
    "group": "unsubscribed from the group",
    "unsubscribes": "global unsubscribes",
    "bounces": "bounces",
    "invalid_emails": "invalid addresses",
    "spam_reports": "spam reports",
    "blocks": "blocks",
}


def sync_list(list_path: Path, *, dry_run: bool = False, push_global: bool = False) -> SyncResult:
    """Run one sync of the list with the SendGrid account in the environment."""
    if not list_path.is_file():
        raise InputError(
            Problem(display_path(list_path), None, None, "", "subscriber list not found", "give the list with --list PATH")
        )
    project = Project.find(list_path.resolve().parent)
    return sync(SyncOptions(list_path, project.root, project.settings, dry_run=dry_run, push_global=push_global))


def _safe(text: str) -> str:
    return text if text.isprintable() else repr(text)


def show(result: SyncResult, fmt: str = "text") -> None:
    if fmt == "json":
        import json

        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    r = result
    read = ", ".join(f"{n:,} {READ[k]}" for k, n in r.read.items())
    click.echo(f"SendGrid ({r.host}): read {read or 'nothing'}")
    verb = "would change" if r.dry_run else "changed"
    for c in r.changed[:SHOW_AT_MOST]:
        where = f"line {c.line}" if c.line is not None else "added"
        click.echo(f"  {_safe(c.email)}: {c.old or '(new)'} → {c.new} ({where}; {c.date}; {_safe(c.reason)})")
    if len(r.changed) > SHOW_AT_MOST:
        click.echo(f"  … and {len(r.changed) - SHOW_AT_MOST:,} more (all of them: --format json)")
    click.echo(f"{_safe(r.list_file)}: {len(r.changed):,} row(s) {verb} ({r.added:,} added), {r.unchanged:,} already as strict")
    if r.forgotten:
        click.echo(
            f"  {r.forgotten:,} address(es) SendGrid lists were forgotten on request: not added back "
            "(subscribers forget ADDRESS --sendgrid asks SendGrid to erase them)"
        )
    for email in r.skipped[:SHOW_AT_MOST]:
        click.echo(f"  skipped {_safe(email)}: not a valid address, and not in the list")
    if r.blocks:
        click.echo(f"{len(r.blocks):,} block(s) (temporary; the list is not changed for them):")
        for b in r.blocks[:SHOW_AT_MOST]:
            click.echo(f"  {_safe(b.email)}: {_safe(b.reason)}")
    if r.push_target:
        push_verb = "would push" if r.dry_run else "pushed"
        click.echo(f"SendGrid ({r.push_target}): {push_verb} {len(r.pushed):,} unsubscribe(s) from the list")
    elif r.not_pushed:
        click.echo(
            f"{r.not_pushed:,} unsubscribe(s) in the list are not pushed to SendGrid: set "
            "delivery.sendgrid.asm_group_id in newsletter.yaml, or pass --push-global"
        )
    if r.dry_run:
        click.echo("Dry run: nothing was changed, here or at SendGrid.")
