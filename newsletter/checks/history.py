"""History rules: never the same issue twice by mistake.

An issue whose subject or date equals another issue file in ``issues/``, or an issue
already sent from this project, is an error: it is most often last month's file copied
and not yet changed. ``--force`` (of ``check`` and ``send``) accepts it on purpose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding
from newsletter.checks.registry import check, rule
from newsletter.delivery.sent import sent_issues
from newsletter.errors import display_path
from newsletter.issue.catalogue import IssueSummary, same_subject, summaries
from newsletter.render.dates import long_date

FAMILY = "history"

SUBJECT_REPEATED = rule(
    "subject-repeated", "error",
    "The subject is the same as another issue's in issues/ or one already sent from this project.",
    family=FAMILY,
)
DATE_REPEATED = rule(
    "date-repeated", "error",
    "The date is the same as another issue's in issues/ or one already sent from this project.",
    family=FAMILY,
)
RULES = (SUBJECT_REPEATED.id, DATE_REPEATED.id)


def _others(ctx: CheckContext) -> list[tuple[IssueSummary, str]]:
    """The other issues this one must not repeat, each with how it is described.

    Every issue already sent counts. Unsent files count too, unless this issue was sent
    itself: then the unsent file is the copy, reported when it is checked, and this
    issue's own send can still be resumed.
    """
    own = ctx.issue_file.path.resolve()
    sent = {s.slug: s for s in sent_issues(ctx.project.root)}
    out = []
    for other in summaries(ctx.project.root):
        if other.slug == ctx.issue_file.slug or other.path.resolve() == own:
            continue
        was = sent.get(other.slug)
        if was is None and ctx.issue_file.slug in sent:
            continue
        status = f", already sent with {was.provider}" if was else ""
        out.append((other, f"{display_path(other.path)}{status}"))
    # sent ones first: they are the repeats that reach readers
    return sorted(out, key=lambda pair: (", already sent" not in pair[1], pair[0].slug))


@check(FAMILY)
def repeats(ctx: CheckContext) -> Iterator[Finding]:
    issue = ctx.issue_file.issue
    others = _others(ctx)
    same_subject_as = [what for other, what in others if other.subject and same_subject(other.subject, issue.subject)]
    if same_subject_as:
        yield SUBJECT_REPEATED(
            f"the subject {issue.subject!r} is the same as in {_listed(same_subject_as)}",
            ctx.issue_at(("subject",)),
            "write this issue's own subject (readers would take it for the old one); "
            "to send the same issue again on purpose, use --force",
        )
    same_date_as = [what for other, what in others if other.date == issue.date]
    if same_date_as:
        yield DATE_REPEATED(
            f"the date {long_date(issue.date)} is the same as in {_listed(same_date_as)}",
            ctx.issue_at(("date",)),
            "set this issue's own date (YYYY-MM-DD); to keep it on purpose, use --force",
        )


def _listed(names: list[str], limit: int = 3) -> str:
    shown = "; ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def accept_repeats(findings: list[Finding]) -> tuple[list[Finding], int]:
    """``--force``: repeats become warnings (said so in their message); how many were."""
    out: list[Finding] = []
    accepted = 0
    for f in findings:
        if f.rule in RULES and f.severity == "error":
            f = dataclasses.replace(f, severity="warning", message=f"{f.message} (accepted with --force)")
            accepted += 1
        out.append(f)
    return sorted(out, key=Finding.sort_key), accepted
