"""What a real send needs from the layers above delivery, passed in by the command.

Delivery never imports the checks or the feedback modules: the command that runs a send
(``commands/send_hooks.py``) builds these from them and hands them to the
session. Each is a callable or an object of a small protocol defined here, so a test (or
another front end) can pass its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from newsletter.delivery.base import Message
from newsletter.delivery.journal import Journal, SendRow
from newsletter.errors import NewsletterError


class EmailLogUnavailable(NewsletterError):
    """SendGrid's Email Logs cannot be asked (no key, no access, an error answer)."""

    exit_code = 2


class EmailLog(Protocol):
    """SendGrid's Email Logs, as a send asks them (each method may raise :class:`EmailLogUnavailable`)."""

    def processed(self, email: str, category: str, since: float) -> bool:
        """Whether SendGrid processed a message of ``category`` to ``email`` since ``since``."""
        ...

    def every(self, category: str, start: float, end: float) -> set[str]:
        """The (lower-cased) recipients of every message of ``category`` in ``[start, end)``."""
        ...


@dataclass(frozen=True, slots=True)
class SendHooks:
    """The send's links to the world above delivery (see the module docstring)."""

    email_log: Callable[[], EmailLog]
    """Open SendGrid's Email Logs (raises :class:`EmailLogUnavailable`): they settle the
    recipients a stop left ``unknown`` and show who a send begun on another clone reached."""
    dress: Callable[[Message, str], Message]
    """The message as this send's provider delivers it, given the send's journal key: a
    scheduled send's batch id, SendGrid's unsubscribe link with ``unsubscribe: sendgrid``."""
    bounce_refused: Callable[[Journal, SendRow], str]
    """Turn bounced in the list the addresses an SMTP server refused as not existing; what
    was done, in words, or ''."""
    when: Callable[[int], str]
    """A scheduled send's time (Unix seconds), in words."""
