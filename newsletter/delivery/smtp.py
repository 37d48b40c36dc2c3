"""The ``smtp`` provider: the standard library's smtplib, connections reused, a few in parallel.

The server comes from ``SMTP_URL`` (``smtp://user:pass@host:587?starttls=1``, or
``smtps://`` for TLS from the start). Each connection sends many messages; a batch
is shared between up to ``delivery.smtp.connections`` of them. Whether a lost
connection may have delivered a message is decided by whether its final ``.`` had
been written: before it, the message is retried; after it, it is ``unknown``.
"""

from __future__ import annotations

import os
import queue
import smtplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.delivery.base import BatchResult, Message, Recipient
from newsletter.delivery.mime import MimeBuilder
from newsletter.errors import UsageError
from newsletter.settings import SmtpOptions

URL_ENV = "SMTP_URL"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class SmtpUrl:
    host: str
    port: int
    user: str
    password: str
    starttls: bool
    tls: bool

    def __repr__(self) -> str:  # never show the password
        return f"SmtpUrl(host={self.host!r}, port={self.port}, user={self.user!r})"


def parse_smtp_url(text: str) -> SmtpUrl:
    """Read ``SMTP_URL``; errors never repeat the value (it may hold a password)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise UsageError(f"{URL_ENV} is not a valid URL (expected smtp://user:pass@host:587?starttls=1)") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise UsageError(
            f"{URL_ENV} must look like smtp://user:pass@host:587?starttls=1 (or smtps://host:465)"
        )
    query = parse_qs(parts.query)
    tls = parts.scheme == "smtps"
    starttls = (query.get("starttls", ["0"])[0].lower() in _TRUE) and not tls
    return SmtpUrl(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=starttls,
        tls=tls,
    )


def smtp_url_from_env() -> SmtpUrl:
    text = os.environ.get(URL_ENV, "").strip()
    if not text:
        raise UsageError(f"--provider smtp needs {URL_ENV} (e.g. smtp://user:pass@host:587?starttls=1)")
    return parse_smtp_url(text)


class _Smtp(smtplib.SMTP):
    """An SMTP connection that remembers whether the current message's final ``.`` went out."""

    body_sent = False

    def send(self, s: Any) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.body_sent = True


class _SmtpTls(_Smtp, smtplib.SMTP_SSL):
    pass


Conn = _Smtp | _SmtpTls


class SmtpProvider:
    """Sends each recipient their own message over a few reused SMTP connections."""

    name = "smtp"
    max_batch = 100

    def __init__(self, url: SmtpUrl, options: SmtpOptions, *, subject_prefix: str = "") -> None:
        self.url = url
        self.options = options
        self.subject_prefix = subject_prefix
        self._idle: queue.LifoQueue[Conn] = queue.LifoQueue()
        self._pool = ThreadPoolExecutor(options.connections, thread_name_prefix="smtp")
        self._builder: MimeBuilder | None = None

    def _connect(self) -> Conn:
        context = ssl.create_default_context()
        conn: Conn
        if self.url.tls:
            conn = _SmtpTls(self.url.host, self.url.port, timeout=self.options.timeout, context=context)
        else:
            conn = _Smtp(self.url.host, self.url.port, timeout=self.options.timeout)
        try:
            if self.url.starttls:
                conn.starttls(context=context)
            if self.url.user:
                conn.login(self.url.user, self.url.password)
        except BaseException:
            _close(conn)
            raise
        return conn

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> None:
        return None  # each message is built where it is sent

    def send(self, message: Message, recipients: Sequence[Recipient], prepared: object = None) -> BatchResult:
        if self._builder is None or self._builder.message is not message:
            self._builder = MimeBuilder(message, subject_prefix=self.subject_prefix)
        n = min(self.options.connections, len(recipients)) or 1
        chunks = [recipients[i::n] for i in range(n)]
        result = BatchResult()
        for part in self._pool.map(self._send_chunk, chunks):
            result.merge(part)
        return result

    def _send_chunk(self, chunk: Sequence[Recipient]) -> BatchResult:
        assert self._builder is not None
        builder = self._builder
        sender = builder.message.sender.email
        out = BatchResult()
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            try:
                conn = self._connect()
            except smtplib.SMTPAuthenticationError as exc:
                out.retry.update((r.seq, "not tried: SMTP login refused") for r in chunk)
                out.stop = f"the SMTP server refused the login ({exc.smtp_code})"
                return out
            except ssl.SSLCertVerificationError as exc:  # trying again cannot help
                out.retry.update((r.seq, "not tried: certificate not trusted") for r in chunk)
                out.stop = (f"the SMTP server's TLS certificate is not trusted ({exc.verify_message}); "
                            "nothing was sent over an unverified connection")
                return out
            except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH, as SMTP_URL asks
                out.retry.update((r.seq, "not tried: the SMTP server lacks what SMTP_URL asks for") for r in chunk)
                out.stop = (f"the SMTP server cannot do what SMTP_URL asks for: {exc} "
                            "Nothing was sent (never in the clear when STARTTLS is asked for)")
                return out
            except (smtplib.SMTPException, OSError) as exc:
                out.retry.update((r.seq, f"cannot connect to the SMTP server: {exc}") for r in chunk)
                return out
        for i, recipient in enumerate(chunk):
            data = builder.build(recipient)
            conn.body_sent = False
            try:
                conn.sendmail(sender, [recipient.email], data)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients.get(recipient.email, (550, b"refused"))
                reason = f"{code} {_text(text)}"
                (out.failed if code >= 500 else out.retry)[recipient.seq] = f"SMTP server refused: {reason}"
            except smtplib.SMTPSenderRefused as exc:
                reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                out.retry.update((r.seq, "not tried: sender refused") for r in chunk[i:])
                if exc.smtp_code >= 500:
                    out.stop = f"the SMTP server refused the sender address {sender}: {reason}"
                _reset(conn)
                self._idle.put(conn)
                return out
            except smtplib.SMTPDataError as exc:
                reason = f"SMTP server refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                (out.failed if exc.smtp_code >= 500 else out.retry)[recipient.seq] = reason
                _reset(conn)
            except (smtplib.SMTPException, OSError) as exc:
                where = "after" if conn.body_sent else "before"
                reason = f"SMTP connection lost {where} the message was sent: {exc}"
                (out.unknown if conn.body_sent else out.retry)[recipient.seq] = reason
                for rest in chunk[i + 1 :]:
                    out.retry[rest.seq] = "not tried: the SMTP connection was lost"
                _close(conn)
                return out
            else:
                out.accepted.append(recipient.seq)
        self._idle.put(conn)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _close(conn)


def _reset(conn: Conn) -> None:
    try:
        conn.rset()
    except (smtplib.SMTPException, OSError):
        pass


def _close(conn: Conn) -> None:
    try:
        conn.close()
    except OSError:
        pass


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
