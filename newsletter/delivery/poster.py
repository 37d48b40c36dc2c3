"""Building and posting SendGrid requests in a second process while the sender reads on.

A big send spends its time in two places that need not wait for each other:
building a request body (reading the list, the journal, JSON) and the request
itself (the HTTP client's own work, then waiting for SendGrid's answer). In one
process the two take turns; threads would too, since both need the interpreter
lock. So the real send starts this small process (``python -m
newsletter.delivery.poster``), which builds each request body from the batch's
journal rows (the same bytes the sender would build: :mod:`newsletter.delivery.bodies`)
and posts it, while the sender reads the list and keeps the journal. The sender
asks for a body to be built as soon as it has read the batch, and hands the request
over only once the journal holds the batch as ``in_flight``. Only one request is
ever in flight, so the journal means what it did before.

The child reads frames from its stdin (4-byte big-endian length, then the bytes):
first its settings as JSON (the key among them, and in a body spec the project's
secret: neither ever appears on a command line). Then, to build a body, a JSON frame ``{"build": n}`` (with ``"spec": true``
and a frame with the message's body spec when the message is new) and a frame with
the batch's rows as JSON; only the body built last is kept. To post a request, a
JSON frame with its batch number and outcome log, and either ``"post": n`` (the body
built as ``n``) or a frame with the body itself. It posts each body over one kept-alive connection
(:class:`~newsletter.delivery.posting.MailSender`), writes what becomes of it to the
send's outcome log by itself (so the record survives the sender's death), and
answers with one JSON frame: ``{"kind": "ok"}``, or the kind of failure (``retry``,
``unknown``, ``rejected``), its reason and any wait SendGrid asked for. It ignores
Ctrl-C (the parent decides what a stop means), holds the poster lock
(``.newsletter/poster.lock``) while it lives, so that a resumed send can wait for
the request it may still be posting, and exits when its stdin closes: if the
sender is killed, it finishes and records the request it is posting, then stops.

Speed code: overlaps building and posting a SendGrid send's requests. Plain twin: the
sender building and posting each body itself (``background=False``); the bodies must be
the same bytes, held equal by
``tests/test_delivery_poster.py::test_the_body_built_by_the_request_process_is_the_senders_byte_for_byte``.
Figures: docs/performance.md (``bench/``).
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
from newsletter.delivery.bodies import RowsBody
from newsletter.delivery.outcomes import OutcomeLog
from newsletter.delivery.posting import ApiHost, MailSender, post_recorded

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
        self._send(orjson.dumps({"key": key, "host": where, "timeout": timeout, "lock": str(lock) if lock else None}))
        self._started = False
        """Whether the child said it started (see :meth:`wait_ready`)."""
        self._spec: bytes | None = None
        """The body spec the child has (bodies built from rows follow it)."""
        self._built = 0
        """Bodies the child was asked to build (:meth:`build`)."""

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

    def build(self, rows: bytes, spec: bytes) -> int:
        """Have the child build a request body from a batch's journal rows (JSON) now, by
        ``spec`` (:func:`~newsletter.delivery.bodies.body_spec`, sent over once per
        message), while the caller goes on; returns the number to :meth:`submit` it by.
        The child keeps only the body built last."""
        self.wait_ready()
        self._built += 1
        head: dict[str, object] = {"build": self._built}
        new_spec = spec is not self._spec
        if new_spec:
            head["spec"] = True
        self._send(orjson.dumps(head))
        if new_spec:
            self._send(spec)
            self._spec = spec
        self._send(rows)
        return self._built

    def submit(self, body: bytes | int, batch: int, log: Path | None) -> None:
        """Hand a request over (try ``batch`` of the journal, recorded in ``log``): its body,
        or the number of a body the child built (:meth:`build`). It is posted while the
        caller goes on."""
        assert not self._busy, "one request at a time"
        self.wait_ready()
        head: dict[str, object] = {"batch": batch, "log": str(log) if log is not None else None}
        if isinstance(body, int):
            head["post"] = body
        self._send(orjson.dumps(head))
        if not isinstance(body, int):
            self._send(body)
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

    def leave(self) -> None:
        """Close the pipes and go without waiting: the process ends once its request is
        answered and recorded."""
        for pipe in (self._in, self._out):
            with contextlib.suppress(OSError):
                pipe.close()

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


def _built(builder: RowsBody | None, rows: bytes) -> bytes | RetryLater:
    """The body for a batch's rows, or why it could not be built here (then nothing is
    sent: the sender builds it itself and tries again)."""
    if builder is None:
        return RetryLater("the request process was given rows before their message")
    try:
        return builder.build(orjson.loads(rows))
    except Exception as exc:  # noqa: BLE001 - reported to the sender, which builds the body itself
        return RetryLater(f"the request process could not build the request ({type(exc).__name__}: {exc})")


def _post(sender: MailSender, job: dict[str, Any], body: bytes | RetryLater, logs: dict[str, OutcomeLog]) -> dict[str, object]:
    """Post one request, recording what becomes of it; the answer for the sender."""
    try:
        if isinstance(body, RetryLater):
            raise body
        log = None
        if job.get("log"):
            log = logs.get(job["log"]) or logs.setdefault(job["log"], OutcomeLog(Path(job["log"])))
        post_recorded(sender, body, log, int(job["batch"]))
    except OSError as exc:  # the outcome log cannot be opened: nothing was sent
        return {"kind": "rejected", "reason": f"cannot write the outcome log: {exc.strerror or exc}"}
    except DeliveryError as exc:
        kind = next(k for k, cls in _KINDS.items() if isinstance(exc, cls))
        answer: dict[str, object] = {"kind": kind, "reason": exc.reason}
        if isinstance(exc, RetryLater):
            answer["wait"] = exc.wait
        return answer
    return {"kind": "ok"}


def main() -> None:
    """The child: build and post each request it is given, record and answer what became
    of it, one thing at a time, in the order asked. The sender asks for the next body to
    be built while a request is out, so it is built as soon as that request is answered,
    while the sender records the answer and marks the next batch in flight. (A second
    thread building during the request slowed the request more than it gained: each
    return from the network waited for the builder to let go of the interpreter.) When
    the sender's end closes, the request being posted is finished and recorded first."""
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
    builder: RowsBody | None = None
    built: dict[int, bytes | RetryLater] = {}
    while (head := _read(inp)) is not None:
        job: dict[str, Any] = orjson.loads(head)
        if job.get("spec"):
            if (spec := _read(inp)) is None:
                return
            builder = RowsBody(spec)
        if "build" in job:
            if (rows := _read(inp)) is None:
                return
            built = {int(job["build"]): _built(builder, rows)}  # only the last is kept
            continue
        body: bytes | RetryLater | None
        if "post" in job:
            body = built.pop(int(job["post"]), None) or RetryLater(
                "the request process no longer had the request's body; nothing was sent"
            )
        elif (body := _read(inp)) is None:
            return
        try:
            _write(out, orjson.dumps(_post(sender, job, body, logs)))
        except OSError:
            return


if __name__ == "__main__":
    main()
