"""``newsletter correct``: after fixing an issue readers already have, say so on its page,
in the feed and in their calendars, and (``--email``) tell the readers of the original send."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from newsletter.commands.publish import now, show
from newsletter.delivery.providers import ProviderName, default_provider
from newsletter.project import Project
from newsletter.render.dates import long_date
from newsletter.sitenames import SITE_DIR
from newsletter.web.correct import correction_issue, correction_issues, correction_slug, issue_path, record
from newsletter.web.edition import build_site
from newsletter.web.result import Request


def correct(
    path: Path,
    *,
    note: str | None,
    email: bool,
    out_dir: Path | None,
    provider: ProviderName | None,
    list_path: Path | None,
    yes: bool,
    force: bool,
    no_sync: bool,
    confirm: Callable[[str], bool],
) -> None:
    project = Project.find(issue_path(path))
    issue_file = project.load(path)
    when = now()
    done = record(project, issue_file, note, when)
    day = long_date(done.correction.date.astimezone(ZoneInfo(project.settings.timezone)).date())
    if done.new:
        click.echo(click.style(f"Correction {done.number} of {path}, {day}: {done.correction.note}", bold=True))
    else:
        click.echo(f"Nothing changed since correction {done.number} ({day}): {done.correction.note}")
    out = out_dir if out_dir is not None else project.root / SITE_DIR
    result = build_site(Request(project.root, (), out, None, when))
    show(result)
    if not email:
        click.echo(
            f"Readers were not emailed: `newsletter correct {path} --email` tells the readers of the original "
            "send (only them, minus anyone unsubscribed or bounced since)"
        )
        return
    from newsletter.commands.send import prepare_send, warn_unsupported
    from newsletter.commands.terminal import Terminal
    from newsletter.delivery.correction import CorrectionSend, send_correction
    from newsletter.delivery.hooks import SendHooks
    from newsletter.delivery.session import Context

    settings = project.settings
    issue = correction_issue(issue_file, done, settings.web_archive_url, settings.timezone, settings.language)
    languages = correction_issues(issue_file, done, settings.web_archive_url, settings.timezone, settings.language)
    terminal = Terminal(confirm)

    def before(ctx: Context) -> SendHooks:
        warn_unsupported(ctx, terminal)
        return prepare_send(ctx, terminal, force=force, no_sync=no_sync)

    send_correction(
        CorrectionSend(
            project,
            issue_file,
            issue,
            correction_slug(issue_file.slug, done.number),
            provider or default_provider(),
            list_path,
            yes,
            force,
            no_sync,
            languages,
        ),
        terminal,
        before,
    )
