"""The send loop: batches from the journal, retries by the rules, pacing, error threshold.

Rules (issue 5):

* 429 waits for ``Retry-After`` or ``X-RateLimit-Reset`` and tries again.
* 5xx answers and connection errors before the request was sent are retried with
  capped exponential backoff and jitter; while waiting the batch is ``pending`` again.
* No answer after the request was sent makes the batch ``unknown`` (never resent
  automatically).
* A refusal (400, 401, 403, 413, a refused SMTP login) stops the run with the
  provider's own message; the batch goes back to ``pending``.
* Too many failed requests or refused recipients pause the run (resumable).
* An optional rate cap (messages per second) holds from the first message on.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from newsletter.delivery.base import (
    BatchResult,
    Message,
    Provider,
    Recipient,
    Rejected,
    RetryLater,
    Unknown,
)
from newsletter.delivery.journal import Journal, Row, SendRow
from newsletter.settings import Delivery

LONGEST_WAIT = 900.0
"""A provider asking us to wait longer than this (seconds) pauses the run instead."""

Outcome = Literal["finished", "done", "paused", "stopped"]


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
    recipient: Callable[[Row], Recipient],
    settings: Delivery,
    *,
    progress: ProgressSink | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Send every ``pending`` recipient of ``send``; returns how the run ended."""
    sink = progress or _Silent()
    started = time.monotonic()
    result = RunResult("done")
    pace = Pace(settings.rate, sleep)
    size = batch_size(settings, provider)
    tried = refused = 0
    total = send.eligible
    done = journal.counts(send)["accepted"]

    def build(rows: list[Row]) -> tuple[list[Recipient], object]:
        batch = [recipient(r) for r in rows]
        return batch, provider.prepare(message, batch)

    # The next batch is built in a thread while the current one is in flight (the
    # request waits on the network without the GIL). Only one batch is ever in flight.
    ahead = ThreadPoolExecutor(1, thread_name_prefix="prepare")
    try:
        rows = journal.next_batch(send, 0, size)
        coming: Future[tuple[list[Recipient], object]] | None = ahead.submit(build, rows) if rows else None
        while coming is not None:
            batch, prepared = coming.result()
            rows = journal.next_batch(send, batch[-1].seq, size)
            coming = ahead.submit(build, rows) if rows else None
            stop = _one_batch(journal, send, message, provider, batch, prepared, settings, pace, sink,
                              result, sleep)
            tried += stop.tried
            refused += stop.refused
            done += stop.accepted
            sink.advance(done, total)
            if stop.outcome is not None:
                result.outcome, result.message = stop.outcome, stop.message
                return _end(result, started)
            if result.failed_requests >= settings.max_failed_requests:
                result.outcome = "paused"
                result.message = f"{result.failed_requests} requests failed"
                return _end(result, started)
            if tried >= 100 and refused / tried > settings.max_failed_recipients:
                result.outcome = "paused"
                result.message = f"{refused} of {tried} recipients were refused"
                return _end(result, started)
    finally:
        ahead.shutdown(wait=True, cancel_futures=True)
    return _end(result, started)


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
) -> _BatchEnd:
    """Send one batch by the retry rules; the journal is updated before and after each try."""
    end = _BatchEnd()
    attempt = 0
    while batch:
        first, last = batch[0].seq, batch[-1].seq
        pace.wait(len(batch))
        journal.begin_batch(send, first, last, len(batch))
        result.requests += 1
        try:
            outcome = provider.send(message, batch, prepared)
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
        except KeyboardInterrupt:
            journal.whole_batch(send, first, last, "unknown", "interrupted while the request was in flight")
            raise
        journal.finish_batch(send, first, last, len(batch), outcome)
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


def _end(result: RunResult, started: float) -> RunResult:
    result.seconds = time.monotonic() - started
    return result
