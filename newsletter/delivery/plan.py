"""From a rendered issue and a list of subscribers to what the providers need.

The message is made once per send; each subscriber becomes one journal row
(address, first and last name, the other merge values the issue uses), checked for
header injection before anything is sent, and a row becomes a :class:`Recipient`
(display name, merge values, unsubscribe token and link) when it is sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import orjson

from newsletter.audience import Entry
from newsletter.delivery.base import HeaderInjection, Mailbox, Message, Recipient, RowTuple, check_header
from newsletter.delivery.bodies import SEND_AT_KEY, link_maker
from newsletter.delivery.headers import HARD_LINE, HeaderTooLong, header_line, list_unsubscribe_words
from newsletter.delivery.state import token_maker, unsubscribe_token
from newsletter.errors import InputError, Problem, display_path
from newsletter.render.personalize import Greeting, recipient_values
from newsletter.render.pipeline import Rendered
from newsletter.settings import Settings

TEST_PREFIX = "[TEST] "
_COMPUTED = ("email", "unsubscribe_url", "greeting")


class SubscriberLike(Protocol):
    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def fields(self) -> Mapping[str, str]: ...
    @property
    def line(self) -> int: ...


def make_message(
    rendered: Rendered,
    settings: Settings,
    *,
    send_id: str,
    send_at: int | None = None,
    test: bool = False,
    date: dt.datetime | None = None,
) -> Message:
    """The parts of one send that are the same for everyone (header values checked)."""
    sender = Mailbox(settings.sender.name, settings.sender.email)
    replies = settings.replies_to
    message = Message(
        send_id=send_id,
        slug=rendered.slug,
        subject=(TEST_PREFIX if test else "") + rendered.subject,
        html=rendered.html,
        text=rendered.text,
        html_parts=rendered.html_parts,
        text_parts=rendered.text_parts,
        sender=sender,
        reply_to=Mailbox(replies.name, replies.email),
        date=date or dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
        categories=(rendered.slug, *settings.delivery.sendgrid.categories),
        send_at=send_at,
        unsubscribe_mailto=settings.delivery.list_unsubscribe_mailto,
        tokens=tuple(sorted(rendered.tokens)),
    )
    try:
        message.check_headers()
    except HeaderInjection as exc:
        raise InputError(Problem("newsletter.yaml", None, None, "", str(exc), "remove the line break")) from None
    try:  # every reader's link has a token of this length: one that fits fits for all
        header_line("List-Unsubscribe", list_unsubscribe_words(unsubscribe_url(settings, "0" * 32), message.unsubscribe_mailto))
    except HeaderTooLong:
        raise InputError(
            Problem(
                "newsletter.yaml",
                None,
                None,
                "unsubscribe_url",
                f"the unsubscribe link is too long for a List-Unsubscribe header line (at most {HARD_LINE} characters)",
                "use a shorter address for the unsubscribe page",
            )
        ) from None
    return message


def content_hash(message: Message) -> str:
    """What identifies the content of a send: a change means readers would get something else."""
    h = hashlib.sha256()
    for part in (message.subject, message.html, message.text, message.sender.email, message.reply_to.email):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def used_fields(rendered: Rendered) -> frozenset[str]:
    return (rendered.html_parts.fields | rendered.text_parts.fields) - set(_COMPUTED)


def display_name(first: str, last: str) -> str:
    return f"{first.strip()} {last.strip()}".strip()


NewRow = tuple[str, str, str, "str | None", bool]
"""(email, first name, last name, merge values as JSON or None, agreed to tracking): a
journal row without its ``seq`` (see :class:`~newsletter.delivery.journal.Row`), and
whether the reader may be in a tracked request (``tracking: consented``)."""


def new_rows(
    entries: Iterable[Entry],
    settings: Settings,
    fields: frozenset[str],
    list_path: Path,
) -> Iterator[NewRow]:
    """What the journal keeps of each subscriber, checked for header injection.

    ``entries`` give names as :class:`~newsletter.audience.Subscriber` does: trimmed,
    on one line. Runs once per recipient of a send (a million times for a big list),
    so the common case (a message that uses no merge field but the names) only checks
    the row: the rest of the recipient (token, link, values) is made where the request
    is built, by :class:`RowMaker` or, for SendGrid, straight from the rows.
    """
    fallback = settings.fallback_first_name
    greeting = Greeting.of(settings)
    keys = tuple(sorted(fields))
    bad = _HEADER_BREAK.search
    if fields <= {"first_name", "last_name"}:
        for entry in entries:
            email, first, last = entry[0], entry[1], entry[2]
            if bad(f"{email}{first}{last}"):
                _refuse(entry, list_path)
            yield email, first, last, None, entry[6]
        return
    dumps = orjson.dumps
    for entry in entries:
        email, first, last, extra = entry[0], entry[1], entry[2], entry[3]
        if bad(f"{email}{first}{last}"):
            _refuse(entry, list_path)
        values = recipient_values(
            email=email,
            first_name=first,
            last_name=last,
            unsubscribe_url="",
            fallback_first_name=fallback,
            greeting=greeting,
            extra=extra,
        )
        yield email, first, last, dumps({k: values[k] for k in keys if k in values}).decode("utf-8"), entry[6]


def timed_rows(
    entries: Iterable[Entry],
    settings: Settings,
    fields: frozenset[str],
    list_path: Path,
    when: Callable[[Entry], int],
) -> list[tuple[int, NewRow]]:
    """:func:`new_rows` for a local-time send: each row with the reader's own send time
    (``when``), kept in its merge values too (:data:`~newsletter.delivery.bodies.SEND_AT_KEY`:
    a resumed run sends the journal's rows with the time the first run gave them), in
    the order they are sent: by send time, then as in the list (a stable sort, so the
    same list gives the same requests)."""
    current: list[Entry] = []

    def remembered() -> Iterator[Entry]:
        for entry in entries:
            current[:] = [entry]
            yield entry

    dumps, loads = orjson.dumps, orjson.loads
    found: list[tuple[int, NewRow]] = []
    for email, first, last, vals, tracked in new_rows(remembered(), settings, fields, list_path):
        kept: dict[str, str | int] = loads(vals) if vals is not None else {}
        at = kept[SEND_AT_KEY] = when(current[0])
        found.append((at, (email, first, last, dumps(kept).decode("utf-8"), tracked)))
    found.sort(key=lambda timed: timed[0])
    return found


_HEADER_BREAK = re.compile(r"[\r\n\x00]")


def _refuse(s: Entry, list_path: Path) -> None:
    for field, value in (("email", s.email), ("first_name", s.first_name), ("last_name", s.last_name)):
        try:
            check_header(field, value)
        except HeaderInjection as exc:
            raise InputError(
                Problem(
                    display_path(list_path),
                    s.line,
                    None,
                    field,
                    f"{exc}: it would go into a mail header",
                    "remove the line break from this subscriber's entry",
                ),
                summary="nothing was sent",
            ) from None


def unsubscribe_url(settings: Settings, token: str) -> str:
    return settings.unsubscribe_url.replace("{token}", token)


class RowMaker:
    """Turns journal rows into :class:`Recipient` s: the merge values, the unsubscribe
    token (worked out again from the address) and link, the greeting. Made once per send."""

    def __init__(self, secret: bytes, unsubscribe_url: str, fallback_first_name: str, greeting: Greeting) -> None:
        self.secret, self.unsubscribe_url = secret, unsubscribe_url
        self.fallback = fallback_first_name
        self.greeting = greeting
        self.token = token_maker(secret)
        self.link = link_maker(unsubscribe_url)

    def __call__(self, row: RowTuple) -> Recipient:
        seq, email, first, last, vals = row
        token = self.token(email)
        values: dict[str, str] = (
            orjson.loads(vals) if vals is not None else {"first_name": first or self.fallback, "last_name": last}
        )
        values["email"] = email
        values["unsubscribe_url"] = self.link(token)
        values["greeting"] = self.greeting(first, values.get("language", ""))
        return Recipient(seq, email, f"{first} {last}".strip(), values, token)


def recipient_maker(settings: Settings, secret: bytes, languages: Sequence[str] = ()) -> RowMaker:
    """The :class:`RowMaker` of a send with these settings and this project's secret; for an
    issue in several ``languages`` each row is greeted in its ``language`` value's words."""
    return RowMaker(secret, settings.unsubscribe_url, settings.fallback_first_name, Greeting.of(settings, languages or None))


def recipient_for(
    subscriber: SubscriberLike, settings: Settings, secret: bytes, *, seq: int = 1, email: str | None = None, language: str = ""
) -> Recipient:
    """One recipient straight from a subscriber (test sends, dry-run samples).

    With ``email`` the message goes to that address, personalised as ``subscriber``,
    but with the unsubscribe token of the address it goes to. ``language``: the language of
    the email they get, for an issue in several (the greeting's).
    """
    to = email or subscriber.email
    token = unsubscribe_token(secret, to)
    url = unsubscribe_url(settings, token)
    values = recipient_values(
        email=to,
        first_name=subscriber.first_name,
        last_name=subscriber.last_name,
        unsubscribe_url=url,
        fallback_first_name=settings.fallback_first_name,
        greeting=Greeting.of(settings, (language,) if language else None),
        extra=subscriber.fields,
        language=language,
    )
    name = display_name(subscriber.first_name, subscriber.last_name) if email is None else ""
    return Recipient(seq, to, name, values, token)
