"""Keeping a real send's record (:mod:`newsletter.delivery.records`) and holding a send to it.

:func:`guard` runs before a real send begins: the records in ``sends/`` (from this clone
or any other) say which secret made the unsubscribe links of the last send. :class:`Keeper` writes the record
as the send begins, goes and ends. :func:`settle_from_email_log` asks SendGrid's Email
Logs about recipients a stop left ``unknown``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from newsletter.delivery import records
from newsletter.delivery.hooks import EmailLog, EmailLogUnavailable
from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.outcomes import from_email_log, log_path, read, started_at
from newsletter.delivery.records import Record
from newsletter.delivery.run import ProgressSink
from newsletter.delivery.state import state_dir
from newsletter.errors import UsageError, display_path


@dataclass(frozen=True, slots=True)
class Verdict:
    """The records a send was allowed by."""

    every: list[Record]

    def of(self, slug: str) -> Record | None:
        """This issue's record, if any."""
        return next((r for r in self.every if r.slug == slug), None)


def guard(root: Path, secret: str) -> Verdict:
    """Refuse a send whose unsubscribe secret differs from the last send's (never overridden):
    every earlier email's unsubscribe link would stop working here. Whether this issue, or a
    later one, already went out (from any clone) is ``check``'s (``already-sent``,
    ``older-than-sent``), so the send's gate refuses it, and ``--force`` overrides it there."""
    every = records.all_records(root)
    sent = [r for r in every if r.delivered_any and r.state != "cancelled"]
    if sent:
        last = max(sent, key=lambda r: r.started)
        if last.secret_id != secret:
            raise UsageError(
                f"{display_path(records.path_for(root, last.slug))}: the last send used another unsubscribe secret "
                f"(id {last.secret_id}; this machine's is {secret}). Sending now would give readers unsubscribe "
                "links that the earlier emails' links do not match, and those would stop working here. "
                "Set NEWSLETTER_SECRET to the organisation's secret "
                '(docs/configuration.md, "One secret for the organisation", says how); '
                "nothing was sent"
            )
    return Verdict(every)


def new_category() -> str:
    """A send's own SendGrid category: random, so that no other send shares it."""
    return f"newsletter-send-{secrets.token_hex(6)}"


class Keeper:
    """Writes one send's record: at the start, at most every :data:`records.EVERY` seconds
    while it goes (from the progress callback), and at each end."""

    def __init__(
        self, root: Path, record: Record, journal: Journal, send: SendRow, clock: Callable[[], float] = time.time
    ) -> None:
        self.root = root
        self.record = record
        self.journal = journal
        self.send = send
        self.clock = clock
        self._last = 0.0

    @property
    def path(self) -> Path:
        return records.path_for(self.root, self.record.slug)

    def write(self, state: str | None = None, *, finished: bool = False) -> None:
        send = self.journal.refresh(self.send.key)
        self.record.counts = records.counts_from(self.journal.counts(send), send.eligible)
        if state is not None:
            self.record.state = state
        now = self.clock()
        self.record.updated = now
        self.record.finished = now if finished else None
        self.record.lease_until = now + records.LEASE if self.record.state == "sending" else None
        records.write(self.root, self.record)
        self._last = now

    def before_request(self) -> None:
        """A request is about to start: renew the record's lease first if it runs out soon."""
        lease = self.record.lease_until
        if lease is None or self.clock() > lease - records.LEASE / 2:
            self.write()

    def sink(self, inner: ProgressSink) -> ProgressSink:
        keeper = self

        class _Keeping:
            def advance(self, accepted: int, total: int) -> None:
                inner.advance(accepted, total)
                if keeper.clock() - keeper._last >= records.EVERY:
                    keeper.write()

            def note(self, text: str) -> None:
                inner.note(text)

        return _Keeping()


def settle_from_email_log(
    root: Path,
    journal: Journal,
    send: SendRow,
    category: str,
    delay: float,
    echo: Callable[[str], None],
    email_log: Callable[[], EmailLog],
) -> None:
    """Ask SendGrid's Email Logs (opened by ``email_log``) about every ``unknown`` try of a
    SendGrid send: one reader of each, in the send's own category. Found → accepted; not
    found and old enough → sent again; otherwise (no access, not in the log yet) it stays
    ``unknown`` with why."""
    unknown = journal.unknown(send)
    if not unknown:
        return
    from newsletter.delivery.headers import ascii_address

    first: dict[int, str] = {}
    for email, batch, _ in unknown:
        first.setdefault(int(batch or 0), email)
    log = read(log_path(state_dir(root), send.id))
    try:
        searcher = email_log()
    except EmailLogUnavailable as exc:
        echo(f"SendGrid's Email Logs cannot be asked ({exc}): {len(unknown)} recipient(s) stay unknown")
        return
    now = time.time()
    settled = {"accepted": 0, "pending": 0, "unknown": 0}
    for batch, email in sorted(first.items()):
        started = started_at(log, batch) or _log_written(root, send) or now
        try:
            found = searcher.processed(ascii_address(email), category, started)
        except EmailLogUnavailable as exc:
            journal.settle_unknown_batch(send, batch, "unknown", f"SendGrid's Email Logs could not be asked: {exc}")
            settled["unknown"] += 1
            continue
        state, why = from_email_log(found, started, now, delay)
        target = "pending" if state == "retry" else state
        n = journal.settle_unknown_batch(send, batch, target, why)
        settled[target] += n if target != "unknown" else 1
    parts = [
        f"{settled['accepted']} were processed by SendGrid (accepted)" if settled["accepted"] else "",
        f"{settled['pending']} never reached SendGrid and will be sent" if settled["pending"] else "",
        f"{settled['unknown']} request(s) are not in the log yet" if settled["unknown"] else "",
    ]
    echo("SendGrid's Email Logs settled the unknown recipient(s): " + ", ".join(p for p in parts if p) + ".")


def _log_written(root: Path, send: SendRow) -> float | None:
    """When the send's outcome log was last written: no try of it started later."""
    try:
        return log_path(state_dir(root), send.id).stat().st_mtime
    except OSError:
        return None
