"""One recipient's email as MIME bytes (multipart/alternative: plain text, then HTML).

The parts that are the same for everyone (the From, Subject and Date headers, the
boundary) are made once, by :mod:`~newsletter.delivery.headers` (the one header
builder: RFC 5322 folding, never an encoded ``<URL>``); per recipient only the To,
List-Unsubscribe and Message-ID headers are made and the filled bodies are
quoted-printable encoded (``binascii``, in C). Building each
message with ``email.message.EmailMessage`` instead is much slower (figures:
docs/performance.md); this speed is what lets SMTP keep several connections
busy. The messages are held to RFC 5322, 2047 and 2369 by ``tests/test_raw_headers.py``.
"""

from __future__ import annotations

import binascii
import hashlib
from email.utils import format_datetime

from newsletter.delivery.base import Message, Recipient
from newsletter.delivery.headers import (
    ONE_CLICK,
    ascii_address,
    encoded_mailbox,
    header_line,
    list_unsubscribe_words,
    unstructured,
)

CRLF = b"\r\n"


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True)


class MimeBuilder:
    """Makes the bytes of each recipient's message for one :class:`Message`."""

    def __init__(self, message: Message, *, subject_prefix: str = "") -> None:
        self.message = message
        seed = f"{message.send_id}\0{message.html}\0{message.text}".encode("utf-8")
        self.boundary = "=_nl_" + hashlib.sha256(seed).hexdigest()[:32]
        head = [header_line("From", encoded_mailbox(message.sender.name, message.sender.email))]
        if message.reply_to != message.sender:
            head.append(header_line("Reply-To", encoded_mailbox(message.reply_to.name, message.reply_to.email)))
        head += [
            header_line("Subject", unstructured(subject_prefix + message.subject)),
            header_line("Date", format_datetime(message.date)),
            header_line("MIME-Version", "1.0"),
            header_line("Content-Type", ["multipart/alternative;", f'boundary="{self.boundary}"']),
            header_line("List-Unsubscribe-Post", ONE_CLICK),
        ]
        self._common = b"".join(head)
        self._domain = ascii_address(message.sender.email).rpartition("@")[2]
        b = self.boundary.encode("ascii")
        self._text_head = (
            b"--"
            + b
            + CRLF
            + b'Content-Type: text/plain; charset="utf-8"'
            + CRLF
            + b"Content-Transfer-Encoding: quoted-printable"
            + CRLF
            + CRLF
        )
        self._html_head = (
            CRLF
            + b"--"
            + b
            + CRLF
            + b'Content-Type: text/html; charset="utf-8"'
            + CRLF
            + b"Content-Transfer-Encoding: quoted-printable"
            + CRLF
            + CRLF
        )
        self._end = CRLF + b"--" + b + b"--" + CRLF

    def build(self, recipient: Recipient) -> bytes:
        message = self.message
        html = message.html_parts.fill(recipient.values)
        text = message.text_parts.fill(recipient.values)
        return b"".join(
            (
                header_line("To", encoded_mailbox(recipient.name, recipient.email)),
                f"Message-ID: <{message.send_id}.{recipient.token}@{self._domain}>\r\n".encode("ascii"),
                header_line("List-Unsubscribe", list_unsubscribe_words(recipient.unsubscribe_url, message.unsubscribe_mailto)),
                self._common,
                CRLF,
                self._text_head,
                _qp(text),
                self._html_head,
                _qp(html),
                self._end,
            )
        )
