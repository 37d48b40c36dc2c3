"""The ``smtp`` provider: the standard library's smtplib, connections reused, a few in parallel.

The server comes from ``SMTP_URL`` (``smtp://user:pass@host:587?starttls=1``, or
``smtps://`` for TLS from the start). Each connection sends many messages; a batch
is shared between up to ``delivery.smtp.connections`` of them. Whether a lost
connection may have delivered a message is decided by whether its final ``.`` had
been written: before it, the message is retried; after it, it is ``unknown``. In a
recorded send each message's start (before its first byte) and end go to
the send's outcome log, so a stopped send leaves at most the messages on the wire
``unknown``. An internationalised domain goes out in its ASCII form; a non-ASCII
local part needs the server's SMTPUTF8, and without it that recipient fails with
the reason. A recipient the server refuses fails with its reply (5xx) or is tried
again (4xx): :mod:`newsletter.delivery.refusals`.
"""

from __future__ import annotations

import os
import queue
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.delivery import refusals
from newsletter.delivery.api import is_loopback
from newsletter.delivery.base import Attempt, BatchResult, Message, ProviderBase, Recipient, Traits
from newsletter.delivery.dkim import Signer
from newsletter.delivery.headers import ascii_address, needs_smtputf8
from newsletter.delivery.mime import MimeBuilder
from newsletter.delivery.outcomes import OutcomeLog
from newsletter.errors import UsageError
from newsletter.settings import SmtpOptions

