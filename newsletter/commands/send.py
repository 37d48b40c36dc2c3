"""``newsletter send``: dry run, test send, sandbox validation, and the real, resumable send.

This module reads the options, chooses the mode and runs the gates; it builds what the
send needs from above delivery (:mod:`newsletter.commands.send_hooks`) and where it speaks
and asks (:class:`~newsletter.commands.terminal.Terminal`). The real send's policy (begin,
resume, settle, finish) lives in :mod:`newsletter.delivery.session`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from newsletter.commands import send_trials as trials
from newsletter.commands.send_hooks import quality_gate, send_hooks
from newsletter.commands.terminal import Terminal
from newsletter.delivery.features import unsupported
from newsletter.delivery.hooks import SendHooks
from newsletter.delivery.localtime import LocalRule
from newsletter.delivery.progress import Reporter
from newsletter.delivery.providers import check_environment, default_provider, traits
from newsletter.delivery.session import Context, SendOptions, real_send
from newsletter.errors import InputError, Problem, UsageError, display_path
from newsletter.project import open_issue

MAX_SCHEDULE = dt.timedelta(hours=72)
__all__ = ["MAX_SCHEDULE", "SendOptions", "send"]


def send(o: SendOptions, confirm: Callable[[str], bool]) -> None:
    """Run the mode the options ask for; raise a NewsletterError for anything not clean."""
    _check_flags(o)
    project, issue_file, rendered = open_issue(o.issue_path)
    settings = project.settings
    if o.rate is not None:
        delivery = settings.delivery.model_copy(update={"rate": o.rate})
        settings = settings.model_copy(update={"delivery": delivery})
    list_path = project.list_path(o.list_path)
    if not list_path.is_file():
        raise InputError(
            Problem(display_path(list_path), None, None, "", "subscriber list not found", "pass the list with --list PATH")
        )
    r = Terminal(confirm)
    provider = o.provider or default_provider()
    if not o.dry_run:
        check_environment(provider)
    ctx = Context(project, issue_file, rendered, settings, list_path, provider)
    local_time = settings.delivery.local_time if o.local is None else o.local
    if local_time and (o.dry_run or o.test_to or o.validate) and o.send_at:
        raise UsageError(
            "--at in each reader's zone (--local, or the local_time setting) is for a real send; "
            "add --no-local to rehearse the send at one time"
        )
    past = o.past or settings.delivery.local_time_past
    local = LocalRule.parse(o.send_at, past, settings.timezone) if local_time and o.send_at else None
    send_at = _send_at(o.send_at, settings.timezone) if o.send_at and local is None else None
    if (send_at is not None or local is not None) and not traits(provider).can_schedule:
        raise UsageError(f"--send-at needs the sendgrid provider ({provider} cannot schedule a send)")
    warn_unsupported(ctx, r)
    if o.dry_run:
        trials.dry_run(ctx, send_at, r)
    elif o.test_to:
        trials.test_send(ctx, o.test_to, o.as_email, r)
    elif o.validate:
        quality_gate(ctx, o.force, r)
        trials.validate(ctx, send_at, r)
    else:
        from newsletter.approval.policy import gate

        if o.require_approval or traits(provider).delivers:  # the outbox is a rehearsal
            gate(project, issue_file, rendered, required=o.require_approval)  # --force never overrides it
        hooks = prepare_send(ctx, r, force=o.force, no_sync=o.no_sync)
        _domain_gate(ctx)
        real_send(ctx, o, send_at, r, hooks, local)


def warn_unsupported(ctx: Context, r: Reporter) -> None:
    """Say, before anything is sent, what the settings ask for that the provider cannot carry
    (:mod:`newsletter.delivery.features`): never dropped without a word."""
    for found in unsupported(ctx.settings, ctx.provider, traits(ctx.provider)):
        r.warn(f"warning: {found}")


def prepare_send(ctx: Context, r: Reporter, *, force: bool, no_sync: bool) -> SendHooks:
    """What every real send (an issue's, a correction's) does before its session: the quality
    gate, then (a SendGrid send) the sync of the list with SendGrid's suppressions; returns
    the session's hooks."""
    quality_gate(ctx, force, r)
    from newsletter.feedback.presend import sync_before_send

    sync_before_send(ctx.list_path, ctx.root, ctx.settings, ctx.provider, skip=no_sync)
    return send_hooks(ctx)


def _domain_gate(ctx: Context) -> None:
    """A From address mailbox providers reject stops the send here (newsletter/deliverability/doctor.py)."""
    import click

    from newsletter.deliverability.doctor import before_send

    for line in before_send(ctx.root, ctx.settings, ctx.provider):
        click.echo(f"warning: {line}", err=True)


def _check_flags(o: SendOptions) -> None:
    modes = [name for name, on in (("--dry-run", o.dry_run), ("--test-to", bool(o.test_to)), ("--validate", o.validate)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined; choose one")
    if o.resend_unknown and o.mark_unknown_sent:
        raise UsageError("choose one of --resend-unknown and --mark-unknown-sent")
    if o.validate and o.provider is not None and not traits(o.provider).has_sandbox:
        raise UsageError("--validate uses SendGrid's sandbox mode; it needs the sendgrid provider")
    if o.push_record and (o.dry_run or o.test_to or o.validate):
        raise UsageError("--push-record is for a real send")
    if o.as_email and not o.test_to:
        raise UsageError("--as only applies to a test send (--test-to ADDR)")
    if o.local and not o.send_at:
        raise UsageError("--local needs --at HH:MM (the hour in each reader's zone)")
    if o.past is not None and not o.local and not o.send_at:
        raise UsageError("--past goes with --at HH:MM --local")


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
