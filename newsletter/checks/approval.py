"""Approval rules: has someone other than the tool looked at this exact email?

What ``approval:`` in ``newsletter.yaml`` asks for, judged by :mod:`newsletter.approval.policy`.
The send refuses on its own (``--force`` never overrides an approval); these findings say
so early, in ``check``, the preview and the CI review.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding, Where
from newsletter.checks.registry import check, rule
from newsletter.errors import NewsletterError

FAMILY = "approval"

APPROVAL_OFF = rule(
    "approval-off",
    "warning",
    "Nobody approves the email before it is sent (approval: none in newsletter.yaml).",
    family=FAMILY,
)
NOT_APPROVED = rule(
    "not-approved",
    "error",
    "approval: required, another-person or pull-request, and this exact email is not approved "
    "(never approved, or changed since). A warning under pull-request, where merging approves.",
    family=FAMILY,
)
SELF_APPROVED = rule(
    "self-approved",
    "error",
    "approval: another-person, and the email is approved only by the only author of the issue's commits.",
    family=FAMILY,
)


@check(FAMILY)
def approval(ctx: CheckContext) -> Iterator[Finding]:
    from newsletter.approval.policy import status

    try:
        found = status(ctx.project, ctx.issue_file, ctx.rendered)
    except NewsletterError as exc:  # a broken approvals/ file: named, the send refuses it too
        yield NOT_APPROVED(str(exc.format_message()), ctx.issue_at(()), "restore it from git or approve again")
        return
    if found.policy == "none":
        if found.state == "not-needed":
            yield APPROVAL_OFF(
                "nobody approves this email before it is sent",
                ctx.issue_at(()),
                "set approval: required (or another-person, or pull-request) in newsletter.yaml; docs/teamwork.md says how",
            )
        return
    if not found.blocks:
        return
    hint = "; ".join(found.details) or "newsletter approve ISSUE, after a test send"
    where = ctx.issue_at(())
    if found.first_line is not None:
        where = Where(where.file, found.first_line)
    made = (SELF_APPROVED if found.state == "self-approved" else NOT_APPROVED)(f"the email is {found.text}", where, hint)
    yield dataclasses.replace(made, severity="warning") if found.policy == "pull-request" else made
