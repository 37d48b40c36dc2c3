"""One-screen summaries printed by commands (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from newsletter.errors import display_path
from newsletter.render.pipeline import GMAIL_CLIP_BYTES

if TYPE_CHECKING:
    from newsletter.commands.build import BuildResult


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def print_build_summary(result: BuildResult) -> None:
    r = result.rendered
    out = console()
    size_kb = r.size_bytes / 1024
    limit_kb = GMAIL_CLIP_BYTES / 1024
    out.print(f"[bold]{r.subject}[/bold]")
    out.print(f"  HTML   {display_path(result.html_path)}  {size_kb:.1f} KB (Gmail clips at {limit_kb:.0f} KB)")
    out.print(f"  text   {display_path(result.text_path)}  {len(r.text.encode()) / 1024:.1f} KB")
    out.print(f"  links  {len(r.links)}   images {r.image_count}")
    fields = sorted(r.html_parts.fields | r.text_parts.fields)
    out.print(f"  personal fields  {', '.join(fields) if fields else 'none'}")
    if r.warnings:
        out.print(f"[yellow]  {len(r.warnings)} warning(s):[/yellow]")
        for w in r.warnings:
            out.print(f"  [yellow]![/yellow] {w}")
    else:
        out.print("  no warnings")
