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
from newsletter.delivery import records
from newsletter.delivery.sent import journal_sends, recorded_sends, sent_issues
from newsletter.errors import display_path
from newsletter.issue.catalogue import IssueSummary, same_subject, summaries
from newsletter.render.dates import long_date

FAMILY = "history"

SUBJECT_REPEATED = rule(
    "subject-repeated",
    "error",
    "The subject is the same as another issue's in issues/ or one already sent from this project.",
    family=FAMILY,
)
DATE_REPEATED = rule(
    "date-repeated",
    "error",
    "The date is the same as another issue's in issues/ or one already sent from this project.",
    family=FAMILY,
)
ALREADY_SENT = rule(
    "already-sent",
    "error",
    "The send records in sends/ (committed from any clone) say this issue was already sent.",
    family=FAMILY,
)
OLDER_THAN_SENT = rule(
    "older-than-sent",
    "error",
    "An issue dated after this one was already sent (per the send records).",
    family=FAMILY,
)
BEGUN_ELSEWHERE = rule(
    "begun-elsewhere",
    "warning",
    "A SendGrid send of this issue began on another clone and did not finish: `send` resumes it.",
    family=FAMILY,
)
RECORD_NOT_COMMITTED = rule(
    "record-not-committed",
    "warning",
    "A send record in sends/ is not committed to git: other clones do not know about that send.",
    family=FAMILY,
)
RULES = (SUBJECT_REPEATED.id, DATE_REPEATED.id, ALREADY_SENT.id, OLDER_THAN_SENT.id)


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


@check(FAMILY)
def shared_history(ctx: CheckContext) -> Iterator[Finding]:
    """What the send records of every clone say about this issue."""
    root = ctx.project.root
    slug = ctx.issue_file.slug
    for path in records.uncommitted(root):
        yield RECORD_NOT_COMMITTED(
            f"{display_path(path)} is not committed: other clones do not know about that send",
            ctx.issue_at(()),
            records.commit_hint(root, path),
        )
    if ctx.rendered.slug != slug:  # a send made from a sent issue on purpose (its correction email)
        return
    shared = recorded_sends(root)
    local = {s.slug for s in journal_sends(root)}
    mine = next((r for r in shared if r.slug == slug), None)
    if mine is not None and slug not in local and mine.state != "finished" and mine.provider == "sendgrid":
        yield BEGUN_ELSEWHERE(
            f"a send of this issue began on another clone ({mine.counts.get('accepted', 0)} accepted, {mine.state}, "
            f"started {mine.started_text}), says {display_path(records.path_for(root, slug))}",
            ctx.issue_at(("subject",)),
            "`newsletter send` resumes it: SendGrid's Email Logs say who already has it, and only the others get it",
        )
    elif mine is not None and slug not in local:
        yield ALREADY_SENT(
            f"this issue was already sent ({mine.counts.get('accepted', 0)} accepted, {mine.state}, started "
            f"{mine.started_text}), says {display_path(records.path_for(root, slug))}",
            ctx.issue_at(("subject",)),
            "start the next issue with `newsletter new`; to send this one again on purpose, use --force",
        )
    date = ctx.issue_file.issue.date.isoformat()
    later = [r for r in shared if r.slug != slug and r.date > date]
    if later:
        newest = max(later, key=lambda r: r.date)
        yield OLDER_THAN_SENT(
            f"an issue dated after this one was already sent: {newest.slug} ({newest.date})",
            ctx.issue_at(("date",)),
            "readers would get an older issue after a newer one; set this issue's date, or use --force",
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