URL_ENV = "SMTP_URL"
_TRUE = {"1", "true", "yes", "on"}
STOP_WAIT = 2.0
"""After a second Ctrl-C, the longest wait (seconds) for the sending threads to record how
their message ended once their connections are cut (they need milliseconds)."""


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
        raise UsageError(f"{URL_ENV} must look like smtp://user:pass@host:587?starttls=1 (or smtps://host:465)")
    query = parse_qs(parts.query)
    tls = parts.scheme == "smtps"
    starttls = (query.get("starttls", ["0"])[0].lower() in _TRUE) and not tls
    password = unquote(parts.password or "")
    insecure = query.get("insecure", ["0"])[0].lower() in _TRUE
    if password and not (tls or starttls or insecure or is_loopback(parts.hostname)):
        raise UsageError(
            f"{URL_ENV} has a password but no encryption: it would cross the network in clear. Use "
            "smtps://…:465 or add ?starttls=1 (or ?insecure=1 if you really mean to send it unencrypted)"
        )
    return SmtpUrl(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        user=unquote(parts.username or ""),
        password=password,
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


class SmtpProvider(ProviderBase):
    """Sends each recipient their own message over a few reused SMTP connections."""

    name = "smtp"
    traits = Traits(max_batch=100, message_by_message=True)

    def __init__(self, url: SmtpUrl, options: SmtpOptions, *, subject_prefix: str = "", signer: Signer | None = None) -> None:
        self.url = url
        self.signer = signer
        """Signs each message with DKIM (newsletter/delivery/dkim.py) when a key is set."""
        self.options = options
        self.subject_prefix = subject_prefix
        self._idle: queue.LifoQueue[Conn] = queue.LifoQueue()
        self._pool = ThreadPoolExecutor(options.connections, thread_name_prefix="smtp")
        self._builder: MimeBuilder | None = None
        self._opened: list[Conn] = []
        """Every connection made, so that a stop at once can cut them all (list.append is atomic)."""
        self._senders: set[threading.Thread] = set()
        self._cut_all = False

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
        self._opened.append(conn)
        if self._cut_all:
            _cut(conn)  # made while a stop at once cut the others
        return conn

    def send(self, message: Message, recipients: Sequence[Recipient], on: Attempt) -> BatchResult:
        if self._builder is None or self._builder.message is not message:
            self._builder = MimeBuilder(message, subject_prefix=self.subject_prefix)
        n = min(self.options.connections, len(recipients)) or 1
        chunks = [recipients[i::n] for i in range(n)]
        result = BatchResult()
        for part in self._pool.map(self._send_chunk, chunks, [on] * n):
            result.merge(part)
        return result

    def _send_chunk(self, chunk: Sequence[Recipient], on: Attempt) -> BatchResult:
        assert self._builder is not None
        self._senders.add(threading.current_thread())
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
                out.stop = (
                    f"the SMTP server's TLS certificate is not trusted ({exc.verify_message}); "
                    "nothing was sent over an unverified connection"
                )
                return out
            except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH, as SMTP_URL asks
                out.retry.update((r.seq, "not tried: the SMTP server lacks what SMTP_URL asks for") for r in chunk)
                out.stop = (
                    f"the SMTP server cannot do what SMTP_URL asks for: {exc} "
                    "Nothing was sent (never in the clear when STARTTLS is asked for)"
                )
                return out
            except (smtplib.SMTPException, OSError) as exc:
                why = f"cannot connect to the SMTP server: {refusals.reply_text(str(exc))}"
                out.retry.update((r.seq, why) for r in chunk)
                return out
        log = _Log(on.log, on.batch)
        for i, recipient in enumerate(chunk):
            seq = recipient.seq
            if on.stopping.is_set():  # a Ctrl-C: the messages not started wait for the next run
                out.retry.update((r.seq, "not sent yet: the send was interrupted") for r in chunk[i:])
                break
            envelope = recipient.email if recipient.email.isascii() else ascii_address(recipient.email)
            options: list[str] = []
            if needs_smtputf8(envelope):
                conn.ehlo_or_helo_if_needed()
                if not conn.has_extn("smtputf8"):
                    out.failed[seq] = log.done(
                        seq,
                        "failed",
                        "the SMTP server does not offer SMTPUTF8, which an address with non-ASCII characters before the @ needs",
                    )
                    continue
                options = ["SMTPUTF8"]
            data = builder.build(recipient)
            if self.signer is not None:
                data = self.signer.sign(data)
            try:
                log.started(seq)
            except OSError as exc:  # nothing may go out unrecorded
                out.retry.update((r.seq, "not sent: the outcome log cannot be written") for r in chunk[i:])
                out.stop = f"cannot write the outcome log: {exc.strerror or exc}; nothing more was sent"
                break
            conn.body_sent = False
            try:
                conn.sendmail(sender, [envelope], data, mail_options=options)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = exc.recipients.get(envelope, (550, b"refused"))
                _refused(out, log, seq, refusals.reason("recipient", code, text), code)
                _reset(conn)
            except smtplib.SMTPSenderRefused as exc:
                reason = f"{exc.smtp_code} {refusals.reply_text(exc.smtp_error)}"
                log.done(seq, "retry", f"not sent: sender refused: {reason}")
                out.retry.update((r.seq, "not tried: sender refused") for r in chunk[i:])
                if exc.smtp_code >= 500:
                    out.stop = f"the SMTP server refused the sender address {sender}: {reason}"
                _reset(conn)
                self._idle.put(conn)
                return out
            except smtplib.SMTPDataError as exc:
                _refused(out, log, seq, refusals.reason("message", exc.smtp_code, exc.smtp_error), exc.smtp_code)
                _reset(conn)
            except (smtplib.SMTPException, OSError) as exc:
                where = "after" if conn.body_sent else "before"
                reason = f"SMTP connection lost {where} the message was sent: {refusals.reply_text(str(exc))}"
                if conn.body_sent:
                    out.unknown[seq] = log.lost(seq, reason)
                else:
                    out.retry[seq] = log.done(seq, "retry", reason)
                for rest in chunk[i + 1 :]:
                    out.retry[rest.seq] = "not tried: the SMTP connection was lost"
                _close(conn)
                return out
            else:
                log.done(seq, "accepted")
                out.accepted.append(seq)
        self._idle.put(conn)
        return out

    def close(self, *, at_once: bool = False) -> None:
        """Close the connections; ``at_once`` (a second Ctrl-C): cut every connection, so that
        a thread waiting for the server's reply to a message ends at once (a message whose
        final ``.`` was written is then ``lost`` in the outcome log: unknown; one not written
        whole, ``retry``), start nothing more, and wait for the threads to record that only
        briefly."""
        if at_once:
            self._cut_all = True
            self._pool.shutdown(wait=False, cancel_futures=True)
            for conn in list(self._opened):
                _cut(conn)
            deadline = time.monotonic() + STOP_WAIT
            for thread in list(self._senders):
                thread.join(max(0.0, deadline - time.monotonic()))
            return
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


class _Log:
    """One chunk's view of the outcome log (nothing is written for an unrecorded send);
    its endings return their reason, for the batch's result."""

    def __init__(self, log: OutcomeLog | None, batch: int) -> None:
        self.log, self.batch = log, batch

    def started(self, seq: int) -> None:
        if self.log is not None:
            self.log.started(self.batch, seq)

    def done(self, seq: int, state: str, why: str = "") -> str:
        if self.log is not None:
            self.log.done(self.batch, seq, state, why)
        return why

    def lost(self, seq: int, why: str) -> str:
        if self.log is not None:
            self.log.lost(self.batch, why, seq)
        return why


def _refused(out: BatchResult, log: _Log, seq: int, why: str, code: int) -> None:
    """A recipient the server refused: failed for good (5xx), or to be tried again (4xx)."""
    if refusals.permanent(code):
        out.failed[seq] = log.done(seq, "failed", why)
    else:
        out.retry[seq] = log.done(seq, "retry", why)


def _reset(conn: Conn) -> None:
    try:
        conn.rset()
    except (smtplib.SMTPException, OSError):
        pass


def _cut(conn: Conn) -> None:
    """End a connection now, from any thread: a read or write waiting on it returns at once."""
    sock = conn.sock
    if sock is not None:
        try:  # the plain socket's shutdown: a TLS socket's own would pull its state from under a reader
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def _close(conn: Conn) -> None:
    try:
        conn.close()
    except OSError:
        pass
