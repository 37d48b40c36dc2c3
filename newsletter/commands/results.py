"""``newsletter results ISSUE.yaml``: SendGrid's figures for the issue into ``results/<slug>.json``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from newsletter.errors import UsageError, display_path
from newsletter.feedback import results as figures
from newsletter.feedback.deliveries import Pulled
from newsletter.issue.load import slug_for
from newsletter.settings import find_project_root, load_settings

HEADINGS = {
    "requests": "requests",
    "delivered": "delivered",
    "bounces": "bounces",
    "opens": "opens",
    "unique_opens": "unique opens",
    "clicks": "clicks",
    "unique_clicks": "unique clicks",
    "spam_reports": "spam",
    "unsubscribes": "unsubscribes",
}


def readers(issue_path: Path) -> Pulled | None:
    """Per-reader outcomes after acceptance, from SendGrid's Email Logs (when the issue has a
    SendGrid send record): kept in ``.newsletter/deliveries/``, hard bounces into the list."""
    from newsletter.delivery import records
    from newsletter.feedback.deliveries import pull
    from newsletter.project import Project

    root = find_project_root(issue_path)
    record = records.find(root, slug_for(issue_path))
    if record is None or record.provider != "sendgrid":
        return None
    return pull(root, record, Project.find(issue_path).list_path(None))


def show_readers(pulled: Pulled | None) -> None:
    if pulled is None:
        click.echo("No SendGrid send record for this issue (sends/): who was delivered is not asked")
        return
    shown = ", ".join(f"{status} {n}" for status, n in sorted(pulled.by_status.items())) or "none"
    click.echo(
        f"Not delivered after SendGrid accepted them (its Email Logs): {shown}; "
        f"{display_path(pulled.path)} (newsletter report lists them)"
    )
    if pulled.bounced_in_list:
        click.echo(
            f"{pulled.bounced_in_list} address(es) that hard-bounced or reported spam are now 'bounced' or "
            "'complained' in the list"
        )


def results(issue_path: Path, since: str | None = None) -> tuple[figures.Results, Path]:
    root = find_project_root(issue_path)
    settings = load_settings(root)
    slug = slug_for(issue_path)
    if since is not None:
        try:
            start = dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since {since!r} is not a date (e.g. 2024-06-14)") from None
    else:
        found = figures.first_send_day(root, slug, settings.timezone)
        if found is None:
            found = _recorded_day(root, slug, settings.timezone)
        if found is None:
            raise UsageError(f"{slug} has no SendGrid send in the journal: give the day it was sent with --since YYYY-MM-DD")
        start = found
    result = figures.fetch(slug, start, timeout=settings.delivery.sendgrid.timeout)
    return result, figures.write(root, result)


def _recorded_day(root: Path, slug: str, timezone: str) -> dt.date | None:
    """The day the issue's SendGrid send began, from its record (a send made on another clone)."""
    from zoneinfo import ZoneInfo

    from newsletter.delivery import records

    record = records.find(root, slug)
    if record is None or record.provider != "sendgrid":
        return None
    return dt.datetime.fromtimestamp(record.started, ZoneInfo(timezone)).date()


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def show(result: figures.Results, path: Path) -> None:
    columns = figures.METRICS
    widths = [max(len(HEADINGS[m]), 6) for m in columns]
    click.echo("date        " + "  ".join(HEADINGS[m].rjust(w) for m, w in zip(columns, widths, strict=True)))
    for day in result.days:
        click.echo(f"{day['date']:<12}" + "  ".join(str(day[m]).rjust(w) for m, w in zip(columns, widths, strict=True)))
    t = result.totals
    click.echo(f"{'total':<12}" + "  ".join(str(t[m]).rjust(w) for m, w in zip(columns, widths, strict=True)))
    click.echo(
        f"delivered {_rate(t['delivered'], t['requests'])} of requests · opened by "
        f"{_rate(t['unique_opens'], t['delivered'])} · clicked by {_rate(t['unique_clicks'], t['delivered'])}"
        f" of those delivered (opens count only with open tracking on)"
    )
    click.echo(f"{display_path(path)}: written ({len(result.days)} day(s), {result.start} to {result.end})")
