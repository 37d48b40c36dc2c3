"""Running the real preview server for tests: ``python -m newsletter preview --port 0``.

The server runs as a subprocess in a copy of the example project, on a port the
operating system picks; the URL is read from the line it prints once it is ready.
Requests are made with ``http.client`` so that the Host header and the request
target go out exactly as written (no client-side normalisation of ``..``).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.conftest import REPO

EXAMPLE_SLUG = "2024-06-june-team-update"
EXAMPLE_TITLE = "June Team Update: Building on meaningful conversations"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Running:
    """A preview server started by :func:`start`."""

    proc: subprocess.Popen[str]
    url: str
    root: Path
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def get(self, target: str, host: str | None = None, method: str = "GET", timeout: float = 10) -> Response:
        """One request with exactly this target and Host header (default: 127.0.0.1:port)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            if host != "":
                conn.putheader("Host", host if host is not None else f"127.0.0.1:{self.port}")
            conn.endheaders()
            resp = conn.getresponse()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def json(self, target: str) -> dict[str, Any]:
        resp = self.get(target)
        assert resp.status == 200, (target, resp.status, resp.text)
        data = json.loads(resp.body)
        assert isinstance(data, dict), data
        return data

    def wait_for(self, target: str, predicate: Callable[[dict[str, Any]], object], timeout: float = 5.0) -> dict[str, Any]:
        """Poll a JSON endpoint until ``predicate(data)`` holds; the data that satisfied it."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.json(target)
            if predicate(data):
                return data
            if time.monotonic() > deadline:
                raise AssertionError(f"{target} did not reach the expected state in {timeout}s: {str(data)[:600]}")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _pump(stream: IO[str], sink: list[str], lines: queue.Queue[str] | None) -> None:
    for line in stream:
        sink.append(line)
        if lines is not None:
            lines.put(line)


def start(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 20) -> Running:
    """Start the preview in ``root`` and return once it says where it is serving."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    full_env["PYTHONPATH"] = str(REPO)
    full_env["PYTHONUNBUFFERED"] = "1"
    full_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "preview", "--port", "0", *args],
        cwd=root,
        env=full_env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,  # Ctrl-C works in the preview even if the test runner ignores it
    )
    running = Running(proc, "", root)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, running.stdout, lines), daemon=True).start()
    threading.Thread(target=_pump, args=(proc.stderr, running.stderr, None), daemon=True).start()
    deadline = time.monotonic() + timeout
    while not running.url:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if time.monotonic() > deadline or not running.alive():
                running.stop()
                raise AssertionError(f"the preview did not start: {running.stdout} {running.stderr}") from None
            continue
        m = re.search(r"Serving the preview at (http://\S+)", line)
        if m:
            running.url = m.group(1)
    return running


@contextmanager
def serving(root: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    """:func:`start`, then stop; a block that ends normally also requires that the server
    is still alive and never printed a traceback."""
    running = start(root, *args, env=env)
    try:
        yield running
    except BaseException:
        running.stop()
        raise
    assert running.alive(), f"the server died: {running.stderr}"
    running.stop()
    assert "Traceback" not in "".join(running.stderr)


def raw_get(address: str, port: int, path: str = "/api/issues") -> bytes:
    """One HTTP/1.0 GET over a bare socket to ``address`` (any loopback, IPv6 too); the whole reply."""
    host = f"[{address}]" if ":" in address else address
    with socket.create_connection((address, port), timeout=5) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return reply


def stopped_send(project: Path) -> None:
    """A send of the example that stopped with three people still to go (pending)."""
    from newsletter.delivery.journal import Journal

    journal = Journal.open(project)
    try:
        send = journal.create(
            key=EXAMPLE_SLUG, slug=EXAMPLE_SLUG, provider="smtp", list_path="subscribers.csv", content_hash="x", eligible=0
        )
        journal.add_pending(send, [(i, f"p{i}@example.org", "P", str(i), None) for i in (1, 2, 3)])
        journal.set_loaded(send)
    finally:
        journal.close()
