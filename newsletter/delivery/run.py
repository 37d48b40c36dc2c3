"""The send loop: batches read from the list (then the journal), retries by the rules,
pacing, error threshold.

Rules (issue 5):

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
from contextlib import contextmanager
from itertools import islice, takewhile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import orjson

from newsletter.delivery.base import (
    Batch,
    BatchResult,
    Message,
    Provider,
    Recipient,
    Rejected,
    RowTuple,
    RetryLater,
    Started,
    Unknown,
)
from newsletter.delivery.journal import Journal, Row, SendRow
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
    size = min(settings.batch_size, provider.max_batch)
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
    languages: Mapping[str, Message] | None = None,
) -> RunResult:
    """Send the recipients of ``send`` that are due; returns how the run ended.

    First, while the send is not fully loaded, new recipients from ``source`` (the
    eligible list, read as it is sent; those already in the journal are skipped),
    then every ``pending`` recipient in the journal. ``split_tracked``: readers who agreed
    to tracking and readers who did not are never in one request. ``languages``: an issue
    in several languages, its message in each; every row's merge values name its
    language (:mod:`newsletter.delivery.languages`) and a request holds readers of one.
    """
    sink = progress or _Silent()
    run = _Run(journal, send, message, provider, settings, sink, sleep)
    run.languages = languages
    size = batch_size(settings, provider)
    with no_cycle_collection(), _first_interrupt_waits(run.stopping, sink):
        provider.stop_when(run.stopping)
        if source is not None and not send.loaded:
            if not run.new_batches(_NewBatches(journal, send, source, size, recipient, split=split_tracked,
                                               by_language=bool(languages))):
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

    def __init__(self, journal: Journal, send: SendRow, source: Iterator[NewRow], size: int,
                 make: Callable[[RowTuple], Recipient], *, split: bool = False, by_language: bool = False) -> None:
        self.skip = journal.present(send)
        self.seq = journal.next_seq(send)
        self.source, self.size, self.make = source, size, make
        self.split = split
        self._gathered: dict[bool, list[NewRow]] = {False: [], True: []}
        self.by_language = by_language
        self._by_kind: dict[tuple[bool, str], list[NewRow]] = {}

    def __call__(self) -> Batch:
        seq, skip = self.seq, self.skip
        source = (r for r in self.source if r[0].lower() not in skip) if skip else self.source
        if self.by_language:
            return self._one_language(source)
        if self.split:
            return self._one_kind(source)
        rows: list[RowTuple] = [(seq + i, email, first, last, vals)
                                for i, (email, first, last, vals, _) in enumerate(islice(source, self.size))]
        self.seq = seq + len(rows)
        return Batch(rows, self.make)

    def _one_kind(self, source: Iterator[NewRow]) -> Batch:
        """The next batch of readers of one kind: the first kind to fill a batch, or at the
        end of the list whatever is left (one kind, then the other)."""
        gathered, size = self._gathered, self.size
        kind: bool | None = None
        for row in source:
            found = gathered[row[4]]
            found.append(row)
            if len(found) == size:
                kind = row[4]
                break
        if kind is None:
            kind = bool(gathered[True]) and not gathered[False]
        taken, gathered[kind] = gathered[kind], []
        seq = self.seq
        rows: list[RowTuple] = [(seq + i, email, first, last, vals)
                                for i, (email, first, last, vals, _) in enumerate(taken)]
        self.seq = seq + len(rows)
        return Batch(rows, self.make, kind)


    def _one_language(self, source: Iterator[NewRow]) -> Batch:
        """:meth:`_one_kind` for an issue in several languages: a batch of readers of one
        language (and, with ``split``, of one kind), the first to fill a batch, or at the
        end of the list whatever is left, in a fixed order."""
        gathered = self._by_kind
        size, split = self.size, self.split
        kind: tuple[bool, str] | None = None
        for row in source:
            key = (row[4] if split else False, row_language(row[3]))
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
        rows: list[RowTuple] = [(seq + i, email, first, last, vals)
                                for i, (email, first, last, vals, _) in enumerate(taken)]
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


class _Run:
    """One run of the send loop: its counters and the checks between batches."""

    def __init__(self, journal: Journal, send: SendRow, message: Message, provider: Provider,
                 settings: Delivery, sink: ProgressSink, sleep: Callable[[float], None]) -> None:
        self.journal, self.send, self.message, self.provider = journal, send, message, provider
        self.settings, self.sink, self.sleep = settings, sink, sleep
        self.pace = Pace(settings.rate, sleep)
        self.result = RunResult("done")
        self.started = time.monotonic()
        self.tried = self.refused = 0
        self.done = journal.counts(send)["accepted"]
        self.stopping = threading.Event()
        """Set by a first Ctrl-C: no request is started after it."""
        self.languages: Mapping[str, Message] | None = None
        """An issue in several languages: its message in each (see :func:`deliver`)."""

    def message_for(self, rows: Sequence[RowTuple]) -> Message:
        """The message of a batch: its readers' language's, for an issue in several."""
        if not self.languages or not rows:
            return self.message
        return self.languages.get(row_language(rows[0][4]), self.message)

    def new_batches(self, build: _NewBatches) -> bool:
        """Send new recipients until the list is exhausted; False if the run must end.

        Each request is started, then the next batch is read, built and written to
        the journal as ``pending`` while it is out (a provider that can send in the
        background, SendGrid, overlaps the two). Only after its answer is recorded
        does the next batch become ``in_flight`` (the same commit) and start: one
        batch is in flight at a time.
        """
        provider, journal, send = self.provider, self.journal, self.send
        provider.get_ready()
        batch, prepared = self._read(build)
        while batch:
            if self._interrupted():
                return False
            number = journal.begin_batch(send, batch.rows[0][0], batch.rows[-1][0], len(batch))
            self.pace.wait(len(batch))
            started = provider.start(self.message_for(batch.rows), batch, prepared, number)
            if started is None:  # this provider sends when asked: send, then read the next
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
        prepared = self.provider.prepare(self.message_for(batch.rows), batch)
        self.provider.ahead(prepared)
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
            if not self.batch(batch, self.provider.prepare(self.message_for(batch.rows), batch), None, in_flight=False):
                return

    def batch(self, batch: Sequence[Recipient], prepared: object, number: int | None, *, in_flight: bool,
              started: Started | None = None, paced: bool = False) -> bool:
        """Send one batch (or see to one already ``started``); False when the run must stop.
        ``number``: the journal's batch number when its rows are already ``in_flight``."""
        message = self.message_for(batch.rows) if isinstance(batch, Batch) else self.message
        stop = _one_batch(self.journal, self.send, message, self.provider, batch, prepared,
                          self.settings, self.pace, self.sink, self.result, self.sleep, number,
                          self.stopping, in_flight=in_flight, started=started, paced=paced)
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


