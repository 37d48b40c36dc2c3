"""``newsletter approve ISSUE``: record that this exact rendered email is approved."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.approval import authors, record
from newsletter.approval.policy import status
from newsletter.approval.store import Approver, path_for
from newsletter.delivery.records import head_commit
from newsletter.errors import ProblemsFound, UsageError, display_path
from newsletter.project import open_issue

APPROVAL_RULES = ("approval-off", "not-approved", "self-approved")


def approve(issue_path: Path, by: str | None) -> None:
    """Approve the email as it renders now, after ``newsletter check`` finds no error in it."""
    project, issue_file, rendered = open_issue(issue_path)
    who = (by or "").strip() or authors.user_email(project.root)
    if not who:
        raise UsageError("who approves? Set git's user.email (git config user.email you@your.org) or pass --by NAME")
    if any(ch in who for ch in "\r\n\0"):
        raise UsageError("--by: one line, please")
    from newsletter.checks import run_checks

    errors = [f for f in run_checks(project, issue_file, rendered) if f.severity == "error" and f.rule not in APPROVAL_RULES]
    if errors:
        for finding in errors:
            click.echo(f"  {finding}  [{finding.rule}]", err=True)
        raise ProblemsFound(
            f"not approved: {len(errors)} check error(s) in {display_path(issue_file.path)}; "
            "fix them first (newsletter check shows them all)"
        )
    done = record.add(project, issue_file, rendered, Approver(at=record.now_text(), by=who, commit=head_commit(project.root)))
    path = display_path(path_for(project.root, issue_file.slug))
    subject = rendered.subject
    if not done.written:
        previous = next(a for a in done.approval.approvers if a.by == who and a.how == done.approver.how)
        click.echo(f"“{subject}” is already approved by {previous}: {path} is unchanged")
    else:
        click.echo(f"Approved “{subject}” (email {done.approval.email_sha256[:12]}…) by {who} at {done.approver.at}")
        if done.replaced:
            click.echo("  replaces the approval of an earlier render by " + ", ".join(str(a) for a in done.replaced))
    state = status(project, issue_file, rendered)
    click.echo(f"  under approval: {state.policy}: {state.text}")
    for line in state.details:
        click.echo(f"    {line}")
    if done.written:
        click.echo(
            f"Commit it so that every clone and CI know: git add {path} && git commit -m 'Approve {issue_file.slug}' && git push"
        )
