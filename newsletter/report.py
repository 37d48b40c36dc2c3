"""One-screen summaries printed by short commands (plain click output: fast to start)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from newsletter.errors import display_path
from newsletter.render.pipeline import GMAIL_CLIP_BYTES

if TYPE_CHECKING:
    from newsletter.commands.build import BuildResult


def print_build_summary(result: BuildResult) -> None:
    r = result.rendered
    size_kb = r.size_bytes / 1024
    limit_kb = GMAIL_CLIP_BYTES / 1024
    echo = click.echo
    echo(click.style(r.subject, bold=True))
    echo(f"  HTML   {display_path(result.html_path)}  {size_kb:.1f} KB (Gmail clips at {limit_kb:.0f} KB)")
    echo(f"  text   {display_path(result.text_path)}  {len(r.text.encode()) / 1024:.1f} KB")
    echo(f"  links  {len(r.links)}   images {r.image_count}")
    fields = sorted(r.html_parts.fields | r.text_parts.fields)
    echo(f"  personal fields  {', '.join(fields) if fields else 'none'}")
    # build checks only what rendering itself knows (size, preheader, unsubscribe link);
    # it must not read as the verdict of `newsletter check`, which checks far more
    if r.warnings:
        count = len(r.warnings)
        echo(click.style(f"  {count} rendering warning{'s' if count != 1 else ''}:", fg="yellow"))
        for w in r.warnings:
            echo(f"  {click.style('!', fg='yellow')} {w}")
    else:
        echo("  rendering: size, preheader and unsubscribe link fine")
    echo(
        f"  build checks only these; run `newsletter check {display_path(result.issue_path)}` "
        "before sending (links, images, accessibility, the list, ...)"
    )
