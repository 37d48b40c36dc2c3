"""What every provider shares: the message, its recipients, outcomes and the Provider protocol."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal, NamedTuple, Protocol, TypeVar, overload, runtime_checkable

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
    """SendGrid batch of a scheduled send (so that it can be paused or cancelled)."""
    send_until: int | None = None
    """Local-time delivery: the last reader's send time (``send_at`` is the first's; each
    reader's own is in their personalisation)."""

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

Feature = Literal["categories", "asm group", "tracking"]
"""What an issue's settings may ask of a send that a provider may not be able to carry:
SendGrid categories (``delivery.sendgrid.categories``), an unsubscribe group
(``delivery.sendgrid.asm_group_id``, ``unsubscribe: sendgrid``) and click or open tracking."""

FEATURES: tuple[Feature, ...] = ("categories", "asm group", "tracking")


@dataclass(frozen=True, slots=True)
class Traits:
    """What a provider declares; the send loop and the session read these and never ask a
    provider's name or probe for methods.

    ``max_batch``: most recipients in one request (or one batch of messages).
    ``message_by_message``: it sends each recipient their own message and records each
    one's outcome as it happens (so a stop leaves at most the messages on the wire
    unknown); it stops between messages once :attr:`Attempt.stopping` is set.
    ``resend_is_harmless``: sending a recipient's message again cannot deliver it twice
    (the outbox overwrites the same file), so a stopped batch is simply sent again.
    ``can_schedule``: it can deliver at a later time (``--send-at``).
    ``has_sandbox``: it can check requests without delivering them (``--validate``).
    ``delivers``: its messages leave this machine (the outbox only writes files).
    ``carries``: the :data:`Feature` s it can carry; asking for another one is refused or
    warned about before anything is sent (:mod:`newsletter.delivery.features`), never dropped
    silently.
    """

    max_batch: int = 1000
    message_by_message: bool = False
    resend_is_harmless: bool = False
    can_schedule: bool = False
    has_sandbox: bool = False
    delivers: bool = True
    carries: frozenset[Feature] = frozenset()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one batch: its number in the journal (``batch``), the send's outcome log
    (``log``: None for a send that is not recorded) and the event a first Ctrl-C sets
    (``stopping``: a message-by-message provider stops between messages once it is set)."""

    batch: int = 0
    log: OutcomeLog | None = None
    stopping: threading.Event = field(default_factory=threading.Event)


class Provider(Protocol):
    """A way to deliver one batch of recipients of one message: what a new provider implements.

    Its class declares :attr:`traits`; it sends a batch, says which addresses it cannot
    send to at all, and closes. Raise :class:`RetryLater`, :class:`Unknown` or
    :class:`Rejected` for a whole batch; put each recipient's own outcome in the
    :class:`BatchResult`; write each request's or message's outcome to ``on.log`` when
    it is set.
    """

    name: ClassVar[str]
    traits: ClassVar[Traits]

    def send(self, message: Message, recipients: Sequence[Recipient], on: Attempt) -> BatchResult:
        """Deliver, or raise :class:`RetryLater`, :class:`Unknown` or :class:`Rejected`."""
        ...

    def unsendable(self, email: str) -> str | None:
        """Why this provider cannot deliver to ``email`` at all (asked only for addresses
        that are not plain ASCII), or None."""
        ...

    def close(self, *, at_once: bool = False) -> None:
        """Release connections; ``at_once`` (a second Ctrl-C): without waiting, a request on
        its way left to whoever records its answer."""
        ...


P = TypeVar("P")


@runtime_checkable
class BackgroundProvider(Provider, Protocol[P]):
    """A provider that sends a batch in the background while the next one is read (SendGrid's
    request process). ``P``: its prepared payload (a request body), built once per batch by
    :meth:`prepare` and reused by every retry of that batch."""

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> P:
        """Side-effect-free work for a batch (its request body)."""
        ...

    def ahead(self, prepared: P) -> None:
        """The batch just prepared is the next to be :meth:`start` ed: begin its work now,
        while the request before it is out."""
        ...

    def get_ready(self) -> None:
        """Finish setting up before the first batch (e.g. a request process starting)."""
        ...

    def start(self, message: Message, recipients: Sequence[Recipient], prepared: P, on: Attempt) -> Started | None:
        """Begin delivering in the background; None when it cannot now (then :meth:`send_prepared`)."""
        ...

    def send_prepared(self, message: Message, recipients: Sequence[Recipient], prepared: P, on: Attempt) -> BatchResult:
        """:meth:`send` with the batch's prepared payload (a retry sends the same bytes)."""
        ...


class ProviderBase:
    """What a provider has by default (subclasses set :attr:`name` and :attr:`traits`)."""

    name: ClassVar[str] = "provider"
    traits: ClassVar[Traits] = Traits()

    def unsendable(self, email: str) -> str | None:
        return None

    def close(self, *, at_once: bool = False) -> None:
        return None
