"""Adding an approval of the email as it renders now to ``approvals/<slug>.json``."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from newsletter.approval import store
from newsletter.approval.made_from import email_sha256, made_from
from newsletter.approval.store import Approval, Approver
from newsletter.errors import UsageError
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.pipeline import Rendered


@dataclass(frozen=True, slots=True)
class Recorded:
    approval: Approval
    approver: Approver
    written: bool
    """False when this person had already approved this exact email (nothing written)."""
    replaced: list[Approver]
    """Approvals of an earlier render that this one replaces."""


def utc_text(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_text() -> str:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible files), as UTC to the second."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return utc_text(int(epoch))
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970") from None
    return utc_text(dt.datetime.now(dt.timezone.utc).timestamp())


def add(project: Project, issue_file: IssueFile, rendered: Rendered, approver: Approver) -> Recorded:
    """Record ``approver``'s approval of the email as it renders now (written whole, or not at all)."""
    digest = email_sha256(rendered, project, issue_file)
    existing = store.find(project.root, issue_file.slug)
    replaced: list[Approver] = []
    if existing is not None and existing.email_sha256 == digest:
        if any(a.by == approver.by and a.how == approver.how for a in existing.approvers):
            return Recorded(existing, approver, False, [])
        approval = existing  # the same bytes: what they are made from now is kept, for the next change
        approval.approvers.append(approver)
        approval.made_from = made_from(project, issue_file)
    else:
        replaced = list(existing.approvers) if existing is not None else []
        approval = Approval(issue_file.slug, rendered.subject, digest, made_from(project, issue_file), [approver])
    store.write(project.root, approval)
    return Recorded(approval, approver, True, replaced)
