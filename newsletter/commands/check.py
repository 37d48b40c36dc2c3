"""``newsletter check``: the pre-send quality gate for one issue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from newsletter.checks import Finding, in_every_language
from newsletter.checks.context import build_context
from newsletter.checks.output import as_json, as_text, counts
from newsletter.errors import ProblemsFound
from newsletter.project import open_issue


@dataclass(frozen=True, slots=True)
class CheckResult:
    issue: str
    personalised_for: str
    findings: list[Finding]
    forced: int = 0
    """Repeats of another issue accepted as warnings by ``--force``."""


def check(issue_path: Path, *, online: bool = False, list_path: Path | None = None, force: bool = False) -> CheckResult:
    """Render the issue and run every check on it; ``force`` accepts a repeated subject or date."""
    project, issue_file, rendered = open_issue(issue_path)
    ctx = build_context(project, issue_file, rendered, list_path)
    findings = in_every_language(ctx, online=online)
    forced = 0
    if force:
        from newsletter.checks.history import accept_repeats

        findings, forced = accept_repeats(findings)
    return CheckResult(issue_file.doc.file, ctx.sample.source, findings, forced)


def report(result: CheckResult, fmt: str) -> None:
    """Print the findings; raise ProblemsFound (exit 1) when there are errors."""
    if fmt == "json":
        click.echo(as_json(result.issue, result.personalised_for, result.findings))
    else:
        click.echo(as_text(result.issue, result.personalised_for, result.findings))
        if result.forced:
            click.echo(f"--force: {result.forced} repeat(s) of another issue's subject or date accepted")
    errors, _ = counts(result.findings)
    if errors:
        raise ProblemsFound(f"{errors} check error{'s' if errors != 1 else ''} in {result.issue}")
