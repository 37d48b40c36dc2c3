"""The outcome log: what became of each request, written by whoever sends it.

The journal knows which recipients were in the request that was out when a send
stopped (their rows are ``in_flight``), but not what became of it: the sender may
have died before the body was handed over, while it was on the wire, or after
SendGrid had answered 202 to the request process (which outlives the sender). So
the process that posts a request writes, by itself, one line per event to the
send's outcome log (``.newsletter/outcomes/<send id>.log``, JSON lines, 0600):

``{"b": 7, "e": "started"}``
    written and ``fsync``-ed just before the first byte of try 7 (the journal's
    batch number) goes out: from here on the request may have been delivered;
``{"b": 7, "e": "answered", "status": 202, "id": "…", "why": ""}``
    SendGrid's answer, whatever it was;
``{"b": 7, "e": "not_sent", "why": "…"}``
    the request certainly did not reach the server whole;
``{"b": 7, "e": "lost", "why": "…"}``
    it did, and no answer came.

Providers that send message by message (SMTP) write the same events with the
recipient's ``"s"`` (seq), so that at most the messages on the wire are unknown.

Only ``started`` needs ``fsync``: if a later line is lost (a power cut), the
request reads as started and unanswered, which is ``unknown`` — never resent by
itself. :func:`settle` turns the log into a :class:`~newsletter.delivery.base.BatchResult`
for the rows a stopped send left ``in_flight``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from newsletter.delivery.base import BatchResult

FOLDER = "outcomes"
STOPPED_BEFORE = "not sent: the send stopped before this request went out"
STOPPED_DURING = "the send stopped while this request was on its way, and no answer was recorded"


def log_path(state: Path, send_id: int) -> Path:
    """The outcome log of one send (its folder is made when missing)."""
    folder = state / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{send_id}.log"


class OutcomeLog:
    """Appends events to one send's outcome log; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()

    def write(self, event: Mapping[str, Any], *, durable: bool = False) -> None:
        """Append one event; with ``durable`` it is on disk before this returns."""
        line = orjson.dumps(event) + b"\n"
        with self._lock:
            written = os.write(self._fd, line)
            if written != len(line):  # a full disk: never leave half a line as the last word
                raise OSError(28, "the outcome log could not be written whole")
        if durable:
            os.fsync(self._fd)

    def started(self, batch: int, seq: int | None = None) -> None:
        self.write(_event(batch, seq, "started"), durable=True)

    def answered(self, batch: int, status: int, message_id: str, why: str) -> None:
        self.write({"b": batch, "e": "answered", "status": status, "id": message_id, "why": why})

    def not_sent(self, batch: int, why: str, seq: int | None = None) -> None:
        self.write({**_event(batch, seq, "not_sent"), "why": why})

    def lost(self, batch: int, why: str, seq: int | None = None) -> None:
        self.write({**_event(batch, seq, "lost"), "why": why})

    def done(self, batch: int, seq: int, state: str, why: str = "") -> None:
        """One message's end: ``accepted``, ``failed`` (refused for good) or ``retry``."""
        self.write({"b": batch, "s": seq, "e": "done", "state": state, "why": why})

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _event(batch: int, seq: int | None, kind: str) -> dict[str, Any]:
    return {"b": batch, "e": kind} if seq is None else {"b": batch, "s": seq, "e": kind}


def read(path: Path) -> list[dict[str, Any]]:
    """Every whole event in the log (a torn last line, from a power cut, is left out)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    events = []
    for line in data.split(b"\n"):
        if line:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict) and isinstance(event.get("b"), int):
                events.append(event)
    return events


def settle(in_flight: Mapping[int, Iterable[int]], events: Iterable[Mapping[str, Any]]) -> BatchResult:
    """What became of the rows a stopped send left ``in_flight`` (batch number → seqs).

    A request: answered 2xx → accepted; never started, certainly not sent, or answered
    otherwise → to be sent again (``retry``); started and never answered → ``unknown``.
    Message by message (events with ``"s"``): each message the same way.
    """
    by_batch: dict[int, list[Mapping[str, Any]]] = {}
    wanted = set(in_flight)
    for event in events:
        if event["b"] in wanted:
            by_batch.setdefault(event["b"], []).append(event)
    result = BatchResult()
    for batch, seqs in in_flight.items():
        seen = by_batch.get(batch, [])
        if any("s" in e for e in seen):
            _settle_messages(result, seqs, seen)
            continue
        last = seen[-1] if seen else None
        _apply(result, seqs, _verdict(last))
    return result


def _verdict(last: Mapping[str, Any] | None) -> tuple[str, str]:
    if last is None:
        return "retry", STOPPED_BEFORE
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


def _settle_messages(result: BatchResult, seqs: Iterable[int], seen: list[Mapping[str, Any]]) -> None:
    last: dict[int, Mapping[str, Any]] = {int(e["s"]): e for e in seen if "s" in e}
    for seq in seqs:
        event = last.get(seq)
        if event is None:
            result.retry[seq] = STOPPED_BEFORE
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
