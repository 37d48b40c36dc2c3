"""The pre-send quality gate: rules in families (one module each), run on a rendered issue.

Entry point: :func:`run_checks` (project, issue, rendered email → findings, errors
first); ``newsletter check``, the preview and the send command all call it, so they
report the same findings. Rules are declared per family in :mod:`.registry`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.checks.finding import Finding, Rule, Severity, Where
from newsletter.checks.registry import all_rules
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.pipeline import Rendered

if TYPE_CHECKING:
    from newsletter.checks.context import CheckContext

__all__ = ["Finding", "Rule", "Severity", "Where", "all_rules", "findings_for", "in_every_language", "run_checks"]


def run_checks(
    project: Project,
    issue_file: IssueFile,
    rendered: Rendered,
    *,
    list_path: Path | None = None,
    online: bool = False,
) -> list[Finding]:
    """Every finding for this issue, errors first, then by file, line and rule; no duplicates.

    The email is checked as the reader with the longest values in ``list_path``
    (default: the project's ``subscribers.csv``) would get it. ``online`` also requests
    every link and image.
    """
    from newsletter.checks.context import build_context

    return in_every_language(build_context(project, issue_file, rendered, list_path), online=online)


def in_every_language(ctx: CheckContext, *, online: bool = False) -> list[Finding]:
    """The findings of a prepared context (see :func:`run_checks`) and, for an issue in
    several languages, of each other language's email too, at its own lines; with
    ``online``, the links and images only another language's email has are requested too
    (each address once)."""
    from newsletter.checks.context import build_context

    found = findings_for(ctx, online=online)
    issue_file = ctx.issue_file
    if not issue_file.languages:
        return found
    merged = dict.fromkeys(found)
    others = [
        build_context(ctx.project, variant, ctx.project.render(variant), ctx.list_path)
        for variant in issue_file.in_each_language()[1:]
    ]
    for context in others:
        merged.update(dict.fromkeys(findings_for(context)))
    if online:
        from newsletter.checks.online import other_languages

        merged.update(dict.fromkeys(other_languages(ctx, others)))
    return sorted(merged, key=Finding.sort_key)


def findings_for(ctx: CheckContext, *, online: bool = False) -> list[Finding]:
    """Run the registered checks on a prepared context (see :func:`run_checks`)."""
    from newsletter.checks import registry

    found: dict[Finding, None] = {}
    for check in registry.checks(online=online):
        for finding in check(ctx):
            found.setdefault(finding, None)
    return sorted(found, key=Finding.sort_key)
