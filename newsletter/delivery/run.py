"""The send loop: batches read from the list (then the journal), retries by the rules,
pacing, error threshold.

Rules:

* 429 waits for ``Retry-After`` or ``X-RateLimit-Reset`` and tries again.
* 5xx answers and connection errors before the request was sent are retried with
  capped exponential backoff and jitter; while waiting the batch is ``pending`` again.
* No answer after the request was sent makes the batch ``unknown`` (never resent
  automatically).
* A first Ctrl-C lets the request on its way finish and be recorded, then ends the
  run (``interrupted``); a second one stops at once (the request's own process has
  recorded what became of it in the outcome log; the next run settles it).
* A refusal (400, 401, 403, 413, a refused SMTP login) stops the run with the
  provider's own message; the batch goes back to ``pending``.
* Too many failed requests or refused recipients pause the run (resumable).
* An optional rate cap (messages per second) holds from the first message on.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice, takewhile
from typing import Any, Literal, Protocol

import orjson

from newsletter.delivery.base import (
    Attempt,
    BackgroundProvider,
    Batch,
    BatchResult,
    Message,
    Provider,
    Recipient,
    Rejected,
    RetryLater,
    RowTuple,
    Started,
    Unknown,
)
from newsletter.delivery.journal import Journal, Row, SendRow
from newsletter.delivery.outcomes import OutcomeLog
from newsletter.delivery.plan import NewRow
from newsletter.nogc import no_cycle_collection
from newsletter.settings import Delivery

LONGEST_WAIT = 900.0
"""A provider asking us to wait longer than this (seconds) pauses the run instead."""

Outcome = Literal["done", "paused", "stopped", "interrupted"]


class ProgressSink(Protocol):
    def advance(self, accepted: int, total: int) -> None: ...

    def note(self, text: str) -> None: ...


class _Silent:
    def advance(self, accepted: int, total: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass


@dataclass(slots=True)
class RunResult:
    outcome: Outcome
    message: str = ""
    accepted: int = 0
    """Accepted in this run."""
    failed_requests: int = 0
    requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class Pace:
    """Holds the average rate at or under ``rate`` messages per second."""

    def __init__(self, rate: float | None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.sleep = sleep
        self.start: float | None = None
        self.sent = 0

    def wait(self, count: int) -> None:
        if not self.rate:
            return
        now = time.monotonic()
        if self.start is None:
            self.start = now
        else:
            due = self.start + self.sent / self.rate
            if due > now:
                self.sleep(due - now)
        self.sent += count


def backoff(attempt: int, base: float, cap: float) -> float:
    """Capped exponential backoff with full jitter over the upper half."""
    ceiling = min(cap, base * (2**attempt))
    return float(ceiling * random.uniform(0.5, 1.0))


def batch_size(settings: Delivery, provider: Provider) -> int:
    size = min(settings.batch_size, provider.traits.max_batch)
    if settings.rate:
        size = min(size, max(1, int(settings.rate)))
    return size


def deliver(
    journal: Journal,
    send: SendRow,
    message: Message,
    provider: Provider,
    recipient: Callable[[RowTuple], Recipient],
    settings: Delivery,
    *,
    source: Iterator[NewRow] | None = None,
    progress: ProgressSink | None = None,
    sleep: Callable[[float], None] = time.sleep,
    split_tracked: bool = False,
    log: OutcomeLog | None = None,
    languages: Mapping[str, Message] | None = None,
    group: Callable[[NewRow], object] | None = None,
) -> RunResult:
    """Send the recipients of ``send`` that are due; returns how the run ended.

    First, while the send is not fully loaded, new recipients from ``source`` (the
    eligible list, read as it is sent; those already in the journal are skipped),
    then every ``pending`` recipient in the journal. ``split_tracked``: readers who agreed
    to tracking and readers who did not are never in one request. ``log``: the send's
    outcome log, where the provider writes what becomes of each request or message.
    ``languages``: an issue in several languages, its message in each; every row's merge
    values name its language (:mod:`newsletter.delivery.languages`) and a request holds
    readers of one.
    ``group``: a new batch ends where this value of ``source``'s rows changes (local-time
    delivery: readers of one send time in a request, ``source`` sorted by it).
    """
    sink = progress or _Silent()
    run = SendLoop(journal, send, message, provider, settings, sink, sleep, log)
    run.languages = languages
    size = batch_size(settings, provider)
    with no_cycle_collection(), _first_interrupt_waits(run.stopping, sink):
        if source is not None and not send.loaded:
            if not run.new_batches(
                _NewBatches(journal, send, source, size, recipient, split=split_tracked, by_language=bool(languages), group=group)
            ):
                return run.end()
            run.send = journal.set_loaded(run.send)
        run.pending_batches(recipient, size)
    return run.end()


@contextmanager
def _first_interrupt_waits(stopping: threading.Event, sink: ProgressSink) -> Iterator[None]:
    """A first Ctrl-C sets ``stopping`` (the loop ends after the request on its way); a
    second raises :class:`KeyboardInterrupt` at once. Outside the main thread, nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if stopping.is_set():
            raise KeyboardInterrupt
        stopping.set()
        sink.note("Stopping once the request on its way is answered and recorded (Ctrl-C again: stop at once)")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _NewBatches:
    """Reads the next batch of new recipients from the list: their journal rows.

    With ``split`` (``tracking: consented``) readers who agreed to tracking and readers
    who did not are gathered apart, and a batch is made of one kind only, its rows
    numbered one after the other (a batch is a run of consecutive journal rows): about as
    few requests as without the split, each holding readers of one kind.
    """

    def __init__(
        self,
        journal: Journal,
        send: SendRow,
        source: Iterator[NewRow],
        size: int,
        make: Callable[[RowTuple], Recipient],
        *,
        split: bool = False,
        by_language: bool = False,
        group: Callable[[NewRow], object] | None = None,
    ) -> None:
        self.skip = journal.present(send)
        self.seq = journal.next_seq(send)
        self.source, self.size, self.make = source, size, make
        self.split = split
        self.group = group
        self._held: NewRow | None = None
        """With ``group``: the first row of the next batch, read to find where this one ends."""
        self.by_language = by_language
        self._by_kind: dict[tuple[bool, str, int], list[NewRow]] = {}

    def __call__(self) -> Batch:
        seq, skip = self.seq, self.skip
        source = (r for r in self.source if r[0].lower() not in skip) if skip else self.source
        if self.by_language or self.split:
            return self._one_kind(source)
        if self.group is not None:
            return self._one_group(source)
        rows: list[RowTuple] = [
            (seq + i, email, first, last, vals) for i, (email, first, last, vals, _) in enumerate(islice(source, self.size))
        ]
        self.seq = seq + len(rows)
        return Batch(rows, self.make)

    def _one_group(self, source: Iterator[NewRow]) -> Batch:
        """The next batch of rows of one ``group`` value (at most ``size``)."""
        assert self.group is not None
        key = self.group
        taken: list[NewRow] = [] if self._held is None else [self._held]
        self._held = None
        for row in source:
            if taken and (len(taken) == self.size or key(row) != key(taken[0])):
                self._held = row
                break
            taken.append(row)
        seq = self.seq
        rows: list[RowTuple] = [(seq + i, email, first, last, vals) for i, (email, first, last, vals, _) in enumerate(taken)]
        self.seq = seq + len(rows)
        return Batch(rows, self.make)

    def _one_kind(self, source: Iterator[NewRow]) -> Batch:
        """The next batch of readers of one kind: with ``split``, of one tracking choice; for an
        issue in several languages, of one language; with ``group``, of one send time. The
        first kind to fill a batch, or at the end of the list whatever is left, in a fixed
        order (untracked before tracked)."""
        gathered = self._by_kind
        size, split, by_language, group = self.size, self.split, self.by_language, self.group
        kind: tuple[bool, str, int] | None = None
        for row in source:
            at = group(row) if group is not None else 0
            key = (
                row[4] if split else False,
                row_language(row[3]) if by_language else "",
                at if isinstance(at, int) else 0,
            )
            found = gathered.setdefault(key, [])
            found.append(row)
            if len(found) == size:
                kind = key
                break
        if kind is None:
            left = sorted(k for k, rows in gathered.items() if rows)
            if not left:
                return Batch([], self.make)
            kind = left[0]
        taken, gathered[kind] = gathered[kind], []
        seq = self.seq
        rows: list[RowTuple] = [(seq + i, email, first, last, vals) for i, (email, first, last, vals, _) in enumerate(taken)]
        self.seq = seq + len(rows)
        return Batch(rows, self.make, kind[0] and split)


