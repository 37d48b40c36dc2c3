"""``newsletter subscribers show|forget ADDRESS``: everything held about a person; erasing it.

Plain typed functions in :mod:`newsletter.privacy`; this module prints their results.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from newsletter.errors import ProblemsFound
from newsletter.privacy.erase import Forgot, forget
from newsletter.privacy.holdings import Holdings, show

__all__ = ["forget", "print_forgot", "print_holdings", "show"]


def _safe(text: str) -> str:
    return text if text.isprintable() else repr(text)


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def print_holdings(h: Holdings, fmt: str = "text") -> None:
    if fmt == "json":
        click.echo(json.dumps(h.as_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo(f"What this project holds about {_safe(h.address)}:")
    if h.forgotten:
        click.echo("  forgotten on request: its keyed hash is in forgotten.txt, so no import adds it back")
    if not h.rows:
        click.echo(f"{_safe(h.list_file)}: not in the list")
    width = max((len(c) for c in h.columns), default=0)
    for line, cells in h.rows:
        click.echo(f"{_safe(h.list_file)}, line {line}:")
        for name, value in zip(h.columns, cells, strict=True):
            click.echo(f"  {_safe(name):<{width}}  {_safe(value)}".rstrip())
    suppressions = h.suppressions()
    click.echo(f"Suppressions: {'none' if not suppressions else ''}".rstrip())
    for line, name, value in suppressions:
        click.echo(f"  line {line}: {name} {_safe(value)}")
    click.echo(f"Sends ({len(h.sends)}):" if h.sends else "Sends: none recorded in this project's journal")
    for s in h.sends:
        reason = f"  ({_safe(s.reason)})" if s.reason else ""
        click.echo(f"  {_when(s.started)}  {s.slug}  {s.provider}  {s.state}{reason}")
    click.echo(f"Other files that name them ({len(h.files)}):" if h.files else "Other files that name them: none")
    for f, what in h.files:
        click.echo(f"  {_safe(f)}  (forget: {what})")


def print_forgot(r: Forgot) -> None:
    lines = ", ".join(map(str, r.list_lines))
    click.echo(
        f"{_safe(r.list_file)}: "
        + (f"removed line{'s' if len(r.list_lines) > 1 else ''} {lines}" if r.list_lines else "not in the list")
    )
    click.echo(f"send journal: {r.journal_rows} row(s) made anonymous")
    for f, what in r.files:
        click.echo(f"{_safe(f)}: {what}")
    state = "recorded" if r.newly_registered else "already recorded"
    click.echo(f"{r.register}: {state} (a keyed hash, never the address): no import adds it back")
    if not r.shared_secret:
        click.echo(
            "  the hash is keyed with this machine's .newsletter/secret: set NEWSLETTER_SECRET (the same "
            "everywhere) so that other clones of the project refuse the address too"
        )
    if r.erase_job is not None:
        click.echo(f"SendGrid: erasure asked (job {r.erase_job})")
    if r.erase_error is not None:
        click.echo(f"SendGrid: {r.erase_error}", err=True)
    for f in r.left:
        click.echo(f"still names them: {_safe(f)} (edit it yourself)", err=True)
    if r.left or r.erase_error:
        gaps = [f"{len(r.left)} file(s) still name them"] if r.left else []
        gaps += ["SendGrid's erasure was not asked: run again with --sendgrid"] if r.erase_error else []
        raise ProblemsFound(f"{r.address}: forgotten here, but " + "; ".join(gaps))
    click.echo(f"{r.address}: forgotten")


def run_show(list_path: Path, address: str, fmt: str) -> None:
    print_holdings(show(list_path, address), fmt)


def run_forget(list_path: Path, address: str, at_sendgrid: bool) -> None:
    print_forgot(forget(list_path, address, at_sendgrid=at_sendgrid))
