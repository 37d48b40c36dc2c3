"""The one place that makes header values: mailboxes, envelope addresses and the
one-click unsubscribe headers, for SendGrid, SMTP, the outbox and the preview alike.

* A display name loses control characters (a NUL or an escape cannot reach a header).
  In a MIME header it is quoted when it holds an RFC 5322 special; for SendGrid, which
  writes the header itself, when it holds ``,`` or ``;`` (as SendGrid's own helper
  libraries do: unquoted, SendGrid splits the name there).
* An address with an internationalised domain goes out with the domain's ASCII form
  (IDNA 2008, ``reader@xn--bcher-kva.de``); an address whose local part is not ASCII
  needs SMTPUTF8 (RFC 6531), which SendGrid does not offer: :func:`unsendable` says why.
* Encoded headers are folded to RFC 5322 line lengths.
"""

from __future__ import annotations

import re
from email.policy import SMTP
from email.utils import formataddr

ONE_CLICK = "List-Unsubscribe=One-Click"
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
        return ("SendGrid does not deliver to addresses with non-ASCII characters before the @ "
                "(it reports them as invalid); send to this reader by SMTP with SMTPUTF8, or ask for another address")
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


def encoded_mailbox(name: str, email: str) -> str:
    """``Name <address>`` for a MIME header: the name RFC 2047-encoded when not ASCII,
    quoted when it holds specials; the domain in ASCII; a non-ASCII local part kept as
    UTF-8 (RFC 6532, only ever sent with SMTPUTF8)."""
    name = clean_name(name)
    address = ascii_address(email)
    if not name:
        return address
    if address.isascii():
        return formataddr((name, address), charset="utf-8")
    return f"{formataddr((name, 'x@x'), charset='utf-8')[:-5]}<{address}>"


def header_line(name: str, value: str) -> bytes:
    """One header, folded to RFC 5322 line lengths, ending in CRLF."""
    folded: str = SMTP.fold(name, value)
    return folded.encode("utf-8")


def list_unsubscribe(url: str, mailto: str | None) -> str:
    """The ``List-Unsubscribe`` value: the one-click https link, then an optional mailto."""
    return f"<{url}>{mailto_part(mailto)}"


def mailto_part(mailto: str | None) -> str:
    """What follows the link in ``List-Unsubscribe``: the mailto, or nothing."""
    return f", <mailto:{mailto}?subject=unsubscribe>" if mailto else ""
