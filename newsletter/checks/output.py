"""The check report: grouped by severity for people, a stable JSON shape for programs."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from newsletter.checks.finding import Finding

JSON_VERSION = 1


def counts(findings: Sequence[Finding]) -> tuple[int, int]:
    errors = sum(1 for f in findings if f.severity == "error")
    return errors, len(findings) - errors


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def as_json(issue: str, personalised_for: str, findings: Sequence[Finding]) -> str:
    """``{"version", "issue", "personalised_for", "errors", "warnings", "findings": [...]}``;
    each finding has rule, severity, message, file, line, column, field and hint."""
    errors, warnings = counts(findings)
    doc = {
        "version": JSON_VERSION,
        "issue": issue,
        "personalised_for": personalised_for,
        "errors": errors,
        "warnings": warnings,
        "findings": [f.as_dict() for f in findings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def as_text(issue: str, personalised_for: str, findings: Sequence[Finding]) -> str:
    errors, warnings = counts(findings)
    lines = [click.style(f"Checked {issue}", bold=True), f"  personalised with {personalised_for}"]
    for severity, colour, title in (("error", "red", "error"), ("warning", "yellow", "warning")):
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        lines.append("")
        lines.append(click.style(_plural(len(group), title), fg=colour, bold=True))
        for f in group:
            lines.append(f"  {f}  [{f.rule}]")
            if f.hint:
                lines.append(f"      hint: {f.hint}")
    lines.append("")
    if errors:
        verdict = click.style(
            f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}: fix the errors before sending", fg="red"
        )
    elif warnings:
        verdict = click.style(f"no errors, {_plural(warnings, 'warning')}", fg="yellow")
    else:
        verdict = click.style("no errors, no warnings", fg="green")
    lines.append(verdict)
    return "\n".join(lines)
