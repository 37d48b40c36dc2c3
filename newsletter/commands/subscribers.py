"""``newsletter subscribers ...``: the list's figures, its check, imports and unsubscribes.

Plain typed functions; the command line (``cli.py``) prints what they return.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from newsletter.audience import AudienceSummary, ImportResult, Unsubscribed, import_list, summarize, unsubscribe
from newsletter.audience.csvfile import write_report
from newsletter.errors import ProblemsFound

REPORT_HEADER = ["line", "email", "problem"]


def stats(list_path: Path, *, check_dns: bool = False) -> AudienceSummary:
    """Totals by status and tag, invalid rows, duplicates and how many are eligible."""
    return summarize(list_path, check_dns=check_dns)


def check(list_path: Path, report_path: Path | None = None, *, check_dns: bool = False) -> AudienceSummary:
    """Validate every row; write the rows to fix to ``report_path`` (CSV: line, email, problem)."""
    summary = summarize(list_path, check_dns=check_dns)
    if report_path is not None:
        write_report(report_path, REPORT_HEADER, ([str(line), email, problem] for line, email, problem in summary.to_fix))
    return summary


def fail_if_invalid(summary: AudienceSummary) -> None:
    if summary.invalid:
        n = summary.invalid
        raise ProblemsFound(f"{summary.list_file}: {n} invalid row{'s' if n != 1 else ''}")


def import_(list_path: Path, source: Path, tag: str | None = None) -> ImportResult:
    """Merge another export into the list; never resubscribes anyone."""
    return import_list(list_path, source, tag)


def unsubscribe_(list_path: Path, emails: Iterable[str], reason: str | None = None) -> list[Unsubscribed]:
    """Record unsubscribes (adding addresses that are not in the list yet)."""
    return unsubscribe(list_path, emails, reason)


# ---------------------------------------------------------------- what the commands print

SHOW_AT_MOST = 50


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def show_stats(summary: AudienceSummary, fmt: str = "text") -> None:
    if fmt == "json":
        import json

        import click

        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    out = _console()
    s = summary
    out.print(f"[bold]{s.list_file}[/bold]: {s.total:,} row{'s' if s.total != 1 else ''}")
    rows = [
        ("subscribed", s.subscribed, ""),
        ("unsubscribed", s.unsubscribed, ""),
        ("bounced", s.bounced, ""),
        ("complained", s.complained, ""),
        ("invalid", s.invalid, "rows; see `newsletter subscribers check`" if s.invalid else ""),
        ("duplicates", s.duplicates, "rows repeating an address (case ignored)"),
        ("eligible", s.eligible, "subscribed, valid, once each: who an issue for everyone goes to"),
    ]
    if s.held:
        rows.append(("held", s.held, "subscribed, but another row for the address is broken"))
    for name, n, note in rows:
        out.print(f"  {name:<13}{n:>11,}  {note}".rstrip())
    if s.by_tag:
        tags = " · ".join(f"{tag} {n:,}" for tag, n in s.by_tag.items())
        out.print(f"  by tag (subscribed): {tags}")
    for w in s.warnings:
        if w.field != "email":  # duplicates are counted above; `check` lists them
            out.print(f"  [yellow]![/yellow] {w}")


def show_check(summary: AudienceSummary, report_path: Path | None) -> None:
    from newsletter.errors import display_path

    out = _console()
    s = summary
    for p in s.problems[:SHOW_AT_MOST]:
        out.print(f"[red]✗[/red] {p}")
    if len(s.problems) > SHOW_AT_MOST:
        more = len(s.problems) - SHOW_AT_MOST
        out.print(f"  … and {more:,} more invalid rows" + ("" if report_path else " (all of them: --report FILE)"))
    shown = 0
    for w in s.warnings:
        if shown < SHOW_AT_MOST:
            out.print(f"[yellow]![/yellow] {w}")
        shown += 1
    if shown > SHOW_AT_MOST:
        out.print(f"  … and {shown - SHOW_AT_MOST:,} more warnings")
    verdict = "[green]ok[/green]" if not s.invalid else f"[red]{s.invalid:,} invalid[/red]"
    out.print(
        f"{s.list_file}: {s.total:,} rows, {verdict}, {s.duplicates:,} duplicates, {s.eligible:,} eligible"
    )
    if report_path is not None:
        out.print(f"report: {display_path(report_path)} ({len(s.to_fix):,} rows to fix)")


def show_import(result: ImportResult, list_file: str) -> None:
    out = _console()
    out.print(f"{result.source} ({result.kind}) → {list_file}")
    out.print(
        f"  added {result.count('added'):,}   updated {result.count('updated'):,}   skipped {result.count('skipped'):,}"
    )
    for action in ("added", "updated", "skipped"):
        outcomes = [o for o in result.outcomes if o.action == action]
        for o in outcomes[:SHOW_AT_MOST]:
            out.print(f"  {action:<8} {result.source}:{o.line}: {o.email}: {o.reason}")
        if len(outcomes) > SHOW_AT_MOST:
            out.print(f"  {action:<8} … and {len(outcomes) - SHOW_AT_MOST:,} more")
    if result.ignored_columns:
        out.print(f"  columns not imported: {', '.join(result.ignored_columns)}")
    if not result.changed:
        out.print("  the list is unchanged")


def show_unsubscribe(results: list[Unsubscribed], list_file: str) -> None:
    out = _console()
    for r in results:
        where = f" (line{'s' if len(r.lines) > 1 else ''} {', '.join(map(str, r.lines))})" if r.lines else ""
        what = {"unsubscribed": "unsubscribed", "already": r.note, "added": r.note}[r.outcome]
        out.print(f"{list_file}: {r.email}: {what}{where}")
