"""``newsletter send``: dry run, test send, sandbox validation, and the real, resumable send."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from newsletter.audience import Entry, eligible, entries, summarize
from newsletter.commands import send_trials as trials
from newsletter.delivery import progress as out
from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.plan import (
    NewRow,
    SubscriberLike,
    content_hash,
    make_message,
    new_rows,
    recipient_maker,
    used_fields,
)
from newsletter.delivery.providers import ProviderName, default_provider, make_provider, send_key
from newsletter.delivery.run import RunResult, deliver
from newsletter.delivery.state import load_secret
from newsletter.errors import InputError, Problem, ProblemsFound, UsageError, display_path
from newsletter.issue.load import IssueFile
from newsletter.project import Project, open_issue
from newsletter.render.pipeline import Rendered
from newsletter.settings import Settings

MAX_SCHEDULE = dt.timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class SendOptions:
    issue_path: Path
    list_path: Path | None = None
    provider: ProviderName | None = None
    dry_run: bool = False
    test_to: tuple[str, ...] = ()
    as_email: str | None = None
    validate: bool = False
    yes: bool = False
    send_at: str | None = None
    resend_unknown: bool = False
    mark_unknown_sent: bool = False
    force: bool = False
    rate: float | None = None
    no_sync: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    project: Project
    issue_file: IssueFile
    rendered: Rendered
    settings: Settings
    list_path: Path
    provider: ProviderName

    @property
    def root(self) -> Path:
        return self.project.root

    def subscribers(self) -> Iterator[SubscriberLike]:
        return eligible(self.list_path, self.issue_file.issue.audience)

    def entries(self) -> Iterator[Entry]:
        """The subscribers as a send reads them (the same people, lighter)."""
        return entries(self.list_path, self.issue_file.issue.audience)


def send(o: SendOptions, confirm: Callable[[str], bool]) -> None:
    """Run the mode the options ask for; raise a NewsletterError for anything not clean."""
    _check_flags(o)
    project, issue_file, rendered = open_issue(o.issue_path)
    settings = project.settings
    if o.rate is not None:
        delivery = settings.delivery.model_copy(update={"rate": o.rate})
        settings = settings.model_copy(update={"delivery": delivery})
    list_path = o.list_path if o.list_path is not None else project.root / "subscribers.csv"
    if not list_path.is_file():
        raise InputError(Problem(display_path(list_path), None, None, "", "subscriber list not found",
                                 "pass the list with --list PATH"))
    provider = o.provider or default_provider()
    ctx = Context(project, issue_file, rendered, settings, list_path, provider)
    send_at = _send_at(o.send_at, settings.timezone) if o.send_at else None
    if send_at is not None and provider != "sendgrid":
        raise UsageError(f"--send-at needs the sendgrid provider ({provider} cannot schedule a send)")
    if o.dry_run:
        trials.dry_run(ctx, send_at)
    elif o.test_to:
        trials.test_send(ctx, o.test_to, o.as_email)
    elif o.validate:
        _quality_gate(ctx, o.force)
        trials.validate(ctx, send_at)
    else:
        _quality_gate(ctx, o.force)
        # -- issue 12: a SendGrid send syncs the list with SendGrid first (newsletter/feedback/presend.py)
        from newsletter.feedback.presend import sync_before_send

        sync_before_send(ctx.list_path, ctx.root, ctx.settings, provider, skip=o.no_sync)
        # -- end issue 12
        _real_send(ctx, o, send_at, confirm)


def _check_flags(o: SendOptions) -> None:
    modes = [name for name, on in (("--dry-run", o.dry_run), ("--test-to", bool(o.test_to)),
                                   ("--validate", o.validate)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined; choose one")
    if o.resend_unknown and o.mark_unknown_sent:
        raise UsageError("choose one of --resend-unknown and --mark-unknown-sent")
    if o.validate and o.provider not in (None, "sendgrid"):
        raise UsageError("--validate uses SendGrid's sandbox mode; it needs the sendgrid provider")
    if o.as_email and not o.test_to:
        raise UsageError("--as only applies to a test send (--test-to ADDR)")


def _send_at(text: str, timezone: str) -> int:
    """``--send-at`` as a Unix time: ISO date-time (local to the settings' zone unless
    it names one) or Unix seconds; in the future and at most 72 hours ahead."""
    try:
        when = (
            dt.datetime.fromtimestamp(int(text), dt.timezone.utc)
            if text.strip().isdigit()
            else dt.datetime.fromisoformat(text.strip())
        )
    except (ValueError, OverflowError):
        raise UsageError(f"--send-at '{text}' is not a date and time (e.g. 2024-06-14T09:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(timezone))
    now = dt.datetime.now(dt.timezone.utc)
    if when <= now:
        raise UsageError(f"--send-at {when.isoformat()} is in the past")
    if when - now > MAX_SCHEDULE:
        raise UsageError(f"--send-at {when.isoformat()} is more than 72 hours ahead (SendGrid's limit)")
    return int(when.timestamp())


def _quality_gate(ctx: Context, force: bool) -> None:
    """Refuse to send an issue that is not ready.

    The build already ran (``open_issue`` renders, and refuses on any error). Then
    ``newsletter check`` runs, offline, personalised as a reader of this list: its
    errors stop the send unless ``--force`` (which never skips a build error).
    """
    from newsletter.checks import run_checks

    errors = [f for f in run_checks(ctx.project, ctx.issue_file, ctx.rendered, list_path=ctx.list_path)
              if f.severity == "error"]
    if not errors:
        return
    for finding in errors:
        out.echo(f"  {finding}  [{finding.rule}]", err=True)
    n = len(errors)
    if force:
        out.echo(f"Sending despite {n} check error(s) (--force)", err=True)
        return
    raise ProblemsFound(f"{n} check error(s) in {display_path(ctx.issue_file.path)}: nothing was sent. "
                        "Fix them (newsletter check shows them all) or send anyway with --force")


# -- the real send ---------------------------------------------------------------------------


def _real_send(ctx: Context, o: SendOptions, send_at: int | None, confirm: Callable[[str], bool]) -> None:
    slug = ctx.rendered.slug
    key = send_key(slug, ctx.provider)
    draft = make_message(ctx.rendered, ctx.settings, send_id=key, send_at=send_at)
    digest = content_hash(draft)
    list_name = display_path(ctx.list_path)
    journal = Journal.open(ctx.root)
    try:
        journal.lock()
        existing = journal.find(key)
        if existing is None:
            send_row = _begin(ctx, o, journal, key, digest, confirm)
        else:
            send_row = _resume(ctx, o, journal, existing, digest, list_name, confirm)
        if send_row is None:
            return
        message = dataclasses.replace(draft, send_id=f"{slug}-{send_row.id}")
        # -- issue 12: a scheduled send carries a batch id, so it can be cancelled or paused;
        # with `unsubscribe: sendgrid` the visible link is SendGrid's group unsubscribe link
        from newsletter.feedback.managed import sendgrid_link
        from newsletter.feedback.schedule import batch_for_send

        message = sendgrid_link(batch_for_send(ctx.root, message, key, ctx.provider), ctx.settings, ctx.provider)
        # -- end issue 12
        # SendGrid's request process starts here and gets ready while the first batch is read
        provider = make_provider(ctx.provider, ctx.settings, ctx.root, folder=slug, background=True)
        done = journal.counts(send_row)["accepted"]
        source = None if send_row.loaded else _new_rows(ctx)
        try:
            with out.progress_bar(send_row.eligible, done) as bar:
                result = deliver(journal, send_row, message, provider,
                                 recipient_maker(ctx.settings, load_secret(ctx.root)),
                                 ctx.settings.delivery, source=source, progress=bar)
        finally:
            provider.close()
        _finish(journal, journal.refresh(key), result, ctx)
    finally:
        journal.close()


def _new_rows(ctx: Context) -> Iterator[NewRow]:
    """The eligible list as the journal and the providers need it, read as it is sent.

    Nothing with CR, LF or NUL in a header value may be sent. The list module gives
    names on one line and valid addresses; a NUL byte could still reach a name, so a
    list holding one is checked in full before the first request.
    """
    fields = used_fields(ctx.rendered)
    if _has_nul(ctx.list_path):
        for _ in new_rows(ctx.entries(), ctx.settings, fields, ctx.list_path):
            pass
    return new_rows(ctx.entries(), ctx.settings, fields, ctx.list_path)


def _has_nul(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            if b"\0" in chunk:
                return True
    return False


def _begin(ctx: Context, o: SendOptions, journal: Journal, key: str, digest: str,
           confirm: Callable[[str], bool]) -> SendRow | None:
    count = summarize(ctx.list_path, ctx.issue_file.issue.audience).eligible
    if not o.yes:
        _ask(confirm, f"Send “{ctx.rendered.subject}” to {count} recipient(s) with {ctx.provider}?", count)
    send_row = journal.create(key=key, slug=ctx.rendered.slug, provider=ctx.provider,
                              list_path=str(ctx.list_path.resolve()), content_hash=digest, eligible=count)
    out.echo(f"Sending “{ctx.rendered.subject}” to {count} recipient(s) with {ctx.provider}")
    return send_row


def _resume(ctx: Context, o: SendOptions, journal: Journal, send_row: SendRow, digest: str,
            list_name: str, confirm: Callable[[str], bool]) -> SendRow | None:
    recovered = journal.recover(send_row)
    if recovered:
        out.echo(f"The last run stopped with {recovered} recipient(s) in flight: they are now 'unknown'.",
                 err=True)
    counts = journal.counts(send_row)
    if send_row.finished is not None and not counts["pending"] and not counts["unknown"]:
        out.echo(f"This issue was already sent ({counts['accepted']} accepted); nothing to do.")
        return None
    if send_row.content_hash != digest or send_row.list_path != str(ctx.list_path.resolve()):
        changed = "the issue" if send_row.content_hash != digest else f"the list (was {send_row.list_path})"
        if not o.force:
            raise UsageError(f"{changed} changed since this send began ({counts['accepted']} already "
                             "accepted); re-run with --force to send the rest as it is now")
        journal.set_content(send_row, digest, str(ctx.list_path.resolve()))
    suppressed, restored, new = journal.reconcile(send_row, (e.email for e in ctx.entries()))
    if suppressed:
        out.echo(f"{suppressed} address(es) are no longer eligible in {list_name}: suppressed")
    if restored:
        out.echo(f"{restored} suppressed address(es) are eligible again")
    if new and send_row.loaded:
        out.echo(f"{new} address(es) joined {list_name} after this send began; they are not part of it")
    unknown = journal.unknown(send_row) if counts["unknown"] else []
    if unknown:
        if not (o.resend_unknown or o.mark_unknown_sent):
            out.print_unknown(unknown)
            raise ProblemsFound(
                f"{len(unknown)} recipient(s) are 'unknown': nothing more is sent until you decide. "
                "Re-run with --mark-unknown-sent (count them as sent) or --resend-unknown "
                "(send again: some may get it twice)"
            )
        n = journal.resolve_unknown(send_row, resend=o.resend_unknown)
        out.echo(f"{n} unknown recipient(s) {'will be sent again' if o.resend_unknown else 'marked as sent'}")
    pending = journal.counts(send_row)["pending"] + (0 if send_row.loaded else new)
    if pending and not o.yes:
        _ask(confirm, f"Resume sending “{ctx.rendered.subject}” to the {pending} recipient(s) "
                      f"not sent yet, with {ctx.provider}?", pending)
    out.echo(f"Resuming: {pending} recipient(s) to send")
    return send_row


def _ask(confirm: Callable[[str], bool], question: str, count: int) -> None:
    if not sys.stdin.isatty():
        raise UsageError(f"{count} recipient(s) would get this: add --yes to send without being asked")
    if not confirm(question):
        raise ProblemsFound("not sent: you said no")


def _finish(journal: Journal, send_row: SendRow, result: RunResult, ctx: Context) -> None:
    counts = journal.counts(send_row)
    finished = bool(send_row.loaded) and (
        counts["accepted"] + counts["failed"] + counts["suppressed"] == send_row.eligible)
    journal.set_finished(send_row, finished)
    out.print_summary(counts, send_row.eligible, result, ctx.provider)
    issue = display_path(ctx.issue_file.path)
    if result.outcome in ("stopped", "paused"):
        verb = "stopped" if result.outcome == "stopped" else "paused"
        raise ProblemsFound(f"send {verb}: {result.message}. Nothing is lost: fix the cause and run "
                            f"`newsletter send {issue} --yes` again to resume")
    unknown = journal.unknown(send_row) if counts["unknown"] else []
    if unknown:
        out.print_unknown(unknown)
        raise ProblemsFound(f"{len(unknown)} recipient(s) are 'unknown': resolve them with "
                            "--mark-unknown-sent or --resend-unknown")
    if counts["failed"]:
        raise ProblemsFound(f"{counts['failed']} recipient(s) failed; `newsletter report {issue}` lists them")
    if not finished:
        raise ProblemsFound(f"{counts['pending']} recipient(s) still to send; run the command again to resume")
    out.echo("Finished: every eligible recipient is accounted for.")
