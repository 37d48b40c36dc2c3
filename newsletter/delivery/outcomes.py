"""The outcome log: what became of each request, written by whoever sends it.

The journal knows which recipients were in the request that was out when a send
stopped (their rows are ``in_flight``), but not what became of it: the sender may
have died before the body was handed over, while it was on the wire, or after
SendGrid had answered 202 to the request process (which outlives the sender). So
the process that posts a request writes, by itself, one line per event to the
send's outcome log (``.newsletter/outcomes/<send id>.log``, JSON lines, 0600):

``{"boot": "…", "pid": 123}``
    first, from each process that opens the log: which boot of the machine (Linux's
    ``boot_id``) the lines after it were written in;
``{"b": 7, "e": "started", "t": 1718352000.123}``
    just before the first byte of try 7 (the journal's batch number) goes out, at Unix
    time ``t``: from here on the request may have been delivered;
``{"b": 7, "e": "answered", "status": 202, "id": "…", "why": ""}``
    SendGrid's answer, whatever it was;
``{"b": 7, "e": "not_sent", "why": "…"}``
    the request certainly did not reach the server whole;
``{"b": 7, "e": "lost", "why": "…"}``
    it did, and no answer came.

Providers that send message by message (SMTP) write the same events with the
recipient's ``"s"`` (seq), so that at most the messages on the wire are unknown.

A line is in the kernel's hands once ``write`` returns: it survives the death of any
process, so no line needs an ``fsync`` (which would cost every request, and every SMTP
message, several milliseconds). Only a crash of the machine itself can lose lines, and
a crash means a new boot: when the machine has restarted since the log's last lines
were written, a request (or message) with no line at all may have started, and
:func:`settle` calls it ``unknown`` instead of sending it again. On the same boot, no
line means it never started. (Where the boot cannot be known, every line is synced.)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from newsletter.delivery.base import BatchResult
from newsletter.files import Appender

FOLDER = "outcomes"
STOPPED_BEFORE = "not sent: the send stopped before this request went out"
STOPPED_DURING = "the send stopped while this request was on its way, and no answer was recorded"
RESTARTED = "the machine restarted while this request was on its way: whether it went out cannot be known"


def log_path(state: Path, send_id: int) -> Path:
    """The outcome log of one send (its folder is made when missing)."""
    folder = state / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{send_id}.log"


def boot_id() -> str:
    """Which boot of this machine this is (Linux), or "" where that cannot be known."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


