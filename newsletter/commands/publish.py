"""``newsletter publish``: the web edition of the project's issues → ``site/``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from newsletter.errors import ProblemsFound, UsageError, display_path
from newsletter.project import Project
from newsletter.web.edition import SiteResult, build_site
from newsletter.web.names import CALENDAR, SITE_DIR, SiteAddress


def now() -> dt.datetime:
    """The time the site is made at: ``SOURCE_DATE_EPOCH`` (reproducible builds) when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970") from None
    return dt.datetime.now(dt.timezone.utc)


def publish(issue_paths: tuple[Path, ...], out_dir: Path | None, base_url: str | None) -> SiteResult:
    """Publish the issues (default: all, dated today or earlier); exit 1 if any was left out."""
    project = Project.find(issue_paths[0] if issue_paths else Path.cwd())
    for path in issue_paths:
        if not path.is_file():
            raise UsageError(f"{display_path(path)}: no such issue file")
    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise UsageError(f"--base-url {base_url!r}: give a full http(s):// address")
    out = out_dir if out_dir is not None else project.root / SITE_DIR
    result = build_site(project, issue_paths or None, out, base_url=base_url, now=now())
    show(result, SiteAddress.of(project.settings.web_archive_url, base_url))
    if result.failed:
        n = len(result.failed)
        raise ProblemsFound(f"{n} issue{'s' if n != 1 else ''} left out of the site (see above)")
    return result


def show(result: SiteResult, site: SiteAddress) -> None:
    folder = display_path(result.out_dir)
    n = len(result.issues)
    click.echo(click.style(f"Published {n} issue{'s' if n != 1 else ''} to {folder}/", bold=True))
    for item in result.issues:
        click.echo(f"  {item.page.name}  {item.issue_file.issue.title}")
    click.echo(f"  files  {len(result.written)} written, {len(result.unchanged)} unchanged")
    click.echo(f"  events {result.upcoming} upcoming in {CALENDAR}")
    for file in result.not_yet:
        click.echo(f"  not yet: {file} is dated after today (name it on the command line to publish it now)")
    for failed in result.failed:
        click.echo(click.style(f"left out: {failed.file}: {failed.summary}", fg="red"), err=True)
        for problem in failed.problems:
            click.echo(f"  {problem}", err=True)
    click.echo(f"Upload the contents of {folder}/ to {site.public}")
