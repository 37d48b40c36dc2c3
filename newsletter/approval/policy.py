"""Whether an email may be sent, from ``approval:`` in ``newsletter.yaml`` and ``approvals/<slug>.json``.

``none`` (the default): nobody needs to approve (``check`` warns). ``required``: someone
approved this exact render. ``another-person``: someone who is not the only author of the
issue's commits (an issue with uncommitted changes has an unknown author, so it cannot
be approved this way until they are committed). ``pull-request``: an approved review of the
merged pull request, recorded by the send workflow (:mod:`newsletter.approval.pullrequest`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from newsletter.approval import authors, changes, store
from newsletter.approval.made_from import email_sha256, made_from, relative
from newsletter.approval.store import Approval, Approver
from newsletter.errors import ProblemsFound, display_path
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.pipeline import Rendered
from newsletter.settings import SETTINGS_FILE

Policy = Literal["none", "required", "another-person", "pull-request"]
State = Literal["not-needed", "approved", "not-approved", "changed", "self-approved"]


@dataclass(frozen=True, slots=True)
class Status:
    policy: Policy
    state: State
    text: str
    """One line for people: "approved by … at …", "changed since approval by … at …", …"""
    details: list[str] = field(default_factory=list)
    """What changed, or why an approval does not count."""
    first_line: int | None = None
    """The first changed line of the issue, where ``check`` points."""
    approval: Approval | None = None

    @property
    def blocks(self) -> bool:
        """Whether a real send must refuse this email."""
        return self.policy != "none" and self.state != "approved"


def _who(approvers: list[Approver]) -> str:
    return " and ".join(str(a) for a in sorted(approvers))


def status(project: Project, issue_file: IssueFile, rendered: Rendered, policy: Policy | None = None) -> Status:
    """Where this render's approval stands under ``policy`` (default: the project's ``approval:``)."""
    chosen: Policy = policy or project.settings.approval
    approval = store.find(project.root, issue_file.slug)
    if approval is None:
        if chosen == "none":
            return Status(chosen, "not-needed", "no approval needed (approval: none in newsletter.yaml)")
        return Status(
            chosen,
            "not-approved",
            "not approved yet",
            [
                f"approve it after a test send: newsletter approve {display_path(issue_file.path)}"
                if chosen != "pull-request"
                else "approval: pull-request: approve the pull request that changes it, then merge it"
            ],
        )
    digest = email_sha256(rendered, project, issue_file)
    if approval.email_sha256 != digest:
        now = made_from(project, issue_file)
        lines = issue_file.path.read_text(encoding="utf-8", errors="replace").splitlines()
        found = changes.changes(approval.made_from, now, lines, project.root / SETTINGS_FILE)
        first = next((c.line for c in found if c.file == now.issue_file and c.line is not None), None)
        return Status(
            chosen,
            "changed",
            f"no longer the one approved by {_who(approval.approvers)}",
            changes.summary(found),
            first,
            approval,
        )
    counted, why = _counted(project, issue_file, approval, chosen)
    if not counted:
        state: State = "not-approved" if chosen == "pull-request" else "self-approved"
        return Status(
            chosen,
            state,
            f"approved by {_who(approval.approvers)}, which does not count under approval: {chosen}",
            why,
            None,
            approval,
        )
    return Status(chosen, "approved", f"approved by {_who(counted)}", [], None, approval)


def _counted(project: Project, issue_file: IssueFile, approval: Approval, policy: Policy) -> tuple[list[Approver], list[str]]:
    """The approvers who count under ``policy``, or why none does."""
    if policy == "pull-request":
        counted = [a for a in approval.approvers if a.by_pull_request]
        return counted, [] if counted else [
            "approval: pull-request counts only an approved review of the merged pull request, recorded by the send workflow"
        ]
    if policy != "another-person":
        return list(approval.approvers), []
    rel = relative(project.root, issue_file.path)
    found = authors.of(project.root, rel)
    if not found.in_git:
        return [], [f"{rel} is not in git, so who wrote it cannot be told: commit it"]
    if not found.committed:
        return [], [f"{rel} has changes that are not committed, so who wrote them cannot be told: commit them"]
    counted = [a for a in approval.approvers if a.by_pull_request or found.emails - {a.by.lower()}]
    if counted:
        return counted, []
    only = ", ".join(sorted(found.emails))
    return [], [
        f"approval: another-person needs someone other than the issue's only author ({only}) "
        f"to run newsletter approve {display_path(issue_file.path)}"
    ]


def gate(project: Project, issue_file: IssueFile, rendered: Rendered, *, required: bool = False) -> Status:
    """Refuse (exit 1, nothing sent) an email the project's approval rule does not allow;
    ``required`` (``send --require-approval``, as the CI workflow sends) makes ``none`` ``required``."""
    policy: Policy = project.settings.approval
    if required and policy == "none":
        policy = "required"
    found = status(project, issue_file, rendered, policy)
    if found.blocks:
        how = "--require-approval" if policy != project.settings.approval else f"approval: {policy} in newsletter.yaml"
        lines = "".join(f"\n  {line}" for line in found.details)
        raise ProblemsFound(
            f"not sent: the email is {found.text} ({how}):{lines}\nNothing was sent. {_next_step(found, issue_file)}"
        )
    return found


def _next_step(found: Status, issue_file: IssueFile) -> str:
    issue = display_path(issue_file.path)
    if found.policy == "pull-request":
        return "Change it in a pull request: its approval and merge approve it"
    if found.state == "changed":
        return f"Look at the change (a test send shows it) and approve it again: newsletter approve {issue}"
    return f"Someone looks at it (a test send) and runs: newsletter approve {issue}"
