"""Posting one request body to SendGrid's ``/v3/mail/send`` over one kept-alive connection,
and what its answer means for the send loop.

The official ``sendgrid`` client opens a new connection (a TCP and a TLS handshake) for
every request, and its HTTP layer follows a 301, 302 or 303 with a GET that carries the
``Authorization`` header to wherever the redirect points. The hot path therefore posts
with urllib3 (the HTTP library under ``requests``): one connection per send, reused for
every request; redirects are never followed, and an answer that is not 2xx is never
taken for an acceptance. The ``sendgrid`` client stays for SendGrid's other API calls
(see :mod:`newsletter.delivery.api`).

Whoever posts records what became of the request in the send's outcome log
(:mod:`newsletter.delivery.outcomes`), ``started`` just before the first byte
goes out, so that a sender killed meanwhile can be resumed from the truth.

Kept apart from the rest of the SendGrid provider so that the request process
(:mod:`newsletter.delivery.poster`) loads only this and urllib3.
"""

from __future__ import annotations

import http.client
import select
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from newsletter.delivery.base import Rejected, RetryLater, Unknown
from newsletter.delivery.outcomes import OutcomeLog

HOST_ENV = "SENDGRID_API_HOST"
MAIL_SEND = "/v3/mail/send"
_USER_AGENT = "newsletter (urllib3)"


@dataclass(frozen=True, slots=True)
class ApiHost:
    """Where SendGrid's API is: scheme, host and port, checked before any request."""

    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


def error_text(body: bytes | str | None) -> str:
    """SendGrid's own words from an error body (``errors[].message`` with their fields),
    made safe for a terminal: no control characters, at most 500 characters."""
    if not body:
        return "no details given"
    text = ""
    try:
        data = orjson.loads(body)
        parts = []
        for err in data.get("errors", []):
            part = str(err.get("message", "")).strip()
            if err.get("field"):
                part = f"{err['field']}: {part}"
            parts.append(part)
        text = "; ".join(parts)
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        pass
    if not text:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return printable(text)[:500] or "no details given"


def printable(text: str) -> str:
    """``text`` on one line with no control characters (an answer could move the cursor,
    clear the screen or fake a line of our own output)."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def retry_wait(headers: Any, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset``."""
    if headers is None:
        return None
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return None


@dataclass(frozen=True, slots=True)
class Answer:
    """SendGrid's answer to a request that was sent whole."""

    status: int
    message_id: str
    """``X-Message-Id`` of an accepted request (empty otherwise)."""
    reason: str
    wait: float | None = None
    """Seconds SendGrid asked us to wait (a 429's ``Retry-After`` or ``X-RateLimit-Reset``)."""


