"""Resuming on this clone a SendGrid send that began on another, from its committed record.

The other clone's journal (who was sent, who not) is on its disk; what this clone has is
the send record (``sends/<slug>.json``: the send's own SendGrid category, when it began,
how far it got) and the same list. SendGrid's Email Logs list every message of the
send's category, so the readers SendGrid already processed are known by address: they
become ``accepted`` here, and the rest are sent. Nobody twice, provided the log is
complete, which is checked before anything is sent:

* the other clone may still be sending: its record (``sending``) promises that no request
  starts after ``lease_until`` unless the record is written again; the log is asked only
  ``log_delay`` after that (after ``updated`` for a send that ``stopped``);
* the log must show at least as many readers as the record counts accepted (fewer means it
  lost some: older than its 30 days, or a key without access): then nothing is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from itertools import islice

from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.plan import NewRow
from newsletter.delivery.records import Record, utc
from newsletter.errors import ProblemsFound, UsageError

CHUNK = 10_000
ELSEWHERE = "accepted on another clone (SendGrid's Email Logs show it)"


def resumable(record: Record | None, provider: str) -> bool:
    """Whether this record is a SendGrid send begun elsewhere that this clone can take over."""
    return (
        record is not None and record.state in ("sending", "stopped") and record.provider == "sendgrid" and provider == "sendgrid"
    )


def ready_at(record: Record, log_delay: float) -> float:
    """When SendGrid's Email Logs must show every request the other clone may have made."""
    last = record.lease_until if record.state == "sending" and record.lease_until else record.updated
    return max(last, record.updated) + log_delay


def adopt(
    journal: Journal,
    *,
    key: str,
    slug: str,
    record: Record,
    digest: str,
    list_path: str,
    rows: Iterator[NewRow],
    force: bool,
    log_delay: float,
    echo: Callable[[str], None],
    every: Callable[[str, float, float], set[str]],
    timing: str | None = None,
) -> SendRow:
    """Make this clone's journal entry for the send the record describes and mark accepted
    every reader the log shows; ``every(category, start, end)`` searches the log."""
    now = time.time()
    ready = ready_at(record, log_delay)
    if now < ready:
        why = (
            f"may still be sending (its record promises no request unrecorded until {utc(record.lease_until or record.updated)})"
            if record.state == "sending"
            else "stopped recently"
        )
        raise ProblemsFound(
            f"this send began on another clone (started {record.started_text}) and {why}; "
            f"SendGrid's Email Logs can be trusted to show all it did from {utc(ready)}: resume "
            "then (or on the machine that began it). Nothing was sent"
        )
    if record.email_sha256 != digest and not force:
        raise UsageError(
            "the issue's email changed since its send began on another clone "
            f"({record.counts.get('accepted', 0)} already accepted); re-run with --force to send "
            "the rest as it is now"
        )
    send = journal.create(
        key=key, slug=slug, provider="sendgrid", list_path=list_path, content_hash=digest, eligible=0, timing=timing
    )
    seq = 0
    while chunk := list(islice(rows, CHUNK)):
        for tracked in (False, True):  # the rows of one call alike (see Journal.add_pending)
            alike = [row for row in chunk if row[4] is tracked]
            journal.add_pending(send, [(seq + i + 1, *row[:4]) for i, row in enumerate(alike)], tracked=tracked)
            seq += len(alike)
    send = journal.set_loaded(send)
    shown = every(record.category, record.started - 600.0, now + 60.0)
    expected = record.counts.get("accepted", 0) + record.counts.get("marked_sent", 0)
    if len(shown) < expected:
        journal.delete_send(send)
        raise ProblemsFound(
            f"SendGrid's Email Logs show {len(shown)} reader(s) of this send where its record counts "
            f"{expected} accepted: the log is not complete (older than 30 days, or the key cannot "
            "read it), so who already has it cannot be known here. Nothing was sent; resume on the "
            "machine that began it"
        )
    n = journal.accepted_elsewhere(send, shown, ELSEWHERE)
    echo(
        f"Resuming the send begun on another clone (started {record.started_text}): SendGrid's Email Logs show "
        f"{len(shown)} reader(s) already sent; {n} of this list's {send.eligible} are accepted, "
        f"{send.eligible - n} to send"
    )
    return journal.refresh(key)