def row_language(vals: str | None) -> str:
    """The language a journal row's merge values name (``""`` when none)."""
    if vals is None:
        return ""
    found = orjson.loads(vals).get("language", "")
    return found if isinstance(found, str) else ""


def _one_language(rows: Sequence[Row]) -> list[Row]:
    """The rows up to the first of another language than the first's (pending rows of a
    language were written as consecutive batches, so this is the run of one request)."""
    language = row_language(rows[0].vals)
    return list(takewhile(lambda row: row_language(row.vals) == language, rows))


class SendLoop:
    """One run of the send loop: its counters, the batches it sends and the checks between them.

    A provider that sends in the background (:class:`~newsletter.delivery.base.BackgroundProvider`,
    SendGrid) has each batch's request built once (:meth:`_prepare`) and started while the
    next batch is read; any other is asked to :meth:`~newsletter.delivery.base.Provider.send`
    each batch.
    """

    def __init__(
        self,
        journal: Journal,
        send: SendRow,
        message: Message,
        provider: Provider,
        settings: Delivery,
        sink: ProgressSink,
        sleep: Callable[[float], None],
        log: OutcomeLog | None = None,
    ) -> None:
        self.journal, self.send, self.message, self.provider = journal, send, message, provider
        self.background: BackgroundProvider[Any] | None = provider if isinstance(provider, BackgroundProvider) else None
        self.settings, self.sink, self.sleep, self.log = settings, sink, sleep, log
        self.pace = Pace(settings.rate, sleep)
        self.result = RunResult("done")
        self.started = time.monotonic()
        self.tried = self.refused = 0
        self.done = journal.counts(send)["accepted"]
        self.stopping = threading.Event()
        """Set by a first Ctrl-C: no request is started after it."""
        self.languages: Mapping[str, Message] | None = None
        """An issue in several languages: its message in each (see :func:`deliver`)."""

    def _message(self, batch: Sequence[Recipient]) -> Message:
        """The message of a batch: :meth:`message_for` its rows where it has them."""
        return self.message_for(batch.rows) if isinstance(batch, Batch) else self.message

    def message_for(self, rows: Sequence[RowTuple]) -> Message:
        """The message of a batch: its readers' language's, for an issue in several."""
        if not self.languages or not rows:
            return self.message
        return self.languages.get(row_language(rows[0][4]), self.message)

    # -- the provider ----------------------------------------------------------------------

    def _attempt(self, number: int) -> Attempt:
        return Attempt(number, self.log, self.stopping)

    def _prepare(self, batch: Sequence[Recipient]) -> object:
        """The batch's prepared payload (a background provider's request body), or None."""
        background = self.background
        return None if background is None else background.prepare(self._message(batch), batch)

    def _send(self, batch: Sequence[Recipient], prepared: object, number: int) -> BatchResult:
        background, on = self.background, self._attempt(number)
        if background is not None:
            return background.send_prepared(self._message(batch), batch, prepared, on)
        return self.provider.send(self._message(batch), batch, on)

    # -- the batches -----------------------------------------------------------------------

    def new_batches(self, build: _NewBatches) -> bool:
        """Send new recipients until the list is exhausted; False if the run must end.

        Each request is started, then the next batch is read, built and written to
        the journal as ``pending`` while it is out (a provider that can send in the
        background, SendGrid, overlaps the two). Only after its answer is recorded
        does the next batch become ``in_flight`` (the same commit) and start: one
        batch is in flight at a time.
        """
        journal, send, background = self.journal, self.send, self.background
        if background is not None:
            background.get_ready()
        batch, prepared = self._read(build)
        while batch:
            if self._interrupted():
                return False
            number = journal.begin_batch(send, batch.rows[0][0], batch.rows[-1][0], len(batch))
            self.pace.wait(len(batch))
            started = (
                None if background is None else background.start(self._message(batch), batch, prepared, self._attempt(number))
            )
            if started is None:  # sent when asked: send, then read the next
                if not self.batch(batch, prepared, number, in_flight=True, paced=True):
                    return False
                batch, prepared = self._read(build)
                continue
            try:
                upcoming, upcoming_prepared = self._read(build)
            except Exception:
                self.batch(batch, prepared, number, in_flight=True, started=started)  # its answer, then the error
                raise
            if not self.batch(batch, prepared, number, in_flight=True, started=started):
                return False
            batch, prepared = upcoming, upcoming_prepared
        return True

    def _interrupted(self) -> bool:
        """True (and the run's outcome says so) once a first Ctrl-C asked to stop."""
        if self.stopping.is_set():
            self.result.outcome, self.result.message = "interrupted", "interrupted (Ctrl-C)"
            return True
        return False

    def _read(self, build: _NewBatches) -> tuple[Batch, object]:
        """The next new batch, its request built and its rows written as ``pending``."""
        batch = build()
        if not batch:
            return batch, None
        self.journal.add_pending(self.send, batch.rows, batch.rows_json(), tracked=batch.tracked)
        batch = self._refuse_unsendable(batch)
        if not batch:  # everyone in it refused: read on
            return self._read(build)
        prepared = self._prepare(batch)
        if self.background is not None:
            self.background.ahead(prepared)
        return batch, prepared

    def _refuse_unsendable(self, batch: Batch) -> Batch:
        """Leave out (as ``failed``, with the reason) addresses this provider cannot deliver to."""
        rows = batch.rows
        if all(row[1].isascii() for row in rows):
            return batch
        unsendable = self.provider.unsendable
        refused = {row[0]: why for row in rows if not row[1].isascii() and (why := unsendable(row[1]))}
        if not refused:
            return batch
        self.journal.refuse(self.send, refused)
        self.result.notes.append(f"{len(refused)} recipient(s) refused before sending: {next(iter(refused.values()))}")
        return Batch([row for row in rows if row[0] not in refused], batch.make, batch.tracked)

    def pending_batches(self, recipient: Callable[[RowTuple], Recipient], size: int) -> None:
        """Send the journal's ``pending`` recipients (each at most once in this run)."""
        after = 0
        while not self._interrupted():
            rows, tracked = self.journal.next_run(self.send, after, size)
            if not rows:
                break
            if self.languages:  # a request holds readers of one language
                rows = _one_language(rows)
            after = rows[-1].seq
            batch = self._refuse_unsendable(Batch(list(rows), recipient, tracked))
            if not batch:
                continue
            if not self.batch(batch, self._prepare(batch), None, in_flight=False):
                return

    def batch(
        self,
        batch: Sequence[Recipient],
        prepared: object,
        number: int | None,
        *,
        in_flight: bool,
        started: Started | None = None,
        paced: bool = False,
    ) -> bool:
        """Send one batch (or see to one already ``started``); False when the run must stop.
        ``number``: the journal's batch number when its rows are already ``in_flight``."""
        stop = _OneBatch(self, batch, prepared, number, in_flight=in_flight, started=started, paced=paced).run()
        result, settings = self.result, self.settings
        self.tried += stop.tried
        self.refused += stop.refused
        self.done += stop.accepted
        self.sink.advance(self.done, max(self.send.eligible, self.done))
        if stop.outcome is not None:
            result.outcome, result.message = stop.outcome, stop.message
        elif self.stopping.is_set():
            result.outcome, result.message = "interrupted", "interrupted (Ctrl-C)"
        elif result.failed_requests >= settings.max_failed_requests:
            result.outcome, result.message = "paused", f"{result.failed_requests} requests failed"
        elif self.tried >= 100 and self.refused / self.tried > settings.max_failed_recipients:
            result.outcome, result.message = "paused", f"{self.refused} of {self.tried} recipients were refused"
        return result.outcome == "done"

    def end(self) -> RunResult:
        self.result.seconds = time.monotonic() - self.started
        return self.result