class OutcomeLog:
    """Appends events to one send's outcome log; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._log = Appender(path)
        self._lock = threading.Lock()
        self._boot = boot_id()
        self.write({"boot": self._boot, "pid": os.getpid()})

    def write(self, event: Mapping[str, Any]) -> None:
        """Append one event (in the kernel's hands when this returns; synced to disk too
        where the machine's boot cannot be known)."""
        line = orjson.dumps(event) + b"\n"
        with self._lock:
            self._log.append(line)  # whole or OSError: never half a line as the last word
        if not self._boot:
            self._log.sync()

    def started(self, batch: int, seq: int | None = None) -> None:
        self.write({**_event(batch, seq, "started"), "t": round(time.time(), 3)})

    # Endings are best-effort: if the disk cannot take one, the request (or message) reads
    # as started and unanswered, ``unknown``, which is the safe side. Only ``started`` raises.

    def _ending(self, event: Mapping[str, Any]) -> None:
        try:
            self.write(event)
        except OSError:
            pass

    def answered(self, batch: int, status: int, message_id: str, why: str) -> None:
        self._ending({"b": batch, "e": "answered", "status": status, "id": message_id, "why": why})

    def not_sent(self, batch: int, why: str, seq: int | None = None) -> None:
        self._ending({**_event(batch, seq, "not_sent"), "why": why})

    def lost(self, batch: int, why: str, seq: int | None = None) -> None:
        self._ending({**_event(batch, seq, "lost"), "why": why})

    def done(self, batch: int, seq: int, state: str, why: str = "") -> None:
        """One message's end: ``accepted``, ``failed`` (refused for good) or ``retry``."""
        self._ending({"b": batch, "s": seq, "e": "done", "state": state, "why": why})

    def close(self) -> None:
        self._log.close()


def _event(batch: int, seq: int | None, kind: str) -> dict[str, Any]:
    return {"b": batch, "e": kind} if seq is None else {"b": batch, "s": seq, "e": kind}


@dataclass(frozen=True, slots=True)
class Log:
    """What a log holds: its events, and whether they can be trusted to be complete."""

    events: list[dict[str, Any]]
    complete: bool
    """True when the machine has not restarted since the last lines were written (so a
    request with no line never started); False after a restart, or with no log at all."""


def read(path: Path) -> Log:
    """Every whole event in the log (a torn last line, from a crash, is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Log([], False)
    events = []
    last_boot: str | None = None
    for line in data.split(b"\n"):
        if line:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(event, dict):
                continue
            if "boot" in event:
                last_boot = str(event["boot"])
            elif isinstance(event.get("b"), int):
                events.append(event)
    now = boot_id()
    return Log(events, last_boot is not None and (last_boot == now or not now))


def settle(in_flight: Mapping[int, Iterable[int]], log: Log) -> BatchResult:
    """What became of the rows a stopped send left ``in_flight`` (batch number → seqs).

    A request: answered 2xx → accepted; never started, certainly not sent, or answered
    otherwise → to be sent again (``retry``); started and never answered → ``unknown``.
    Message by message (events with ``"s"``): each message the same way. With no line
    at all it never started, unless the log cannot be trusted to be complete (the
    machine restarted since): then ``unknown``.
    """
    by_batch: dict[int, list[Mapping[str, Any]]] = {}
    wanted = set(in_flight)
    for event in log.events:
        if event["b"] in wanted:
            by_batch.setdefault(event["b"], []).append(event)
    nothing = ("retry", STOPPED_BEFORE) if log.complete else ("unknown", RESTARTED)
    result = BatchResult()
    for batch, seqs in in_flight.items():
        seen = by_batch.get(batch, [])
        if any("s" in e for e in seen):
            _settle_messages(result, seqs, seen, nothing)
            continue
        _apply(result, seqs, _verdict(seen[-1]) if seen else nothing)
    return result


def _verdict(last: Mapping[str, Any]) -> tuple[str, str]:
    kind = last["e"]
    if kind == "answered":
        status = int(last.get("status", 0))
        if 200 <= status < 300:
            return "accepted", ""
        return "retry", f"not sent: SendGrid answered {status}: {last.get('why', '')}"
    if kind == "not_sent":
        return "retry", f"not sent: {last.get('why', '')}"
    if kind == "lost":
        return "unknown", str(last.get("why", STOPPED_DURING))
    return "unknown", STOPPED_DURING


def _apply(result: BatchResult, seqs: Iterable[int], verdict: tuple[str, str]) -> None:
    state, why = verdict
    if state == "accepted":
        result.accepted.extend(seqs)
    else:
        target = result.unknown if state == "unknown" else result.retry
        target.update((seq, why) for seq in seqs)


def _settle_messages(result: BatchResult, seqs: Iterable[int], seen: list[Mapping[str, Any]], nothing: tuple[str, str]) -> None:
    last: dict[int, Mapping[str, Any]] = {int(e["s"]): e for e in seen if "s" in e}
    for seq in seqs:
        event = last.get(seq)
        if event is None:
            _apply(result, (seq,), nothing)
            continue
        if event["e"] == "done":
            state, why = str(event.get("state")), str(event.get("why", ""))
            if state == "accepted":
                result.accepted.append(seq)
            elif state == "failed":
                result.failed[seq] = why
            else:
                result.retry[seq] = why or STOPPED_BEFORE
        elif event["e"] == "not_sent":
            result.retry[seq] = f"not sent: {event.get('why', '')}"
        elif event["e"] == "lost":
            result.unknown[seq] = str(event.get("why", STOPPED_DURING))
        else:
            result.unknown[seq] = STOPPED_DURING


LOG_NOT_SENT = "not sent: SendGrid's Email Logs show no message of this request"
LOG_NOT_YET = (
    "SendGrid's Email Logs do not show this request yet (they may lag by up to "
    "delivery.sendgrid.log_delay); run the same command again after {when} to settle it"
)


def started_at(log: Log, batch: int) -> float | None:
    """When try ``batch`` last started (Unix time), if the log says."""
    found = None
    for event in log.events:
        if event["b"] == batch and event["e"] == "started" and isinstance(event.get("t"), (int, float)):
            found = float(event["t"])
    return found


def from_email_log(processed: bool, started: float, now: float, delay: float) -> tuple[str, str]:
    """What an ``unknown`` request is, once SendGrid's Email Logs were searched for one of its
    readers in this send's category: found → ``accepted`` (SendGrid processed it); not
    found and started at least ``delay`` seconds ago (the longest the log is taken to lag)
    → ``retry`` (SendGrid never had it); not found yet → still ``unknown``, with when to ask
    again."""
    if processed:
        return "accepted", ""
    if now - started >= delay:
        return "retry", LOG_NOT_SENT
    import datetime as dt

    when = dt.datetime.fromtimestamp(started + delay, dt.timezone.utc).strftime("%H:%M UTC")
    return "unknown", LOG_NOT_YET.format(when=when)
