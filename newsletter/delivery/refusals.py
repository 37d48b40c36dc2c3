"""What an SMTP server's refusal of one recipient means, from the reply it gave.

A refused row carries the reply in the journal, in a reason made here and read back
here (by the list's update at the end of a send, which may be a later run's):

``SMTP server refused the recipient: 550 5.1.1 <a@example.org>: User unknown``
    the reply to ``RCPT TO``;
``SMTP server refused the message: 554 5.7.1 rejected by content filter``
    the reply to the message itself (``DATA``).

The server's words are kept on one line with no control characters, at most
:data:`LONGEST` characters. A 5xx reply is permanent: the row is ``failed``. A 4xx
reply is temporary: the recipient is tried again (the send's retries, then a later
run), and never changes the list.

Whether the address is dead is read from the reply's enhanced status code (RFC 3463),
the ``5.1.1`` after ``550``, which says what the refusal is about in a form meant for
programs. The address becomes ``bounced`` in the list only for the codes that say the
recipient's mailbox or domain does not exist (:data:`GONE`):

* ``5.1.1`` bad destination mailbox (no such user), ``5.1.2`` bad destination system
  (no such domain), ``5.1.3`` bad destination mailbox address syntax, ``5.1.6`` mailbox
  moved with no forwarding address, ``5.1.10`` the domain has a null MX (RFC 7505: it
  takes no mail at all).

Not the other ``5.1.x``: ``5.1.0`` is unspecified, ``5.1.4`` is an ambiguous address,
and ``5.1.7`` and ``5.1.8`` are about *our* sender address, not the reader's. Nor a
reply without an enhanced code, whatever its words say: ``550 User unknown`` and ``550
Relaying denied`` or ``550 Spam detected`` share the code 550, and the words are the
server's own, in any language; a wrong guess would take a reader off the list for good,
while a missed one costs a failed row in ``newsletter report``. The row is ``failed``
with the reply either way.
"""

from __future__ import annotations

import re
from typing import Literal

from newsletter.delivery.posting import printable

LONGEST = 300
"""Characters of a server's reply kept in a reason."""
PREFIX = "SMTP server refused the "
Stage = Literal["recipient", "message"]
GONE = frozenset({(1, 1), (1, 2), (1, 3), (1, 6), (1, 10)})
"""Enhanced status codes (subject, detail) of class 5 that say the address does not exist."""

_READ = re.compile(r"SMTP server refused the (?:recipient|message): (\d{3}) (\d)\.(\d{1,3})\.(\d{1,3})(?: |$)")


def reply_text(reply: bytes | str) -> str:
    """A server's reply, safe for a terminal, a report and a list cell (one line, no
    control characters, at most :data:`LONGEST` characters)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return printable(text)[:LONGEST]


def reason(stage: Stage, code: int, reply: bytes | str) -> str:
    """The journal's reason for a recipient refused at ``stage`` with ``code`` and ``reply``."""
    return f"{PREFIX}{stage}: {code} {reply_text(reply)}"


def permanent(code: int) -> bool:
    """A 5xx reply: sending the same message again would be refused again."""
    return code >= 500


def mailbox_gone(why: str) -> bool:
    """Whether a refused row's reason (see :func:`reason`) says the address does not exist:
    a 5xx reply whose enhanced status code, of the same class, is one of :data:`GONE`."""
    found = _READ.match(why)
    if found is None:
        return False
    code, klass, subject, detail = (int(g) for g in found.groups())
    return code // 100 == 5 and klass == 5 and (subject, detail) in GONE
