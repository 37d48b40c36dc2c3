"""``newsletter subscribers ...``: the list's figures, its check, imports and unsubscribes.

Plain typed functions; the command line (``cli.py``) prints what they return.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.audience import AudienceSummary, ConsentAnswer, ImportResult, Unsubscribed, import_list, summarize, unsubscribe
from newsletter.audience.atomic import write_report
from newsletter.errors import Problem, ProblemsFound
from newsletter.privacy import people

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

REPORT_HEADER = ["line", "email", "problem"]


def evidence_required(list_path: Path) -> bool:
    """Whether the project the list belongs to says ``consent: required`` (a list in no
    project: no)."""
    from newsletter.settings import SETTINGS_FILE, load_settings

    root = people.root_of(list_path)
    return (root / SETTINGS_FILE).is_file() and load_settings(root).consent == "required"


def stats(list_path: Path, *, check_dns: bool = False) -> AudienceSummary:
    """Totals by status and tag, invalid rows, duplicates and how many are eligible."""
    return summarize(list_path, check_dns=check_dns, require_evidence=evidence_required(list_path))


def check(list_path: Path, report_path: Path | None = None, *, check_dns: bool = False) -> AudienceSummary:
    """Validate every row (with ``consent: required``, every subscribed row holds evidence of
    consent); write the rows to fix to ``report_path`` (CSV: line, email, problem)."""
    summary = summarize(list_path, check_dns=check_dns, require_evidence=evidence_required(list_path))
    if report_path is not None:
        write_report(report_path, REPORT_HEADER, ([str(line), email, problem] for line, email, problem in summary.to_fix))
    return summary


def check_wordings(list_path: Path) -> list[Problem]:
    """The sign-up wordings the list names (``consent_wording``) that git cannot show."""
    from newsletter.audience.evidence import wording_files

    return wording_files(list_path, people.root_of(list_path))


def _missing(problems: list[Problem], list_path: Path) -> list[Problem]:
    """The wordings git has not, when evidence is required (else they are warnings)."""
    from newsletter.audience.evidence import UNCHECKED

    return [p for p in problems if p.field != UNCHECKED] if evidence_required(list_path) else []


def show_wordings(problems: list[Problem], list_path: Path) -> None:
    out = _console()
    errors = _missing(problems, list_path)
    for p in problems:
        out.print(_mark("x", "red", str(p)) if p in errors else _mark("!", "yellow", str(p)))


def fail_if_invalid(summary: AudienceSummary, wordings: list[Problem] | None = None, list_path: Path | None = None) -> None:
    missing = _missing(wordings or [], list_path) if list_path is not None else []
    if missing:
        raise ProblemsFound(
            f"{summary.list_file}: {len(missing)} sign-up wording(s) git cannot show (consent_wording; consent: required)"
        )
    if summary.questions and not summary.invalid:
        n = len(summary.questions)
        raise ProblemsFound(f"{summary.list_file}: {n} column{'s' if n != 1 else ''} may say who agreed to get email")
    if summary.invalid:
        n = summary.invalid
        raise ProblemsFound(f"{summary.list_file}: {n} invalid row{'s' if n != 1 else ''}")
    if summary.unproven:
        n = summary.unproven
        raise ProblemsFound(
            f"{summary.list_file}: {n} subscriber{'s' if n != 1 else ''} without evidence of consent "
            "(consent: required): held back from every send"
        )


def import_(
    list_path: Path, source: Path, tag: str | None = None, *, status_column: str | None = None, yes_means: tuple[str, ...] = ()
) -> ImportResult:
    """Merge another export into the list; never resubscribes anyone."""
    forgotten = people.register(list_path)
    return import_list(list_path, source, tag, answer=ConsentAnswer(status_column, yes_means, forgotten or ()))


def unsubscribe_(list_path: Path, emails: Iterable[str], reason: str | None = None) -> list[Unsubscribed]:
    """Record unsubscribes (adding addresses that are not in the list yet)."""
    return unsubscribe(list_path, emails, reason)


# ---------------------------------------------------------------- what the commands print
# Everything printed from the list is plain text (rich markup off), shown with repr()
# when it holds control characters: a cell cannot restyle or garble the terminal.

SHOW_AT_MOST = 50


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, markup=False, emoji=False)


def _safe(text: str) -> str:
    return text if text.isprintable() else repr(text)


def _mark(symbol: str, style: str, text: str) -> Text:
    from rich.text import Text

    return Text.assemble((symbol, style), " ", _safe(text))


def show_stats(summary: AudienceSummary, fmt: str = "text") -> None:
    if fmt == "json":
        import json

        import click

        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    out = _console()
    s = summary
    out.print(f"{_safe(s.list_file)}: {s.total:,} row{'s' if s.total != 1 else ''}", style="bold")
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
    if s.unproven:
        rows.append(("held back", s.unproven, "subscribed, without evidence of consent (consent: required)"))
    for name, n, note in rows:
        out.print(f"  {name:<13}{n:>11,}  {note}".rstrip())
    if s.consent_columns:
        out.print(f"  consent read from: {', '.join(_safe(c) for c in s.consent_columns)}")
    for q in s.questions:
        out.print(_mark("  ?", "yellow", str(q)))
    if s.by_tag:
        tags = " · ".join(f"{_safe(tag)} {n:,}" for tag, n in s.by_tag.items())
        out.print(f"  by tag (subscribed): {tags}")
    for w in s.warnings:
        if w.field != "email":  # duplicates are counted above; `check` lists them
            out.print(_mark("  !", "yellow", str(w)))


def show_check(summary: AudienceSummary, report_path: Path | None) -> None:
    from newsletter.errors import display_path

    out = _console()
    s = summary
    for p in s.problems[:SHOW_AT_MOST]:
        out.print(_mark("✗", "red", str(p)))
    if len(s.problems) > SHOW_AT_MOST:
        more = len(s.problems) - SHOW_AT_MOST
        out.print(f"  … and {more:,} more invalid rows" + ("" if report_path else " (all of them: --report FILE)"))
    for q in s.questions:
        out.print(_mark("?", "red", str(q)))
    for p in s.unproven_rows[:SHOW_AT_MOST]:
        out.print(_mark("✗", "red", str(p)))
    per_row = bool(s.unproven_rows) and s.unproven_rows[0].line != 1  # line 1: the list has no evidence column
    if per_row and s.unproven > min(len(s.unproven_rows), SHOW_AT_MOST):
        more = s.unproven - min(len(s.unproven_rows), SHOW_AT_MOST)
        out.print(f"  … and {more:,} more without evidence of consent" + ("" if report_path else " (all of them: --report FILE)"))
    for w in s.warnings[:SHOW_AT_MOST]:
        out.print(_mark("!", "yellow", str(w)))
    if len(s.warnings) > SHOW_AT_MOST:
        out.print(f"  … and {len(s.warnings) - SHOW_AT_MOST:,} more warnings")
    verdict = "ok" if not s.invalid else f"{s.invalid:,} invalid"
    if s.unproven:
        verdict += f", {s.unproven:,} held back without evidence of consent"
    if s.consent_columns:
        out.print(f"consent read from: {', '.join(_safe(c) for c in s.consent_columns)}")
    out.print(
        f"{_safe(s.list_file)}: {s.total:,} row{'s' if s.total != 1 else ''}, {verdict}, "
        f"{s.duplicates:,} duplicates, {s.eligible:,} eligible",
        style="green" if not s.invalid and not s.unproven else "red",
    )
    if report_path is not None:
        out.print(f"report: {_safe(display_path(report_path))} ({len(s.to_fix):,} rows to fix)")


def show_import(result: ImportResult, list_file: str) -> None:
    out = _console()
    out.print(f"{_safe(result.source)} ({result.kind}) → {_safe(list_file)}")
    out.print(f"  added {result.count('added'):,}   updated {result.count('updated'):,}   skipped {result.count('skipped'):,}")
    for action in ("added", "updated", "skipped"):
        outcomes = [o for o in result.outcomes if o.action == action]
        for o in outcomes[:SHOW_AT_MOST]:
            out.print(f"  {action:<8} {_safe(result.source)}:{o.line}: {_safe(o.email)}: {_safe(o.reason)}")
        if len(outcomes) > SHOW_AT_MOST:
            out.print(f"  {action:<8} … and {len(outcomes) - SHOW_AT_MOST:,} more")
    if result.ignored_columns:
        out.print(f"  columns not imported: {', '.join(_safe(c) for c in result.ignored_columns)}")
    if not result.changed:
        out.print("  the list is unchanged")


def show_unsubscribe(results: list[Unsubscribed], list_file: str) -> None:
    out = _console()
    for r in results:
        where = f" (line{'s' if len(r.lines) > 1 else ''} {', '.join(map(str, r.lines))})" if r.lines else ""
        what = {"unsubscribed": "unsubscribed", "already": r.note, "added": r.note}[r.outcome]
        out.print(f"{_safe(list_file)}: {_safe(r.email)}: {what}{where}")
