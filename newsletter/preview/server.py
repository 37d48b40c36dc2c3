"""The preview's HTTP server: the standard library's ``ThreadingHTTPServer``.

Safety, by construction rather than by filtering:

* It listens on 127.0.0.1 unless told otherwise.
* Every request whose ``Host`` header is not ``localhost``, ``127.0.0.1`` or
  ``[::1]`` with the server's port (or the address given with ``--host``) gets 403:
  a web page that rebinds its own domain name to 127.0.0.1 cannot read the preview.
* No URL names a file. The routes are fixed; an issue is looked up by its slug
  among the issues already built; the page's own files are read into memory at
  start and looked up by name. ``..``, encoded or not, matches nothing.
* Only GET and HEAD exist; nothing changes on the server through a request.
* Responses are made from built snapshots only; nothing reads the environment, so
  ``SENDGRID_API_KEY`` or an ``SMTP_URL`` password cannot end up in one.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.preview import sends, views
from newsletter.preview.readers import reader_language
from newsletter.preview.site import IssueBuild, Site, Snapshot

KEEPALIVE_SECONDS = 15.0
"""An idle event stream sends a comment this often (so a closed tab is noticed)."""
IDLE_SECONDS = 15.0
"""A connection that sends nothing (or takes no data) for this long is closed: each
open connection holds a thread."""
MAX_STREAMS = 64
"""Event streams open at once (one per preview tab); the next is answered 503: each holds a thread."""
BACKLOG = 256
"""Connections the system queues for the server while its threads are busy (a page
load opens several at once, and a browser's reloads many more)."""

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src https: http: data:; font-src https: data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")


def _static_files() -> dict[str, tuple[bytes, str]]:
    """The page's files, by name, read once: a URL can only ever pick one of these."""
    files: dict[str, tuple[bytes, str]] = {}
    for entry in resources.files("newsletter.preview").joinpath("static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _TYPES:
            files[entry.name] = (entry.read_bytes(), _TYPES[suffix])
    return files


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class PreviewServer(ThreadingHTTPServer):
    """Serves one :class:`Site`; see the module docstring for what it refuses."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = BACKLOG

    def __init__(self, site: Site, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), PreviewHandler)
        self.site = site
        self.static = _static_files()
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        self.port: int = self.server_address[1]
        names = list(LOOPBACK_NAMES)
        if host not in WILDCARDS and host.lower() not in ("127.0.0.1", "::1", "localhost"):
            names.append(_bracketed(host.lower()))
        self.allowed_hosts = frozenset(f"{name}:{self.port}" for name in names) | (
            frozenset(names) if self.port == 80 else frozenset()
        )
        shown = "127.0.0.1" if host in WILDCARDS else _bracketed(host)
        self.url = f"http://{shown}:{self.port}/"

    def host_allowed(self, host: str | None) -> bool:
        return host is not None and host.strip().lower() in self.allowed_hosts

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (mid-answer, or before its 400) is no error of ours: quiet."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = "newsletter-preview"
    sys_version = ""
    timeout = IDLE_SECONDS

    def parse_request(self) -> bool:
        """As the standard library's, but an HTTP/0.9 request line (``GET /``, no version)
        is answered with 400 at once instead of waiting for headers that never come."""
        raw: bytes = getattr(self, "raw_requestline", b"")  # set by handle_one_request before this call
        self.requestline = str(raw, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) == 2 or (len(words) == 3 and words[2] == "HTTP/0.9"):
            self.command, self.path = words[:2]
            self.request_version = "HTTP/1.0"
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST, explain="HTTP/0.9 is not supported: send HTTP/1.0 or 1.1")
            return False
        return super().parse_request()

    def do_GET(self) -> None:  # noqa: N802 (the standard library's naming)
        self._handle(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(send_body=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: a preview server should not fill the terminal with request lines."""

    # --- routing -------------------------------------------------------------------

    def _handle(self, *, send_body: bool) -> None:
        self._send_body = send_body
        try:
            self._route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug of ours: answer 500, keep serving
            traceback.print_exc(file=sys.stderr)
            self._plain(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (details in the terminal)")

    def _route(self) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self._plain(HTTPStatus.FORBIDDEN, "Forbidden: this preview answers only to localhost.")
            return
        if not self.path.startswith("/"):
            self._not_found()
            return
        url = urlsplit(self.path)
        try:
            path = unquote(url.path, errors="strict")
        except UnicodeDecodeError:
            self._not_found()
            return
        parts = path.split("/")[1:]
        if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            self._not_found()
            return
        snapshot = self.server.site.snapshot
        match parts:
            case [""]:
                self._page()
            case ["issues", slug] if snapshot.issue(slug) is not None:
                self._page()
            case ["static", name] if name in self.server.static:
                body, content_type = self.server.static[name]
                self._send(HTTPStatus.OK, body, content_type)
            case ["api", "issues"]:
                self._json(views.index(snapshot, self._sends(snapshot, snapshot.issues)))
            case ["api", "issues", slug] if (build := snapshot.issue(slug)) is not None:
                reader = parse_qs(url.query).get("as", ["sample"])[0]
                language = parse_qs(url.query).get("lang", [""])[0] or reader_language(build, reader)
                if language:  # one of the issue's languages (else its default)
                    build = self.server.site.in_language(snapshot, build, language)
                send = self._sends(snapshot, (build,))[build.slug]
                self._json(
                    views.issue(snapshot, build, reader, self.server.site.web_edition(snapshot, build), send)
                    | {"results": self._results(slug), "approval": self._approval(snapshot, build)}
                )
            case ["events"]:
                self._events()
            case _:
                self._not_found()

    def _sends(self, snapshot: Snapshot, builds: tuple[IssueBuild, ...]) -> dict[str, sends.SendState]:
        """Where each issue's send stands, from the journal (read now: a send changes no issue file)."""
        timezone = snapshot.settings.timezone if snapshot.settings is not None else "UTC"
        return sends.states(self.server.site.root, {b.slug: b.file for b in builds}, timezone)

    def _approval(self, snapshot: Snapshot, build: IssueBuild) -> dict[str, Any] | None:
        """Where the issue's approval stands (``approvals/<slug>.json``, read now: not watched)."""
        if snapshot.settings is None or build.rendered is None or build.issue_file is None:
            return None
        from newsletter.approval.policy import status
        from newsletter.errors import NewsletterError
        from newsletter.project import Project

        try:
            found = status(Project(self.server.site.root, snapshot.settings), build.issue_file, build.rendered)
        except NewsletterError as exc:
            return {"state": "not-approved", "policy": snapshot.settings.approval, "text": exc.format_message()}
        return {"state": found.state, "policy": found.policy, "text": found.text, "details": found.details}

    def _results(self, slug: str) -> dict[str, Any] | None:
        """The issue's saved results (``newsletter results``), shown with a small chart."""
        from newsletter.feedback.results import read

        return read(self.server.site.root, slug)

    # --- responses -----------------------------------------------------------------

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**_COMMON_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self._send_body:
            self.wfile.write(body)

    def _plain(self, status: HTTPStatus, text: str) -> None:
        self._send(status, (text + "\n").encode("utf-8"), "text/plain; charset=utf-8")

    def _not_found(self) -> None:
        self._plain(HTTPStatus.NOT_FOUND, "Not found.")

    def _page(self) -> None:
        body, content_type = self.server.static["index.html"]
        self._send(HTTPStatus.OK, body, content_type, {"Content-Security-Policy": _PAGE_CSP})

    def _json(self, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._send(HTTPStatus.OK, body, "application/json; charset=utf-8")

    def _events(self) -> None:
        """Server-sent events: the snapshot's version now, then each time it changes."""
        if not self.server.streams.acquire(blocking=False):
            self.close_connection = True
            self._plain(
                HTTPStatus.SERVICE_UNAVAILABLE, f"too many open preview tabs ({MAX_STREAMS}): close some and reload this one"
            )
            return
        try:
            self._stream()
        finally:
            self.server.streams.release()

    def _stream(self) -> None:
        site = self.server.site
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Connection", "close")
        for name, value in _COMMON_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        if not self._send_body:
            return
        version = site.snapshot.version
        self._event(f"retry: 1000\nevent: version\ndata: {version}\n\n")
        while not site.closed:
            snapshot = site.wait(version, KEEPALIVE_SECONDS)
            if snapshot.version != version:
                version = snapshot.version
                self._event(f"event: version\ndata: {version}\n\n")
            else:
                self._event(": still here\n\n")

    def _event(self, text: str) -> None:
        self.wfile.write(text.encode("utf-8"))
        self.wfile.flush()
