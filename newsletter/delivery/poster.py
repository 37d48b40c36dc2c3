"""Posting SendGrid requests from a second process while the next batch is built.

A big send spends its time in two places that need not wait for each other:
building a request body (reading the list, the journal, JSON) and the request
itself (the HTTP client's own work, then waiting for SendGrid's answer). In one
process the two take turns; threads would too, since both need the interpreter
lock. So the real send starts this small process (``python -m
newsletter.delivery.poster``), hands it each body once the journal holds the
batch as ``in_flight``, and builds the next batch while the body is posted.
Only one request is ever in flight, so the journal means what it did before.

The child reads frames from its stdin (4-byte big-endian length, then the bytes):
first its settings as JSON (the key among them: it never appears on a command
line), then for each request a JSON frame with its batch number and a frame with
its body. It posts each body over one kept-alive connection
(:class:`~newsletter.delivery.posting.MailSender`), writes what becomes of it to the
send's outcome log by itself (so the record survives the sender's death), and
answers with one JSON frame: ``{"kind": "ok"}``, or the kind of failure (``retry``,
``unknown``, ``rejected``), its reason and any wait SendGrid asked for. It ignores
Ctrl-C (the parent decides what a stop means), holds the poster lock
(``.newsletter/poster.lock``) while it lives, so that a resumed send can wait for
the request it may still be posting, and exits when its stdin closes: if the
sender is killed, it finishes and records the request it is posting, then stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import orjson

from newsletter.delivery.base import DeliveryError, Rejected, RetryLater, Unknown
from newsletter.delivery.posting import ApiHost

_LENGTH = struct.Struct(">I")
_PIPE_SIZE = 1 << 20
_KINDS: dict[str, type[DeliveryError]] = {"retry": RetryLater, "unknown": Unknown, "rejected": Rejected}
GRACE = 30.0
"""Seconds the parent waits beyond the request timeout before it gives up on the child."""


def _write(out: IO[bytes], data: bytes) -> None:
    out.write(_LENGTH.pack(len(data)))
    out.write(data)
    out.flush()


def _read(inp: IO[bytes]) -> bytes | None:
    head = inp.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = inp.read(size)
    return data if len(data) == size else None


class Poster:
    """The parent's side: one child process, one request at a time."""

    def __init__(self, key: str, host: ApiHost, timeout: float, lock: Path | None = None) -> None:
        self.timeout = timeout
        self._busy = False
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter.delivery.poster"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in, self._out = self._proc.stdin, self._proc.stdout
        with contextlib.suppress(OSError, AttributeError):  # Linux: room for a whole body
            fcntl.fcntl(self._in.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        where = {"scheme": host.scheme, "host": host.host, "port": host.port}
        self._send(orjson.dumps({"key": key, "host": where, "timeout": timeout,
                                 "lock": str(lock) if lock else None}))
        self._started = False
        """Whether the child said it started (see :meth:`wait_ready`)."""

    def wait_ready(self) -> None:
        """Wait until the child has started (it starts while the caller goes on). Called
        before the first body: a rate cap is kept by when bodies are handed over, so
        none may wait on the child's start."""
        if self._started:
            return
        try:
            self._answer()
        except Unknown:
            raise RetryLater("the request process did not start") from None
        self._started = True

    def _send(self, data: bytes) -> None:
        try:
            _write(self._in, data)
        except OSError as exc:
            raise RetryLater(f"the request process could not take the request: {exc.strerror}") from None

    @property
    def alive(self) -> bool:
        return not self._in.closed and self._proc.poll() is None

    def submit(self, data: bytes, batch: int, log: Path | None) -> None:
        """Hand a body over (try ``batch`` of the journal, recorded in ``log``); it is
        posted while the caller goes on."""
        assert not self._busy, "one request at a time"
        self.wait_ready()
        self._send(orjson.dumps({"batch": batch, "log": str(log) if log is not None else None}))
        self._send(data)
        self._busy = True

    def _answer(self) -> dict[str, Any]:
        ready, _, _ = select.select([self._out], [], [], self.timeout + GRACE)
        answer = _read(self._out) if ready else None
        if answer is None:
            self.close()
            raise Unknown("the request process stopped before it said what became of the request")
        data: dict[str, Any] = orjson.loads(answer)
        return data

    def result(self) -> None:
        """Wait for the answer to the body submitted last; raise as the provider would."""
        self._busy = False
        data = self._answer()
        kind = data["kind"]
        if kind == "ok":
            return
        if kind == "retry":
            raise RetryLater(data["reason"], data.get("wait"))
        raise _KINDS[kind](data["reason"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._in.close()
        try:
            self._proc.wait(timeout=self.timeout + GRACE)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            self._out.close()


def hold_lock(path: Path) -> int:
    """Take the poster lock (waiting for a request process of a stopped send to finish)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def wait_for_stopped_poster(path: Path, deadline: float) -> bool:
    """Wait (until ``deadline``, a ``time.monotonic()``) for the request process of a
    stopped send to record the request it may still be posting; True once it has."""
    import time

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
    finally:
        os.close(fd)


def main() -> None:
    """The child: post each body it is given, record and answer what became of it."""
    from newsletter.delivery.outcomes import OutcomeLog
    from newsletter.delivery.posting import MailSender, post_recorded

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    config = _read(inp)
    if config is None:
        return
    settings = orjson.loads(config)
    if settings.get("lock"):
        hold_lock(Path(settings["lock"]))
    sender = MailSender(settings["key"], ApiHost(**settings["host"]), float(settings["timeout"]))
    logs: dict[str, OutcomeLog] = {}
    _write(out, orjson.dumps({"kind": "ready"}))
    sender.warm()
    while (head := _read(inp)) is not None and (body := _read(inp)) is not None:
        job = orjson.loads(head)
        answer: dict[str, object] = {"kind": "ok"}
        try:
            log = None
            if job.get("log"):
                log = logs.get(job["log"]) or logs.setdefault(job["log"], OutcomeLog(Path(job["log"])))
            post_recorded(sender, body, log, int(job["batch"]))
        except OSError as exc:  # the outcome log cannot be opened: nothing was sent
            answer = {"kind": "rejected", "reason": f"cannot write the outcome log: {exc.strerror or exc}"}
        except DeliveryError as exc:
            kind = next(k for k, cls in _KINDS.items() if isinstance(exc, cls))
            answer = {"kind": kind, "reason": exc.reason}
            if isinstance(exc, RetryLater):
                answer["wait"] = exc.wait
        try:
            _write(out, orjson.dumps(answer))
        except OSError:
            return


if __name__ == "__main__":
    main()
