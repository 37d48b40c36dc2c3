"""What a send takes from above delivery: the quality gate (``newsletter check``) and the
hooks into the feedback modules (SendGrid's Email Logs, a scheduled send's batch id,
``unsubscribe: sendgrid``'s link, SMTP bounces in the list). Built here, by the commands
that send, and passed down, so that delivery never imports upward."""

from __future__ import annotations

from newsletter.delivery.base import Message
from newsletter.delivery.hooks import EmailLog, EmailLogUnavailable, SendHooks
from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.progress import Reporter
from newsletter.delivery.session import Context
from newsletter.errors import ProblemsFound, display_path


def gate_errors(ctx: Context, r: Reporter) -> tuple[int, list[str]]:
    """The real send's gate: ``newsletter check``, offline, personalised as a reader of this
    list. Prints its errors; returns how many, and their rules (rehearsals run the same gate)."""
    from newsletter.checks import run_checks

    errors = [f for f in run_checks(ctx.project, ctx.issue_file, ctx.rendered, list_path=ctx.list_path) if f.severity == "error"]
    for finding in errors:
        r.warn(f"  {finding}  [{finding.rule}]")
    return len(errors), sorted({f.rule for f in errors})


def quality_gate(ctx: Context, force: bool, r: Reporter) -> None:
    """Refuse to send an issue that is not ready.

    The build already ran (``open_issue`` renders, and refuses on any error). Then
    ``newsletter check`` runs (:func:`gate_errors`): its errors stop the send unless
    ``--force`` (which never skips a build error).
    """
    n, rules = gate_errors(ctx, r)
    if not n:
        return
    if force:
        r.warn(f"Sending despite {n} check error(s) (--force): {', '.join(rules)}")
        return
    raise ProblemsFound(
        f"{n} check error(s) in {display_path(ctx.issue_file.path)}: nothing was sent. "
        "Fix them (newsletter check shows them all) or send anyway with --force"
    )


class _EmailLogs:
    """SendGrid's Email Logs (:class:`newsletter.feedback.emaillogs.Searcher`) as a send asks them."""

    def __init__(self) -> None:
        from newsletter.feedback.account import SendGridError
        from newsletter.feedback.emaillogs import Searcher

        self._error = SendGridError
        try:
            self._searcher = Searcher()
        except SendGridError as exc:
            raise EmailLogUnavailable(exc.message) from None

    def processed(self, email: str, category: str, since: float) -> bool:
        try:
            return self._searcher.find(email, category, since).processed
        except self._error as exc:
            raise EmailLogUnavailable(exc.message) from None

    def every(self, category: str, start: float, end: float) -> set[str]:
        try:
            return self._searcher.every(category, start, end)
        except self._error as exc:
            raise EmailLogUnavailable(exc.message) from None


def _email_logs() -> EmailLog:
    return _EmailLogs()


def send_hooks(ctx: Context) -> SendHooks:
    """The hooks of a real send of ``ctx``."""
    settings, provider = ctx.settings, ctx.provider

    def dress(message: Message, key: str) -> Message:
        # a scheduled send carries a batch id, so it can be cancelled or paused; with
        # `unsubscribe: sendgrid` the visible link is SendGrid's group unsubscribe link
        from newsletter.feedback.managed import sendgrid_link
        from newsletter.feedback.schedule import batch_for_send

        return sendgrid_link(
            batch_for_send(ctx.root, message, key, provider, timeout=settings.delivery.sendgrid.timeout), settings, provider
        )

    def bounce_refused(journal: Journal, send: SendRow) -> str:
        from newsletter.feedback.smtp_bounces import bounce_refused_in_list

        return bounce_refused_in_list(journal, send, ctx.list_path)

    def when(send_at: int) -> str:
        from newsletter.feedback.schedule import in_words

        return in_words(send_at, settings.timezone)

    return SendHooks(email_log=_email_logs, dress=dress, bounce_refused=bounce_refused, when=when)
