"""What a send tells the editor, and the :class:`Reporter` it tells it through.

Delivery never prints or prompts itself: the command that runs a send passes a reporter
(the command line's ``Terminal``) and the functions
here put the audience, the unknown recipients and the final summary into its lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from newsletter.delivery.localtime import LocalPlan
from newsletter.delivery.run import ProgressSink, RunResult

SHOW_UNKNOWN = 20
"""How many unknown addresses are listed on screen (``newsletter report`` lists all)."""


class Reporter(Protocol):
    """Where a send's words go and where its questions are asked."""

    def say(self, text: str = "") -> None:
        """A line of what happened (standard output)."""
        ...

    def warn(self, text: str) -> None:
        """A line the editor must not miss: a problem, a warning (standard error)."""
        ...

    def ask(self, question: str) -> bool | None:
        """The editor's yes or no; None when there is nobody to ask (no terminal)."""
        ...

    def progress(self, total: int, done: int) -> AbstractContextManager[ProgressSink]:
        """Where the send loop reports its progress while it runs."""
        ...


def print_audience(r: Reporter, summary: Any, list_name: str) -> None:
    """The audience figures of ``newsletter.audience.summarize``."""
    r.say(f"Audience from {list_name}:")
    r.say(f"  eligible    {summary.eligible}")
    suppressed = summary.unsubscribed + summary.bounced + summary.complained
    r.say(
        f"  suppressed  {suppressed} (unsubscribed {summary.unsubscribed}, bounced {summary.bounced},"
        f" complained {summary.complained})"
    )
    r.say(f"  invalid     {summary.invalid}")
    r.say(f"  duplicates  {summary.duplicates}")
    if summary.excluded_by_tags:
        r.say(f"  left out by the issue's audience tags  {summary.excluded_by_tags}")
    print_held_back(r, summary)


def print_held_back(r: Reporter, summary: Any) -> None:
    """Subscribers a send leaves out for want of evidence of consent (``consent: required``)."""
    if summary.unproven:
        first = summary.unproven_rows[0]
        r.say(
            f"  held back   {summary.unproven}: no evidence of consent (consent: required), e.g. "
            f"{first.file}:{first.line}: {first.message.split(';')[0]}; `newsletter subscribers check` lists them all"
        )


def print_unknown(r: Reporter, rows: Sequence[tuple[str, int, str]]) -> None:
    r.warn(f"{len(rows)} recipient(s) may or may not have received this issue (state: unknown):")
    for email, batch, reason in rows[:SHOW_UNKNOWN]:
        r.warn(f"  {email}  (batch {batch}: {reason})")
    if len(rows) > SHOW_UNKNOWN:
        r.warn(f"  … and {len(rows) - SHOW_UNKNOWN} more (newsletter report lists them all)")


def print_counts(r: Reporter, counts: dict[str, int], eligible: int) -> None:
    """Where every recipient of a send stands (``marked sent`` apart from ``accepted``)."""
    marked = f"  marked sent {counts['marked_sent']}" if counts.get("marked_sent") else ""
    # the list is read as it is sent: rows not read yet are pending too, so the figures add up
    unread = max(
        0,
        eligible
        - sum(
            counts.get(state, 0)
            for state in ("accepted", "marked_sent", "failed", "unknown", "suppressed", "pending", "in_flight", "cancelled")
        ),
    )
    extra = "".join(f"  {name.replace('_', ' ')} {counts[name]}" for name in ("in_flight", "cancelled") if counts.get(name))
    r.say(
        f"  accepted {counts['accepted']}{marked}  failed {counts['failed']}  unknown {counts['unknown']}"
        f"  suppressed {counts['suppressed']}  pending {counts['pending'] + unread}{extra}  of {eligible} eligible"
    )


def print_already_sent(r: Reporter, send_row: Any, counts: dict[str, int], issue: str, outbox: str | None, timezone: str) -> None:
    """The result of a finished send, shown again when the same command runs once more
    (nothing is sent): when it finished, its figures, where an outbox send's files are."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    finished = dt.datetime.fromtimestamp(send_row.finished or send_row.created, ZoneInfo(timezone))
    r.say(
        f"This issue was already sent with {send_row.provider}, finished {finished:%Y-%m-%d %H:%M}"
        f" ({timezone}); nothing more to do."
    )
    print_counts(r, counts, send_row.eligible)
    if outbox is not None:
        r.say(f"  No email left this machine: the messages are in {outbox}/ (set SENDGRID_API_KEY or SMTP_URL to send for real)")
    r.say(f"  `newsletter status {issue}` shows the send; `newsletter report {issue}` lists anyone not accepted")


def print_summary(
    r: Reporter,
    counts: dict[str, int],
    eligible: int,
    result: RunResult,
    provider: str,
    *,
    delivers: bool = True,
    when: str | None = None,
) -> None:
    """``delivers``: False for the outbox, which only writes files; ``when``: a scheduled
    send's time, in words."""
    rate = result.accepted / result.seconds if result.seconds > 0 else 0.0
    figures = f"({result.seconds:.1f} s, {rate:,.0f} recipients/s, {result.requests} requests)"
    if not delivers:
        r.say(f"Written to the {provider}: {result.accepted} message file(s) in this run {figures}")
    elif when is not None:
        r.say(f"Scheduled with {provider} for {when}: {result.accepted} accepted in this run {figures}")
    else:
        r.say(f"Sent with {provider}: {result.accepted} accepted in this run {figures}")
    print_counts(r, counts, eligible)
    for note in result.notes[:10]:
        r.warn(f"  ! {note}")


def print_local_plan(r: Reporter, plan: LocalPlan, list_name: str) -> None:
    """A local-time send's plan: the rule, how many zones and send times, and each reader
    whose zone is not one (by line of the list; they get the default zone, never dropped)."""
    import datetime as dt

    def utc(at: int) -> str:
        return f"{dt.datetime.fromtimestamp(at, dt.timezone.utc):%a %d %b %H:%M} UTC"

    rule = plan.rule
    readers = sum(plan.times.values())
    r.say(f"Local time: {rule.words}")
    span = utc(plan.first) if plan.first == plan.last else f"from {utc(plan.first)} to {utc(plan.last)}"
    r.say(f"  {readers} reader(s) in {len(plan.zones)} zone(s), {len(plan.times)} send time(s) {span}")
    if plan.defaulted or plan.unknown:
        r.say(
            f"  {plan.defaulted + len(plan.unknown)} reader(s) get the newsletter's zone, {rule.default_zone}: "
            f"{plan.defaulted} without a zone, {len(plan.unknown)} with one that is not a time zone"
        )
    for line, value in plan.unknown[:SHOW_UNKNOWN]:
        r.warn(
            f"warning: {list_name}:{line}: timezone {value!r} is not a time zone (e.g. Europe/Paris); "
            f"this reader is sent at {rule.at:%H:%M} {rule.default_zone}"
        )
    if len(plan.unknown) > SHOW_UNKNOWN:
        r.warn(f"warning: … and {len(plan.unknown) - SHOW_UNKNOWN} more readers whose zone is not a time zone")