@dataclass(slots=True)
class _BatchEnd:
    accepted: int = 0
    tried: int = 0
    refused: int = 0
    outcome: Outcome | None = None
    message: str = ""


class _OneBatch:
    """One batch sent by the retry rules; the journal is updated before and after each try.

    ``in_flight``: the rows were just written as ``in_flight`` (new recipients), as
    batch ``number``.
    ``started``: the first try is already under way (paced, rows ``in_flight``).
    ``paced``: the first try's wait for the rate cap is already done.
    """

    __slots__ = ("loop", "batch", "prepared", "number", "in_flight", "started", "paced", "attempt", "end")

    def __init__(
        self,
        loop: SendLoop,
        batch: Sequence[Recipient],
        prepared: object,
        number: int | None,
        *,
        in_flight: bool,
        started: Started | None,
        paced: bool,
    ) -> None:
        self.loop, self.batch, self.prepared, self.number = loop, batch, prepared, number
        self.in_flight, self.started, self.paced = in_flight, started, paced
        self.attempt = 0
        self.end = _BatchEnd()

    def run(self) -> _BatchEnd:
        loop = self.loop
        while self.batch:
            batch = self.batch
            first, last = batch[0].seq, batch[-1].seq
            if self.started is None and not self._begin(first, last):
                return self.end
            loop.result.requests += 1
            try:
                outcome = self._try()
            except RetryLater as exc:
                if self._wait_after(exc, first, last):
                    continue
                return self.end
            except Unknown as exc:
                loop.journal.whole_batch(loop.send, first, last, "unknown", exc.reason)
                loop.result.failed_requests += 1
                loop.result.notes.append(f"{len(batch)} recipients unknown: {exc.reason}")
                return self.end
            except Rejected as exc:
                loop.journal.whole_batch(loop.send, first, last, "pending", exc.reason)
                self.end.outcome, self.end.message = "stopped", exc.reason
                return self.end
            # a KeyboardInterrupt (a second Ctrl-C) leaves the rows ``in_flight``: the outcome
            # log, written by the process that posted them, settles them on the next run
            if not self._record(outcome, first, last):
                return self.end
        return self.end

    def _begin(self, first: int, last: int) -> bool:
        """Pace and number a try that is not under way yet; False (the rows wait) after a Ctrl-C."""
        loop, attempt = self.loop, self.attempt
        if attempt and loop.stopping.is_set():  # no new try after a Ctrl-C: the rows wait
            loop.journal.whole_batch(loop.send, first, last, "pending", "not sent yet: the send was interrupted")
            return False
        if attempt or not self.paced:
            loop.pace.wait(len(self.batch))
        if attempt or not self.in_flight or self.number is None:
            self.number = loop.journal.begin_batch(loop.send, first, last, len(self.batch))
        return True

    def _try(self) -> BatchResult:
        started = self.started
        if started is not None:
            self.started = None
            return started()
        assert self.number is not None  # in flight under this batch number from here on
        return self.loop._send(self.batch, self.prepared, self.number)

    def _wait_after(self, exc: RetryLater, first: int, last: int) -> bool:
        """The batch back to ``pending``; True after waiting to try it again, False to give up."""
        loop, settings = self.loop, self.loop.settings
        loop.journal.whole_batch(loop.send, first, last, "pending", exc.reason)
        wait = exc.wait if exc.wait is not None else backoff(self.attempt, settings.backoff, settings.backoff_cap)
        if wait > LONGEST_WAIT:
            self.end.outcome, self.end.message = "paused", f"{exc.reason}; asked to wait {wait:.0f} s"
            return False
        if self.attempt >= settings.retries:
            loop.result.failed_requests += 1
            loop.result.notes.append(f"gave up on a batch after {self.attempt + 1} tries: {exc.reason}")
            return False
        loop.sink.note(f"{exc.reason}; trying again in {wait:.1f} s")
        loop.sleep(wait)
        self.attempt += 1
        return True

    def _record(self, outcome: BatchResult, first: int, last: int) -> bool:
        """Write the try's outcome; True to try again the recipients worth retrying."""
        loop, end, batch, settings = self.loop, self.end, self.batch, self.loop.settings
        # a new batch that went through whole is followed at once by the next one's start
        loop.journal.finish_batch(
            loop.send,
            first,
            last,
            len(batch),
            outcome,
            with_next=self.in_flight and not self.attempt and len(outcome.accepted) == len(batch),
        )
        end.tried += len(outcome.accepted) + len(outcome.failed)
        end.refused += len(outcome.failed)
        end.accepted += len(outcome.accepted)
        loop.result.accepted += len(outcome.accepted)
        if outcome.unknown:
            loop.result.failed_requests += 1
            loop.result.notes.append(f"{len(outcome.unknown)} recipients unknown: {next(iter(outcome.unknown.values()))}")
        if outcome.stop:
            end.outcome, end.message = "stopped", outcome.stop
            return False
        self.batch = _retry_part(batch, outcome)
        if not self.batch:
            return True
        self.prepared = loop._prepare(self.batch)
        if self.attempt >= settings.retries:
            loop.result.failed_requests += 1
            loop.result.notes.append(f"gave up on {len(self.batch)} recipients: {next(iter(outcome.retry.values()))}")
            return False
        loop.sleep(backoff(self.attempt, settings.backoff, settings.backoff_cap))
        self.attempt += 1
        return True


def _retry_part(batch: Sequence[Recipient], outcome: BatchResult) -> list[Recipient]:
    return [r for r in batch if r.seq in outcome.retry] if outcome.retry else []
