"""Misbehaving servers on 127.0.0.1 for the bounds tests: one that accepts and never
answers, one whose answer never ends, one that repeats the same page for ever."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Silent:
    """Accepts every connection, reads what comes, never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = 0
        self.requests = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        try:
            while data := conn.recv(65536):
                if b"\r\n\r\n" in data:
                    self.requests += 1
        except OSError:
            pass

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self._held:
            conn.close()


class Scripted:
    """An HTTP/1.1 server that answers every request with ``answer(handler)``; it counts
    requests and connections."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        outer = self
        self.requests = 0
        self.connections = 0
        self.sent = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def _any(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length", "0") or 0)
                if length:
                    self.rfile.read(length)
                try:
                    answer(self)
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def __enter__(self) -> Scripted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def endless(handler: BaseHTTPRequestHandler, *, declared: bool = False) -> None:
    """A 200 answer that never ends (chunks of 1 MB of JSON-looking text), or one that
    declares 300 MB up front."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if declared:
        handler.send_header("Content-Length", str(300 * 2**20))
    else:
        handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b"[" + b'"x",' * (2**18 - 1)
    for _ in range(300):
        if declared:
            handler.wfile.write(chunk)
        else:
            handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    handler.close_connection = True
