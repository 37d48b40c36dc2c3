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
line), then one request body per frame. For each body it posts with the official
``sendgrid`` client, exactly as :meth:`SendGridProvider.send` does, and answers
with one JSON frame: ``{"kind": "ok"}``, or the kind of failure (``retry``,
``unknown``, ``rejected``), its reason and any wait SendGrid asked for. It ignores
Ctrl-C (the parent decides what a stop means) and exits when its stdin closes,
so it never outlives the send.
"""

from __future__ import annotations

import contextlib
import fcntl
import select
import signal
import struct
import subprocess
import sys
from typing import IO, Any

import orjson

from newsletter.delivery.base import DeliveryError, Rejected, RetryLater, Unknown

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

    def __init__(self, key: str, host: str, timeout: float) -> None:
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
        self._send(orjson.dumps({"key": key, "host": host, "timeout": timeout}))
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

    def submit(self, data: bytes) -> None:
        """Hand a body over; it is posted while the caller goes on."""
        assert not self._busy, "one request at a time"
        self.wait_ready()
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


def main() -> None:
    """The child: post each body it is given, answer with what became of it."""
    from newsletter.delivery.posting import post_body
    from sendgrid import SendGridAPIClient

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    config = _read(inp)
    if config is None:
        return
    settings = orjson.loads(config)
    client = SendGridAPIClient(settings["key"], host=settings["host"])
    timeout = float(settings["timeout"])
    _write(out, orjson.dumps({"kind": "ready"}))
    while (body := _read(inp)) is not None:
        answer: dict[str, object] = {"kind": "ok"}
        try:
            post_body(client, body, timeout)
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
