"""Where SendGrid is and how we talk to it: the key and host from the environment, checked
before anything is sent, and the official client for SendGrid's API calls other than
mail send (suppressions, batches, statistics), made so that it never follows a redirect,
waits at most its timeout for an answer, reads at most :data:`ANSWER_LIMIT` bytes of one,
and keeps one connection open for all its calls (as the mail send does).

The key comes only from ``SENDGRID_API_KEY``; it is handed to the client and never
printed or logged.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import ssl
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from newsletter.delivery.posting import HOST_ENV, ApiHost, _still_open

__all__ = ["HOST_ENV", "KEY_ENV", "ApiHost", "api_host", "api_key", "client", "is_loopback", "parse_api_host"]
from newsletter.errors import UsageError

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

KEY_ENV = "SENDGRID_API_KEY"
DEFAULT_HOST = "https://api.sendgrid.com"
TIMEOUT = 30.0
"""Seconds one API call waits for its whole answer (``delivery.sendgrid.timeout``)."""
ANSWER_LIMIT = 16 * 1024 * 1024
"""The largest answer read (a page of a suppression list is about 100 kB)."""


def api_key() -> str:
    return os.environ.get(KEY_ENV, "").strip()


def parse_api_host(text: str) -> ApiHost:
    """``SENDGRID_API_HOST`` as an :class:`ApiHost`, or a :class:`UsageError` saying what is
    wrong with it. ``http://`` is accepted only for a loopback address (a local test
    server): the key is never sent in the clear over a network."""
    value = text.strip().rstrip("/") or DEFAULT_HOST
    example = "e.g. https://api.eu.sendgrid.com"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise UsageError(f"{HOST_ENV} is not a valid URL ({example}); nothing was sent") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{HOST_ENV} must start with https:// ({example}); nothing was sent")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"{HOST_ENV} must be only the scheme and host ({example}); nothing was sent")
    host = parts.hostname
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(
            f"{HOST_ENV} uses http:// for a host that is not this machine: the API key would "
            "cross the network unencrypted; use https:// (nothing was sent)"
        )
    return ApiHost(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))


def api_host() -> ApiHost:
    """The API host of ``SENDGRID_API_HOST`` (default: SendGrid's public API)."""
    return parse_api_host(os.environ.get(HOST_ENV, ""))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AnswerTooLarge(http.client.HTTPException):
    """An answer longer than :data:`ANSWER_LIMIT`: not read further."""


class _Answer:
    """An answer read whole, in the shape the official client reads (``urllib``'s)."""

    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.code = status
        self.reason = reason
        self.hdrs = headers
        self._body = body

    def getcode(self) -> int:
        return self.code

    def read(self) -> bytes:
        return self._body

    def info(self) -> http.client.HTTPMessage:
        return self.hdrs


class _Connection:
    """One kept-alive connection to the API host for every call of one client. Each call
    must be answered whole within ``timeout`` seconds, in at most :data:`ANSWER_LIMIT`
    bytes; a redirect is an answer like any other, never followed."""

    def __init__(self, host: ApiHost, timeout: float) -> None:
        self.host = host
        self.timeout = timeout
        self.opened = 0
        """Connections opened (one per client while the server keeps it alive)."""
        self._conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        conn = self._conn
        if conn is not None and conn.sock is not None and not _still_open(conn.sock, self.timeout):
            self.close()
            conn = None
        if conn is None:
            if self.host.scheme == "https":
                conn = http.client.HTTPSConnection(
                    self.host.host, self.host.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(self.host.host, self.host.port, timeout=self.timeout)
            self._conn = conn
            conn.connect()
            self.opened += 1
        return conn

    def request(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> _Answer:
        deadline = time.monotonic() + self.timeout
        try:
            conn = self._open()
            conn.request(method, target, body=body, headers=headers)
            _time_left(conn, deadline)
            response = conn.getresponse()
            length = response.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > ANSWER_LIMIT:
                raise AnswerTooLarge(f"an answer of {int(length):,} bytes (more than {ANSWER_LIMIT // 2**20} MB)")
            chunks: list[bytes] = []
            size = 0
            while True:
                _time_left(conn, deadline)
                chunk = response.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > ANSWER_LIMIT:
                    raise AnswerTooLarge(f"an answer of more than {ANSWER_LIMIT // 2**20} MB")
                chunks.append(chunk)
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return _Answer(response.status, response.reason, response.msg, b"".join(chunks))

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __del__(self) -> None:  # a client dropped with its connection open closes it
        self.close()


def _time_left(conn: http.client.HTTPConnection, deadline: float) -> None:
    """Let the next read wait only until ``deadline``; a :class:`TimeoutError` once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    if conn.sock is not None:
        conn.sock.settimeout(left)


def client(key: str, host: ApiHost, timeout: float = TIMEOUT) -> SendGridAPIClient:
    """The official client for ``host`` over one kept-alive connection (:class:`_Connection`):
    a 3xx is raised as the client's ``HTTPError``, like any other answer that is not 2xx."""
    import python_http_client
    from python_http_client.exceptions import handle_error
    from sendgrid import SendGridAPIClient

    connection = _Connection(host, timeout)

    class SafeClient(python_http_client.Client):  # type: ignore[misc]
        def _build_client(self, name: str | None = None) -> SafeClient:
            url_path = self._url_path + [name] if name else self._url_path
            return SafeClient(
                host=self.host,
                version=self._version,
                request_headers=self.request_headers,
                url_path=url_path,
                append_slash=self.append_slash,
                timeout=self.timeout,
            )

        def _make_request(self, opener: Any, request: Any, timeout: float | None = None) -> Any:
            answer = connection.request(request.get_method(), request.selector, request.data, dict(request.header_items()))
            if not 200 <= answer.code < 300:
                raise handle_error(answer)
            return answer

    sg = SendGridAPIClient(key, host=host.url)
    sg.client = SafeClient(host=host.url, request_headers=sg._default_headers, version=3, timeout=timeout)
    sg.connection = connection
    return sg
