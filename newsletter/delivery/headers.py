"""The one place that makes header values: mailboxes, envelope addresses and the
one-click unsubscribe headers, for SendGrid, SMTP, the outbox and the preview alike.

* A display name loses control characters (a NUL or an escape cannot reach a header).
  In a MIME header it is quoted when it holds an RFC 5322 special; for SendGrid, which
  writes the header itself, when it holds ``,`` or ``;`` (as SendGrid's own helper
  libraries do: unquoted, SendGrid splits the name there).
* An address with an internationalised domain goes out with the domain's ASCII form
  (IDNA 2008, ``reader@xn--bcher-kva.de``); an address whose local part is not ASCII
  needs SMTPUTF8 (RFC 6531), which SendGrid does not offer: :func:`unsendable` says why.
* Header lines are made here, not by the standard library's folder (which turns a long
  ``List-Unsubscribe`` into an encoded word, and writes encoded words of 76 characters):
  structured parts (``<URL>``, ``<Message-ID>``, addresses) are never encoded and never
  split; a line is folded only at whitespace between words, to at most 78 octets where
  such whitespace exists and never past 998; an encoded word (RFC 2047) holds at most 75
  characters and is used only in a display name or an unstructured text such as the
  subject, when it holds non-ASCII characters or a word too long for one line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

ONE_CLICK = "List-Unsubscribe=One-Click"
LINE = 78
"""RFC 5322 2.1.1: a line SHOULD be at most 78 characters (without CRLF)..."""
HARD_LINE = 998
"""... and MUST be at most 998."""
ENCODED_WORD = 75
"""RFC 2047 2: an encoded word is at most 75 characters."""
_SPECIALS = set('()<>[]:;@\\,."')
_SENDGRID_QUOTES = re.compile(r"[,;]")


def clean_name(name: str) -> str:
    """A display name on one line with no control characters (tabs and line breaks
    become spaces; NUL, escapes and the like are dropped)."""
    out = []
    for ch in name:
        if ch in "\t\r\n\u2028\u2029":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
    return " ".join("".join(out).split())


def quoted_name(name: str) -> str:
    """``name`` as SendGrid's JSON wants it: in double quotes when it holds a comma or a
    semicolon (as SendGrid's own helper libraries do), else as it is."""
    if not name.isprintable():
        name = clean_name(name)
    if _SENDGRID_QUOTES.search(name) is None:
        return name
    return _quoted(name)


def _quoted(name: str) -> str:
    """``name`` as an RFC 5322 quoted string."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def ascii_address(email: str) -> str:
    """``email`` with its domain in ASCII (IDNA); the local part unchanged."""
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        import idna

        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except (idna.IDNAError, UnicodeError):
        return f"{local}@{domain.encode('idna').decode('ascii')}"


def needs_smtputf8(email: str) -> bool:
    """True when the local part (before the ``@``) is not ASCII: only SMTPUTF8 carries it."""
    return not email.rpartition("@")[0].isascii()


def unsendable_by_sendgrid(email: str) -> str | None:
    """Why SendGrid cannot deliver to ``email`` (None when it can). SendGrid treats a
    local part with characters other than ASCII as an invalid address and drops the
    message, so such an address is refused before sending with this reason."""
    if needs_smtputf8(email):
        return (
            "SendGrid does not deliver to addresses with non-ASCII characters before the @ "
            "(it reports them as invalid); send to this reader by SMTP with SMTPUTF8, or ask for another address"
        )
    return None


def mailbox(name: str, email: str) -> str:
    """``Name <address>`` as a person reads it (the preview), address in its ASCII form."""
    name = clean_name(name)
    address = ascii_address(email)
    if not name:
        return address
    if any(ch in _SPECIALS for ch in name):
        return f"{_quoted(name)} <{address}>"
    return f"{name} <{address}>"


class HeaderTooLong(ValueError):
    """A header part that no folding can bring under 998 octets a line."""


def encoded_mailbox(name: str, email: str) -> list[str]:
    """``Name <address>`` for a MIME header, as the words :func:`header_line` folds: the
    name as atoms or a quoted string when it is printable ASCII with no word too long for
    a line, else as RFC 2047 encoded words; the domain in ASCII; a non-ASCII local part
    kept as UTF-8 (RFC 6532, only ever sent with SMTPUTF8)."""
    name = clean_name(name)
    address = f"<{ascii_address(email)}>"
    if not name:
        return [address[1:-1]]
    if name.isascii() and all(len(word) < LINE - 12 for word in name.split(" ")):
        if any(ch in _SPECIALS for ch in name):
            name = _quoted(name)
        return [*name.split(" "), address]
    return [*encoded_words(name, first=LINE - len("Reply-To: ")), address]


def encoded_words(text: str, *, first: int = ENCODED_WORD) -> list[str]:
    """``text`` as RFC 2047 encoded words in UTF-8, each at most 75 characters (the first
    at most ``first``, to fit beside the header's name), never splitting a character:
    Q encoding with the characters RFC 2047 5(3) allows in a phrase, or B when shorter.
    A reader joins adjacent encoded words and drops the whitespace between them."""
    q_parts = [_q_char(ch) for ch in text]
    q_size = sum(map(len, q_parts))
    b_size = 4 * ((len(text.encode("utf-8")) + 2) // 3)
    words: list[str] = []
    limit = min(first, ENCODED_WORD) - len("=?utf-8?q??=")
    if q_size <= b_size:
        current = ""
        for part in q_parts:
            if current and len(current) + len(part) > limit:
                words.append(f"=?utf-8?q?{current}?=")
                current, limit = "", ENCODED_WORD - len("=?utf-8?q??=")
            current += part
        words.append(f"=?utf-8?q?{current}?=")
        return words
    chunk = b""
    for ch in text:
        data = ch.encode("utf-8")
        if chunk and 4 * ((len(chunk) + len(data) + 2) // 3) > limit:
            words.append(f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=")
            chunk, limit = b"", ENCODED_WORD - len("=?utf-8?b??=")
        chunk += data
    words.append(f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?=")
    return words


_Q_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _q_char(ch: str) -> str:
    if ch in _Q_SAFE:
        return ch
    if ch == " ":
        return "_"
    return "".join(f"={b:02X}" for b in ch.encode("utf-8"))


def unstructured(text: str) -> list[str]:
    """An unstructured value (the subject) as the words :func:`header_line` folds: its own
    words when it is ASCII with no word too long for a 998-octet line, else encoded
    words (which fold anywhere). Runs of spaces are kept as they are."""
    if text.isascii() and text.isprintable():
        words = re.findall(r" *[^ ]+(?: +$)?", text)
        if all(len(w) < HARD_LINE - 100 for w in words):
            return [words[0], *(w[1:] for w in words[1:])] if words else [""]
    return encoded_words(text, first=LINE - len("Subject: [TEST] "))


def header_line(name: str, words: str | Sequence[str]) -> bytes:
    """One header, ending in CRLF: ``words`` joined by single spaces, folded at those
    spaces so that each line is at most 78 octets where a fold can make it so; a word is
    never split, so a longer line holds one word. A line over 998 octets raises
    :class:`HeaderTooLong`."""
    if isinstance(words, str):
        words = [words]
    lines: list[str] = []
    line = f"{name}: {words[0]}"
    for word in words[1:]:
        if len((line + " " + word).encode("utf-8")) <= LINE:
            line = f"{line} {word}"
        else:
            lines.append(line)
            line = f" {word}"
    lines.append(line)
    for one in lines:
        if len(one.encode("utf-8")) > HARD_LINE:
            raise HeaderTooLong(f"{name}: a part of {len(one)} characters cannot go on one header line (at most {HARD_LINE})")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def list_unsubscribe(url: str, mailto: str | None) -> str:
    """The ``List-Unsubscribe`` value: the one-click https link, then an optional mailto."""
    return f"<{url}>{mailto_part(mailto)}"


def list_unsubscribe_words(url: str, mailto: str | None) -> list[str]:
    """The ``List-Unsubscribe`` value as :func:`header_line` folds it: each ``<URL>`` whole
    (RFC 2369 has no encoded words), a fold allowed only between them."""
    return [f"<{url}>,", f"<mailto:{mailto}?subject=unsubscribe>"] if mailto else [f"<{url}>"]


def mailto_part(mailto: str | None) -> str:
    """What follows the link in ``List-Unsubscribe``: the mailto, or nothing."""
    return f", <mailto:{mailto}?subject=unsubscribe>" if mailto else ""
