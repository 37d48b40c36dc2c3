"""What every provider shares: the message, its recipients, outcomes and the Provider protocol."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, overload

import orjson

from newsletter.render.personalize import Tokenized

if TYPE_CHECKING:
    from newsletter.delivery.outcomes import OutcomeLog

from newsletter.delivery.headers import list_unsubscribe, mailto_part

_BAD_HEADER_CHARS = ("\r", "\n", "\x00")


class HeaderInjection(ValueError):
    """A header value holds CR, LF or NUL; nothing may be sent with it."""


def check_header(name: str, value: str) -> str:
    """Return ``value`` unchanged, or raise when it could break out of its header."""
    for ch in _BAD_HEADER_CHARS:
        if ch in value:
            shown = {"\r": "CR", "\n": "LF", "\x00": "NUL"}[ch]
            raise HeaderInjection(f"{name} contains a {shown} character")
    return value


@dataclass(frozen=True, slots=True)
class Mailbox:
    name: str
    email: str


class Recipient(NamedTuple):
    """One person in one send: their address, display name, merge values and token
    (a tuple: a send of a million makes a million)."""

    seq: int
    email: str
    name: str
    values: Mapping[str, str]
    """Raw merge values (``email`` and ``unsubscribe_url`` included); escaped when used."""
    token: str
    """Opaque unsubscribe token (never the address)."""

    @property
    def unsubscribe_url(self) -> str:
        return self.values["unsubscribe_url"]


RowTuple = tuple[int, str, str, str, "str | None"]
"""A recipient as the journal keeps it: (seq, email, first name, last name, merge values
as JSON or None); see :class:`~newsletter.delivery.journal.Row`."""


class Batch(Sequence[Recipient]):
    """The recipients of one request, kept as their journal rows and made into
    :class:`Recipient` s only when asked for (a SendGrid request is built straight
    from the rows). ``tracked``: every one of them agreed to tracking (with ``tracking:
    consented`` a batch never mixes readers who did with readers who did not)."""

    __slots__ = ("rows", "make", "tracked", "_made", "_json")

    def __init__(self, rows: list[RowTuple], make: Callable[[RowTuple], Recipient], tracked: bool = False) -> None:
        self.rows = rows
        self.make = make
        self.tracked = tracked
        self._made: list[Recipient] | None = None
        self._json: bytes | None = None

    def rows_json(self) -> bytes:
        """The rows as one JSON array (made once: the journal stores them from it, and the
        request process builds the body from it)."""
        if self._json is None:
            self._json = orjson.dumps(self.rows)
        return self._json

    @property
    def seqs(self) -> list[int]:
        return [row[0] for row in self.rows]

    def _all(self) -> list[Recipient]:
        if self._made is None:
            self._made = [self.make(row) for row in self.rows]
        return self._made

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Recipient: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Recipient]: ...

    def __getitem__(self, index: int | slice) -> Recipient | Sequence[Recipient]:
        if isinstance(index, slice):
            return self._all()[index]
        if self._made is None:
            return self.make(self.rows[index])
        return self._made[index]

    def __iter__(self) -> Iterator[Recipient]:
        return iter(self._all())


@dataclass(frozen=True, slots=True)
class Message:
    """Everything that is the same for every recipient of one send."""

    send_id: str
    slug: str
    subject: str
    html: str
    """The rendered HTML with its tokens (what SendGrid substitutes into)."""
    text: str
    """The rendered plain text with its tokens."""
    html_parts: Tokenized
    text_parts: Tokenized
    sender: Mailbox
    reply_to: Mailbox
    date: dt.datetime
    categories: tuple[str, ...] = ()
    send_at: int | None = None
    unsubscribe_mailto: str | None = None
    tokens: tuple[str, ...] = field(default=())
    batch_id: str | None = None
    """SendGrid batch of a scheduled send (issue 12: newsletter/feedback/schedule.py)."""

    def check_headers(self) -> None:
        """Refuse CR, LF or NUL in any header value common to all recipients."""
        check_header("subject", self.subject)
        check_header("from name", self.sender.name)
        check_header("from address", self.sender.email)
        check_header("reply-to name", self.reply_to.name)
        check_header("reply-to address", self.reply_to.email)
        check_header("send id", self.send_id)
        for category in self.categories:
            check_header("category", category)

    def list_unsubscribe(self, recipient: Recipient) -> str:
        """The ``List-Unsubscribe`` value: the one-click https link, then an optional mailto."""
        return list_unsubscribe(recipient.unsubscribe_url, self.unsubscribe_mailto)

    @property
    def unsubscribe_mailto_part(self) -> str:
        """What follows the link in ``List-Unsubscribe``: the mailto, or nothing."""
        return mailto_part(self.unsubscribe_mailto)


@dataclass(slots=True)
class BatchResult:
    """What became of each recipient of one batch (by ``seq``), with reasons."""

    accepted: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    """Refused for good (e.g. an SMTP server's 550 for that address)."""
    unknown: dict[int, str] = field(default_factory=dict)
    """Might have been delivered: never resent automatically."""
    retry: dict[int, str] = field(default_factory=dict)
    """Certainly not sent, worth trying again (temporary errors)."""
    stop: str | None = None
    """Set when the provider refuses to go on (e.g. login refused): record, then stop."""

    def merge(self, other: BatchResult) -> None:
        self.accepted.extend(other.accepted)
        self.failed.update(other.failed)
        self.unknown.update(other.unknown)
        self.retry.update(other.retry)
        self.stop = self.stop or other.stop


class DeliveryError(Exception):
    """A whole request did not go through; the subclass says what that means."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(DeliveryError):
    """Nothing was delivered; try again (after ``wait`` seconds if the provider said so)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class Unknown(DeliveryError):
    """The request was sent but no answer came: it may or may not have been delivered."""


class Rejected(DeliveryError):
    """The provider refused the request as it stands (bad key, bad payload): stop."""


Started = Callable[[], BatchResult]
"""A batch whose sending has begun: calling it waits for what :meth:`Provider.send` would give."""


class Provider(Protocol):
    """A way to deliver one batch of recipients of one message.

    A provider declares what it can do; the send loop and the session read these
    declarations and never ask a provider's name or probe for methods:

    ``max_batch``: most recipients in one request (or one batch of messages).
    ``message_by_message``: it sends each recipient their own message and records each
    one's outcome as it happens (so a stop leaves at most the messages on the wire
    unknown); it stops between messages when :meth:`stop_when` 's event is set.
    ``resend_is_harmless``: sending a recipient's message again cannot deliver it twice
    (the outbox overwrites the same file), so a stopped batch is simply sent again.
    ``can_schedule``: it can deliver at a later time (``--send-at``).
    ``has_sandbox``: it can check requests without delivering them (``--validate``).
    ``one_click``: its messages carry ``List-Unsubscribe`` and ``List-Unsubscribe-Post``.
    ``delivers``: its messages leave this machine (the outbox only writes files).
    """

    name: str
    max_batch: int
    message_by_message: bool
    resend_is_harmless: bool
    can_schedule: bool
    has_sandbox: bool
    one_click: bool
    delivers: bool

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> object:
        """Side-effect-free work for a batch (a request body), or None; done once per
        batch, its result is reused by every retry of that batch."""
        ...

    def ahead(self, prepared: object) -> None:
        """The batch just prepared is the next to be :meth:`start` ed: begin its work now,
        while the request before it is out (SendGrid has its request process build the body)."""
        ...

    def send(self, message: Message, recipients: Sequence[Recipient], prepared: object = None,
             batch: int = 0) -> BatchResult:
        """Deliver (try ``batch`` of the journal), or raise :class:`RetryLater`,
        :class:`Unknown` or :class:`Rejected`."""
        ...

    def start(self, message: Message, recipients: Sequence[Recipient], prepared: object = None,
              batch: int = 0) -> Started | None:
        """Begin delivering in the background; None when this provider cannot (then :meth:`send`)."""
        ...

    def get_ready(self) -> None:
        """Finish setting up before the first batch (e.g. a request process starting)."""
        ...

    def record(self, log: OutcomeLog | None) -> None:
        """Write what becomes of each request or message of a recorded send to ``log``."""
        ...

    def stop_when(self, event: threading.Event) -> None:
        """Stop between messages once ``event`` is set (message-by-message providers)."""
        ...

    def unsendable(self, email: str) -> str | None:
        """Why this provider cannot deliver to ``email`` at all (asked only for addresses
        that are not plain ASCII), or None."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    def stop_at_once(self) -> None:
        """Release what can be released without waiting (a second Ctrl-C): a request on its
        way is left to whoever records its answer."""
        ...


class ProviderBase:
    """What a provider that sends when asked has by default (subclasses set the declarations)."""

    name = "provider"
    max_batch = 1000
    message_by_message = False
    resend_is_harmless = False
    can_schedule = False
    has_sandbox = False
    one_click = True
    delivers = True

    def __init__(self) -> None:
        self.log: OutcomeLog | None = None
        self.stopping = threading.Event()

    def ahead(self, prepared: object) -> None:
        return None

    def start(self, message: Message, recipients: Sequence[Recipient], prepared: object = None,
              batch: int = 0) -> Started | None:
        return None

    def get_ready(self) -> None:
        return None

    def close(self) -> None:
        return None

    def stop_at_once(self) -> None:
        self.close()

    def record(self, log: OutcomeLog | None) -> None:
        self.log = log

    def stop_when(self, event: threading.Event) -> None:
        self.stopping = event

    def unsendable(self, email: str) -> str | None:
        return None
