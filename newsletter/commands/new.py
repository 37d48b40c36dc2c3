"""``newsletter new``: start the next issue from the latest (or a named) one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import click

from newsletter import yamldoc
from newsletter.errors import NewsletterError, UsageError, display_path
from newsletter.files import create_file
from newsletter.issue import catalogue, successor
from newsletter.issue.load import from_document, load_issue
from newsletter.settings import find_project_root, load_settings


@dataclass(frozen=True, slots=True)
class Started:
    path: Path
    source: Path
    next: successor.NextIssue


def new(slug: str | None, from_path: Path | None, date: dt.date | None) -> Started:
    """Write ``issues/<slug>.yaml`` for the next issue; never over an existing file."""
    root = find_project_root(from_path if from_path is not None else Path.cwd())
    settings = load_settings(root)
    if from_path is None:
        latest = catalogue.latest(root)
        if latest is None:
            raise UsageError(
                f"no issue in {display_path(root / catalogue.ISSUES_DIR)}/ to start from: "
                "write the first one (see docs/editors-guide.md), or name one with --from"
            )
        from_path = latest.path
    source = load_issue(from_path, settings)
    new_date = date or successor.month_after(source.issue.date)
    if slug is None:
        slug = successor.next_slug(source.slug, source.issue.date, new_date)
    slug = slug.removesuffix(".yaml").removesuffix(".yml")
    if not successor.SLUG.match(slug):
        raise UsageError(
            f"'{slug}' does not make a good slug: use lower-case letters, digits and hyphens, e.g. 2024-07-july-update"
        )
    path = root / catalogue.ISSUES_DIR / f"{slug}.yaml"
    if path.exists() or path.with_suffix(".yml").exists():
        raise UsageError(
            f"{display_path(path)} already exists: nothing was written. Edit it, or name another SLUG (newsletter new SLUG)"
        )
    text = from_path.read_text(encoding="utf-8")
    made = successor.next_issue(
        source, text, date=new_date, slug=slug, timezone=settings.timezone, source_name=display_path(from_path)
    )
    # the draft must load as an issue: never leave a file the editor cannot open
    doc = yamldoc.parse(made.text, display_path(path))
    from_document(doc, path, settings)  # an issue in several languages: each of them
    _write_new(path, made.text)
    return Started(path, from_path, made)


def _write_new(path: Path, text: str) -> None:
    """Create ``path`` with ``text``; refuse if it appeared meanwhile."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = create_file(path, text)
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot create: {exc.strerror}; nothing was written") from None
    if not created:
        raise UsageError(f"{display_path(path)} already exists: nothing was written")


def show(started: Started) -> None:
    made = started.next
    issue = display_path(started.path)
    click.echo(f"Started {issue} ({made.date:%-d %B %Y}) from {display_path(started.source)}:")
    click.echo(f"  {made.kept} block(s) kept as they are (headings, buttons, contact, dividers, blocks marked # keep)")
    if made.events_kept or made.events_over:
        click.echo(f"  {made.events_kept} event(s) still to come carried over; {made.events_over} over by then left out")
    click.echo(
        f'  {made.placeholders} placeholder(s) "{successor.PLACEHOLDER} …" where this month\'s '
        "words go: newsletter check reports each until it is written"
    )
    click.echo("Next:")
    click.echo("  newsletter preview --open          (write, watching the email change)")
    click.echo(f"  newsletter check {issue}   (until no error is left)")
    click.echo(f"  newsletter send {issue} --test-to YOU@YOUR.ORG   (a test to yourself)")
