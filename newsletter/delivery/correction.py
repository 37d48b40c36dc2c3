"""The correction email: a send like any other, to the readers of the original send only.

It goes through the same session as ``newsletter send`` (:mod:`newsletter.delivery.session`):
journaled under its own name (``<slug>-correction-<n>``), so a stopped send resumes and
a finished one is never sent twice; the command passes in the same quality gate and the
same sync with SendGrid's suppressions first (``before``). Its readers are those the original send reached (``accepted``, or
marked sent) who are still eligible in the list now: anyone who unsubscribed, bounced or
complained since is left out, and nobody who joined since is added.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.delivery.hooks import SendHooks
from newsletter.delivery.journal_read import open_existing
from newsletter.delivery.progress import Reporter
from newsletter.delivery.providers import ProviderName, check_environment, send_key
from newsletter.delivery.session import Context, SendOptions, real_send
from newsletter.errors import InputError, Problem, UsageError, display_path
from newsletter.issue.load import IssueFile
from newsletter.issue.model import Issue
from newsletter.project import Project
from newsletter.yamldoc import Document


def original_readers(root: Path, slug: str, provider: ProviderName) -> frozenset[str]:
    """Lower-cased addresses the original send of ``slug`` reached with this kind of provider
    (a real one, or the outbox), read from the journal (never created here)."""
    journal = open_existing(root)
    if journal is None:
        return frozenset()
    key = send_key(slug, provider)
    with journal:
        return frozenset(
            email.lower() for send in journal.sends_for(slug) if send.key == key for email in journal.delivered(send)
        )


@dataclass(frozen=True, slots=True)
class CorrectionSend:
    project: Project
    issue_file: IssueFile
    issue: Issue
    send_slug: str
    provider: ProviderName
    list_path: Path | None = None
    yes: bool = False
    force: bool = False
    no_sync: bool = False
    languages: tuple[tuple[str, Issue], ...] = ()
    """For an issue in several languages: the correction in each, the default first (each
    reader gets it in the language the original send gave them)."""


def send_correction(c: CorrectionSend, r: Reporter, before: Callable[[Context], SendHooks]) -> None:
    """Send (or resume) the correction email (see the module docstring). ``before``: the
    quality gate and the sync, run once the send is worked out; it gives the send's hooks."""
    project, original = c.project, c.issue_file
    readers = original_readers(project.root, original.slug, c.provider)
    if not readers:
        raise UsageError(
            f"{display_path(original.path)} has no recorded send with {c.provider} in this project's "
            "journal: there are no original readers to tell (the page, feed and calendar are corrected)"
        )
    list_path = project.list_path(c.list_path)
    if not list_path.is_file():
        raise InputError(
            Problem(display_path(list_path), None, None, "", "subscriber list not found", "pass the list with --list PATH")
        )
    check_environment(c.provider)
    issue_file = IssueFile(original.path, original.slug, c.issue, Document(original.doc.file, {}))
    if c.languages:
        issue_file = dataclasses.replace(
            issue_file,
            language=c.languages[0][0],
            languages=tuple(tag for tag, _ in c.languages),
            variants=tuple((tag, issue, Document(original.doc.file, {})) for tag, issue in c.languages),
        )
    rendered = dataclasses.replace(project.render(issue_file), slug=c.send_slug)
    ctx = Context(project, issue_file, rendered, project.settings, list_path, c.provider, only=readers)
    hooks = before(ctx)
    options = SendOptions(
        issue_path=original.path, list_path=c.list_path, provider=c.provider, yes=c.yes, force=c.force, no_sync=c.no_sync
    )
    real_send(ctx, options, None, r, hooks)