def _one_batch(
    journal: Journal,
    send: SendRow,
    message: Message,
    provider: Provider,
    batch: Sequence[Recipient],
    prepared: object,
    settings: Delivery,
    pace: Pace,
    sink: ProgressSink,
    result: RunResult,
    sleep: Callable[[float], None],
    number: int | None,
    stopping: threading.Event,
    *,
    in_flight: bool,
    started: Started | None = None,
    paced: bool = False,
) -> _BatchEnd:
    """Send one batch by the retry rules; the journal is updated before and after each try.

    ``in_flight``: the rows were just written as ``in_flight`` (new recipients), as
    batch ``number``.
    ``started``: the first try is already under way (paced, rows ``in_flight``).
    ``paced``: the first try's wait for the rate cap is already done.
    """
    end = _BatchEnd()
    attempt = 0
    while batch:
        first, last = batch[0].seq, batch[-1].seq
        if started is None:
            if attempt and stopping.is_set():  # no new try after a Ctrl-C: the rows wait
                journal.whole_batch(send, first, last, "pending", "not sent yet: the send was interrupted")
                return end
            if attempt or not paced:
                pace.wait(len(batch))
            if attempt or not in_flight or number is None:
                number = journal.begin_batch(send, first, last, len(batch))
        assert number is not None  # in flight under this batch number from here on
        result.requests += 1
        try:
            if started is not None:
                begun, started = started, None
                outcome = begun()
            else:
                outcome = provider.send(message, batch, prepared, number)
        except RetryLater as exc:
            journal.whole_batch(send, first, last, "pending", exc.reason)
            wait = exc.wait if exc.wait is not None else backoff(attempt, settings.backoff, settings.backoff_cap)
            if wait > LONGEST_WAIT:
                end.outcome, end.message = "paused", f"{exc.reason}; asked to wait {wait:.0f} s"
                return end
            if attempt >= settings.retries:
                result.failed_requests += 1
                result.notes.append(f"gave up on a batch after {attempt + 1} tries: {exc.reason}")
                return end
            sink.note(f"{exc.reason}; trying again in {wait:.1f} s")
            sleep(wait)
            attempt += 1
            continue
        except Unknown as exc:
            journal.whole_batch(send, first, last, "unknown", exc.reason)
            result.failed_requests += 1
            result.notes.append(f"{len(batch)} recipients unknown: {exc.reason}")
            return end
        except Rejected as exc:
            journal.whole_batch(send, first, last, "pending", exc.reason)
            end.outcome, end.message = "stopped", exc.reason
            return end
        # a KeyboardInterrupt (a second Ctrl-C) leaves the rows ``in_flight``: the outcome
        # log, written by the process that posted them, settles them on the next run
        # a new batch that went through whole is followed at once by the next one's start
        journal.finish_batch(send, first, last, len(batch), outcome,
                             with_next=in_flight and not attempt and len(outcome.accepted) == len(batch))
        end.tried += len(outcome.accepted) + len(outcome.failed)
        end.refused += len(outcome.failed)
        end.accepted += len(outcome.accepted)
        result.accepted += len(outcome.accepted)
        if outcome.unknown:
            result.failed_requests += 1
            result.notes.append(f"{len(outcome.unknown)} recipients unknown: {next(iter(outcome.unknown.values()))}")
        if outcome.stop:
            end.outcome, end.message = "stopped", outcome.stop
            return end
        batch, prepared = _retry_part(batch, outcome), None
        if batch:
            if attempt >= settings.retries:
                result.failed_requests += 1
                result.notes.append(f"gave up on {len(batch)} recipients: {next(iter(outcome.retry.values()))}")
                return end
            sleep(backoff(attempt, settings.backoff, settings.backoff_cap))
            attempt += 1
    return end


def _retry_part(batch: Sequence[Recipient], outcome: BatchResult) -> list[Recipient]:
    return [r for r in batch if r.seq in outcome.retry] if outcome.retry else []


