"""``newsletter publish``: the web edition of the project's issues → ``site/``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from newsletter.errors import ProblemsFound, UsageError, display_path
from newsletter.root import find_project_root
from newsletter.sitenames import CALENDAR, SITE_DIR
from newsletter.web.edition import build_site
from newsletter.web.result import Request, SiteResult

LISTED = 30
"""Up to this many changed files are listed by name; more are counted by folder."""


def now() -> dt.datetime:
    """The time the site is made at: ``SOURCE_DATE_EPOCH`` (reproducible builds) when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970") from None
    return dt.datetime.now(dt.timezone.utc)


def request_for(issue_paths: tuple[Path, ...], out_dir: Path | None, base_url: str | None) -> Request:
    """The publish the options ask for (bad options: exit 2, before anything is made)."""
    root = find_project_root(issue_paths[0] if issue_paths else Path.cwd())
    for path in issue_paths:
        if not path.is_file():
            raise UsageError(f"{display_path(path)}: no such issue file")
    if base_url is not None:
        check_base_url(base_url)
    out = out_dir if out_dir is not None else root / SITE_DIR
    return Request(root, issue_paths, out, base_url, now())


def check_base_url(base_url: str) -> None:
    """Refuse a base URL that is not a plain http(s) address: one with a user name or
    password (they would be written into every page; the value is then not shown back),
    line breaks, spaces or control characters (they would break the pages' links)."""
    if "@" in base_url.partition("//")[2].partition("/")[0]:
        raise UsageError(
            "--base-url: a user name or password in the address would be published in every page; give the address without them"
        )
    if not base_url.startswith(("https://", "http://")):
        raise UsageError(f"--base-url {base_url!r}: give a full http(s):// address")
    if any(ch.isspace() or not ch.isprintable() for ch in base_url):
        raise UsageError(f"--base-url {base_url!r}: line breaks, spaces and control characters are not allowed")
    from newsletter.fields import check_url  # here: a publish with nothing to make loads no pydantic

    try:
        check_url(base_url, ("http", "https"))
    except ValueError as exc:
        raise UsageError(f"--base-url {base_url!r}: {exc}") from None


def publish(issue_paths: tuple[Path, ...], out_dir: Path | None, base_url: str | None) -> SiteResult:
    """Publish the whole archive (and the issues named, ahead of their day); exit 1 if any was left out."""
    request = request_for(issue_paths, out_dir, base_url)
    result = build_site(request)
    show(result)
    if result.failed:
        n = len(result.failed)
        raise ProblemsFound(f"{n} issue{'s' if n != 1 else ''} left out of the site (see above)")
    return result


def show(result: SiteResult) -> None:
    folder = display_path(result.out_dir)
    n = len(result.issues)
    click.echo(click.style(f"Published {n} issue{'s' if n != 1 else ''} to {folder}/", bold=True))
    for item in result.issues:
        click.echo(f"  {item.page}  {item.title}")
    for slug in result.gone:
        click.echo(f"  {slug}.html  kept as published (its issue file is gone; the index still lists it)")
    click.echo(f"  files  {len(result.written)} written, {len(result.unchanged)} unchanged")
    click.echo(f"  events {result.events} in {CALENDAR}")
    for file in result.not_yet:
        click.echo(f"  not yet: {file} is dated after today (name it on the command line to publish it now)")
    for failed in result.failed:
        click.echo(click.style(f"left out: {failed.file}: {failed.summary}", fg="red"), err=True)
        for problem in failed.problems:
            click.echo(f"  {problem}", err=True)
    for file in result.changed_since_sent:
        click.echo(
            f"changed since it was sent: {file}: `newsletter correct {file}` notes the change on its "
            "page (add --email to tell its readers)"
        )
    if not result.written:
        click.echo(f"Nothing changed: {folder}/ is as uploaded last time (if it was).")
        return
    click.echo(
        f"Upload to {result.public} these {len(result.written)} changed file(s) from {folder}/ "
        "(or the whole folder: the rest is unchanged):"
    )
    for line in changed_lines(result.written):
        click.echo(f"  {line}")


def changed_lines(names: list[str]) -> list[str]:
    """The changed files by name, or by folder when there are many."""
    if len(names) <= LISTED:
        return sorted(names)
    counts: dict[str, int] = {}
    for name in names:
        where = name.rsplit("/", 1)[0] + "/" if "/" in name else "./"
        counts[where] = counts.get(where, 0) + 1
    return [f"{where}  {count} file(s)" for where, count in sorted(counts.items())]