class MailSender:
    """Posts request bodies to ``/v3/mail/send`` over one connection kept alive between them.

    ``handshakes`` counts the connections opened (one per send when all goes well).
    """

    def __init__(self, key: str, host: ApiHost, timeout: float) -> None:
        self.host = host
        self.timeout = timeout
        self.handshakes = 0
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }
        self._conn: Any = None

    def _connection(self) -> Any:
        """The kept-alive connection, connected; a new one when there is none or the
        server closed it while idle (seen as the socket being readable)."""
        conn = self._conn
        if conn is not None and conn.sock is not None and not _still_open(conn.sock, self.timeout):
            self.close()
            conn = None
        if conn is None:
            from urllib3.connection import HTTPConnection, HTTPSConnection

            if self.host.scheme == "https":
                conn = HTTPSConnection(
                    self.host.host, self.host.port, timeout=self.timeout, ssl_context=ssl.create_default_context()
                )
            else:
                conn = HTTPConnection(self.host.host, self.host.port, timeout=self.timeout)
            self._conn = conn
        if conn.sock is None:
            conn.connect()
            self.handshakes += 1
        return conn

    def warm(self) -> None:
        """Open the connection ahead of the first request (a failure is met again, and
        reported, by that request)."""
        try:
            self._connection()
        except Exception:  # noqa: BLE001 - only a head start; post() reports the real error
            self.close()

    def post(self, data: bytes, started: Callable[[], None] = lambda: None) -> Answer:
        """POST one body and return the answer (any status), calling ``started`` just
        before the first byte of the request is written.

        Raises :class:`RetryLater` when the request certainly did not reach SendGrid
        whole (no connection, or the connection failed while it was being written) and
        :class:`Unknown` when it did but no answer came.
        """
        from urllib3.exceptions import HTTPError as Urllib3Error
        from urllib3.exceptions import ReadTimeoutError

        failures = (OSError, http.client.HTTPException, Urllib3Error)
        try:
            conn = self._connection()
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise Rejected(
                f"SendGrid's TLS certificate is not trusted ({exc.verify_message}); "
                "nothing was sent over an unverified connection"
            ) from None
        except failures as exc:
            self.close()
            raise RetryLater(f"could not reach SendGrid: {_reason(exc)}") from None
        started()
        try:
            conn.request("POST", MAIL_SEND, body=data, headers=self._headers)
        except failures as exc:
            # the request was not written whole: SendGrid cannot have acted on it
            self.close()
            raise RetryLater(f"the connection to SendGrid failed while sending: {_reason(exc)}") from None
        try:
            response = conn.getresponse()
            body = response.data
        except (TimeoutError, ReadTimeoutError):
            self.close()
            raise Unknown(f"no answer within {self.timeout:g} s after the request was sent") from None
        except failures as exc:
            self.close()
            raise Unknown(f"connection lost after the request was sent: {_reason(exc)}") from None
        status = int(response.status)
        headers = response.headers
        if headers.get("Connection", "").lower() == "close" or not 200 <= status < 300:
            self.close()
        if 200 <= status < 300:
            return Answer(status, printable(headers.get("X-Message-Id", ""))[:100], "")
        if 300 <= status < 400:
            where = printable(headers.get("Location", ""))[:200] or "nowhere"
            return Answer(
                status,
                "",
                f"SendGrid's API host answered {status} with a redirect to {where}: "
                f"not followed, nothing sent (set {HOST_ENV} to the final address)",
            )
        return Answer(status, "", error_text(body), retry_wait(headers) if status == 429 else None)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass


def _still_open(sock: Any, timeout: float) -> bool:
    """Whether an idle kept-alive connection is still open. Readable means the server
    closed it (or sent something unasked), except over TLS 1.3, where the session tickets
    that follow the handshake also make it readable: those are read here and kept."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return True
    if not isinstance(sock, ssl.SSLSocket):
        return False
    sock.setblocking(False)
    try:
        sock.recv(1)  # data or b"" (closed): either way not a connection to reuse
    except ssl.SSLWantReadError:
        return True  # only TLS housekeeping was waiting
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)
    return False


def raise_for(answer: Answer) -> None:
    """Nothing for a 2xx answer; else :class:`RetryLater` (429, 5xx) or :class:`Rejected`."""
    status = answer.status
    if 200 <= status < 300:
        return
    if status == 429:
        raise RetryLater(f"SendGrid rate limit (429): {answer.reason}", answer.wait)
    if status >= 500:
        raise RetryLater(f"SendGrid server error ({status}): {answer.reason}")
    if 300 <= status < 400:
        raise Rejected(answer.reason)
    raise Rejected(f"SendGrid refused the request ({status}): {answer.reason}")


def _reason(exc: object) -> str:
    return printable(str(exc)) or type(exc).__name__


def post_recorded(sender: MailSender, data: bytes, log: OutcomeLog | None, batch: int) -> Answer:
    """:meth:`MailSender.post` with each step written to the send's outcome log (when
    there is one: test sends and sandbox checks have none); raises as :func:`raise_for`
    for anything but a 2xx answer."""
    if log is None:
        answer = sender.post(data)
        raise_for(answer)
        return answer

    def started() -> None:
        log.started(batch)

    try:
        answer = sender.post(data, started)
    except OSError as exc:  # the log could not be written: nothing may be sent unrecorded
        raise Rejected(f"cannot write the outcome log {log.path}: {exc.strerror or exc}; nothing was sent") from None
    except (RetryLater, Rejected) as exc:
        log.not_sent(batch, exc.reason)
        raise
    except Unknown as exc:
        log.lost(batch, exc.reason)
        raise
    log.answered(batch, answer.status, answer.message_id, answer.reason)
    raise_for(answer)
    return answer
