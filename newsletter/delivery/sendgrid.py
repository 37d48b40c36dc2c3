"""SendGrid's v3 Mail Send API: request bodies, and posting them over one kept-alive connection.

Payloads are plain dicts serialised with orjson (the helper classes are several
times slower for a thousand personalisations). The key comes only from
``SENDGRID_API_KEY``; it is never printed or logged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import orjson

from newsletter.delivery.api import KEY_ENV, api_host, api_key
from newsletter.delivery.base import (
    FEATURES,
    Attempt,
    Batch,
    BatchResult,
    Message,
    Recipient,
    RetryLater,
    Started,
    Traits,
)
from newsletter.delivery.bodies import HEAD, SEND_AT_KEY, RowsBody, body_spec
from newsletter.delivery.headers import ONE_CLICK, ascii_address, quoted_name, unsendable_by_sendgrid
from newsletter.delivery.plan import RowMaker
from newsletter.delivery.poster import Poster
from newsletter.delivery.posting import ApiHost, MailSender, post_recorded
from newsletter.render.personalize import substituter
from newsletter.settings import SendGridOptions

MAX_PERSONALIZATIONS = 1000
__all__ = ["KEY_ENV", "MAX_PERSONALIZATIONS", "PayloadBuilder", "SendGridProvider", "api_key", "common_fields"]


def common_fields(
    message: Message, options: SendGridOptions, *, sandbox: bool, trackers: tuple[bool, bool] | None = None
) -> dict[str, Any]:
    """Everything in a request except the personalisations; ``trackers`` (click, open) as
    the options say for everyone unless given."""
    click, opens = trackers if trackers is not None else options.trackers("everyone")
    body: dict[str, Any] = {
        "from": _mailbox(message.sender.name, message.sender.email),
        "reply_to": _mailbox(message.reply_to.name, message.reply_to.email),
        "subject": message.subject,
        "content": [
            {"type": "text/plain", "value": message.text},
            {"type": "text/html", "value": message.html},
        ],
        "categories": list(dict.fromkeys(message.categories))[:10],
        "tracking_settings": {
            "click_tracking": {"enable": click, "enable_text": False},
            "open_tracking": {"enable": opens},
            "subscription_tracking": {"enable": False},
            "ganalytics": {"enable": False},
        },
        "mail_settings": {"sandbox_mode": {"enable": sandbox}},
    }
    if options.asm_group_id is not None:
        body["asm"] = {"group_id": options.asm_group_id}
    if message.send_at is not None:
        body["send_at"] = message.send_at
    if message.batch_id is not None:  # a scheduled send that can be cancelled
        body["batch_id"] = message.batch_id
    return body


def _mailbox(name: str, email: str) -> dict[str, str]:
    name = quoted_name(name)
    return {"email": ascii_address(email), "name": name} if name else {"email": ascii_address(email)}


class PayloadBuilder:
    """Builds request bodies for one message: the common part serialised once.

    Per recipient: ``to``, the substitutions (escaped per context), the one-click
    unsubscribe headers and ``custom_args`` with the send id only.

    Tracking (``tracking`` in ``newsletter.yaml``): with ``everyone`` every request has the
    trackers the options turn on; with ``consented`` only a batch of readers who all agreed
    (:attr:`~newsletter.delivery.base.Batch.tracked`) has them, every other request has
    every tracker off (the send loop never mixes the two in one batch).
    """

    def __init__(self, message: Message, options: SendGridOptions, *, sandbox: bool = False, tracking: str = "everyone") -> None:
        self.message = message
        self._fill = substituter(message.tokens)
        self._rows_body: dict[bool, tuple[RowMaker, RowsBody]] = {}
        # '{"personalizations":[' + items + '],' + the rest of the common object
        self._tail = b"," + orjson.dumps(common_fields(message, options, sandbox=sandbox))[1:]
        self._tails = {False: self._tail, True: self._tail}
        if tracking == "consented":
            self._tails[False] = (
                b"," + orjson.dumps(common_fields(message, options, sandbox=sandbox, trackers=(False, False)))[1:]
            )
            self._tails[True] = (
                b"," + orjson.dumps(common_fields(message, options, sandbox=sandbox, trackers=options.trackers(tracking)))[1:]
            )

    def items(self, recipients: Sequence[Recipient]) -> bytes:
        """The JSON array of personalisations (one list of dicts, serialised at once)."""
        fill = self._fill
        args = {"send_id": self.message.send_id}
        unsubscribe = self.message.list_unsubscribe
        out: list[dict[str, Any]] = []
        append = out.append
        for r in recipients:
            email = r.email if r.email.isascii() else ascii_address(r.email)
            name = quoted_name(r.name)
            to = {"email": email, "name": name} if name else {"email": email}
            item: dict[str, Any] = {
                "to": [to],
                "substitutions": fill(r.values),
                "headers": {"List-Unsubscribe": unsubscribe(r), "List-Unsubscribe-Post": ONE_CLICK},
                "custom_args": args,
            }
            at = r.values.get(SEND_AT_KEY)  # local-time delivery: the reader's own send time
            if at is not None:
                item["send_at"] = at
            append(item)
        return orjson.dumps(out)

    def build(self, recipients: Sequence[Recipient]) -> bytes:
        """The request body (joined at once: each concatenation of a body this size cost
        a fresh 600 KB copy). A batch of journal rows is built straight from its rows."""
        tracked = isinstance(recipients, Batch) and recipients.tracked
        if isinstance(recipients, Batch) and isinstance(recipients.make, RowMaker):
            return self.rows_body(recipients.make, tracked).build(recipients.rows)
        return b"".join((HEAD, self.items(recipients), self._tails[tracked]))

    def rows_body(self, make: RowMaker, tracked: bool = False) -> RowsBody:
        """The builder of bodies straight from journal rows, as if each were first made
        into a :class:`Recipient` by ``make`` (a property test holds the two paths equal);
        its spec is what the request process builds the same bodies from. ``tracked``: the
        body of a batch of readers who agreed to tracking."""
        known = self._rows_body.get(tracked)
        if known is not None and known[0] is make:
            return known[1]
        spec = body_spec(
            self.message.tokens,
            secret=make.secret,
            unsubscribe_url=make.unsubscribe_url,
            fallback=make.fallback,
            greeting=make.greeting,
            send_id=self.message.send_id,
            mailto=self.message.unsubscribe_mailto_part,
            tail=self._tails[tracked],
        )
        body = RowsBody(spec)
        self._rows_body[tracked] = (make, body)
        return body

    def as_dict(self, recipients: Sequence[Recipient]) -> dict[str, Any]:
        result: dict[str, Any] = orjson.loads(self.build(recipients))
        return result


class SendGridProvider:
    """Posts batches of up to 1,000 personalisations to ``/v3/mail/send``.

    With ``background``, requests started with :meth:`start` are posted by a second
    process (:mod:`newsletter.delivery.poster`) while the caller builds the next.
    Either way every request of a recorded send (see :meth:`record`) is written to
    the send's outcome log by the process that posts it.
    """

    name: ClassVar[str] = "sendgrid"
    traits: ClassVar[Traits] = Traits(
        max_batch=MAX_PERSONALIZATIONS, can_schedule=True, has_sandbox=True, carries=frozenset(FEATURES)
    )

    def __init__(
        self,
        key: str,
        options: SendGridOptions,
        *,
        host: ApiHost | str | None = None,
        sandbox: bool = False,
        background: bool = False,
        lock: Path | None = None,
        tracking: str = "everyone",
    ) -> None:
        from newsletter.delivery.api import parse_api_host

        self.options = options
        self.tracking = tracking
        self.sandbox = sandbox
        self.host = parse_api_host(host) if isinstance(host, str) else (host or api_host())
        self._sender = MailSender(key, self.host, options.timeout)
        self._builder: PayloadBuilder | None = None
        self._poster: Poster | None = None
        if background:
            with contextlib.suppress(RetryLater):  # no second process: post from this one
                self._poster = Poster(key, self.host, options.timeout, lock)

    def unsendable(self, email: str) -> str | None:
        return unsendable_by_sendgrid(email)

    @property
    def handshakes(self) -> int:
        """Connections opened by this process (the request process counts its own)."""
        return self._sender.handshakes

    def _builder_for(self, message: Message) -> PayloadBuilder:
        builder = self._builder
        if builder is None or builder.message is not message:
            builder = self._builder = PayloadBuilder(message, self.options, sandbox=self.sandbox, tracking=self.tracking)
        return builder

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> Request:
        """The request body, built once per batch (retries send the same bytes); for a
        batch of journal rows that the request process will post, what it builds the
        body from instead (it builds the same bytes: see :mod:`~newsletter.delivery.bodies`)."""
        builder = self._builder_for(message)
        poster = self._poster
        if poster is not None and poster.alive and isinstance(recipients, Batch) and isinstance(recipients.make, RowMaker):
            return RowsJob(builder.rows_body(recipients.make, recipients.tracked), recipients)
        return builder.build(recipients)

    def ahead(self, prepared: Request) -> None:
        """Have the request process build the body of the batch to be started next now,
        while the request before it is out."""
        poster = self._poster
        if isinstance(prepared, RowsJob) and poster is not None and poster.alive:
            with contextlib.suppress(RetryLater):  # the child is gone: :meth:`start` finds out
                prepared.built_by(poster)

    def send(self, message: Message, recipients: Sequence[Recipient], on: Attempt) -> BatchResult:
        post_recorded(self._sender, self._builder_for(message).build(recipients), on.log, on.batch)
        return BatchResult(accepted=_seqs(recipients))

    def send_prepared(self, message: Message, recipients: Sequence[Recipient], prepared: Request, on: Attempt) -> BatchResult:
        """:meth:`send` with the body :meth:`prepare` made (a retry posts the same bytes; a
        body the request process was to build is built here)."""
        data = prepared if isinstance(prepared, bytes) else self._builder_for(message).build(recipients)
        post_recorded(self._sender, data, on.log, on.batch)
        return BatchResult(accepted=_seqs(recipients))

    def get_ready(self) -> None:
        """Have the request process started before the first request (the rate cap's
        clock starts then); without one, nothing to do."""
        poster = self._poster
        if poster is not None and poster.alive:
            with contextlib.suppress(RetryLater):  # it did not start: :meth:`start` finds out
                poster.wait_ready()

    def start(self, message: Message, recipients: Sequence[Recipient], prepared: Request, on: Attempt) -> Started | None:
        """Begin sending in the request process; calling the result gives what :meth:`send`
        would. None without a request process (then :meth:`send_prepared` it)."""
        poster = self._poster
        if poster is None or not poster.alive:
            return None
        log = on.log.path if on.log is not None else None
        try:
            if isinstance(prepared, RowsJob):
                poster.submit(prepared.built_by(poster), on.batch, log)
            else:
                poster.submit(prepared, on.batch, log)
        except RetryLater as exc:
            refused = exc  # nothing was handed over: the send loop tries again

            def again() -> BatchResult:
                raise refused

            return again

        def answer() -> BatchResult:
            poster.result()
            return BatchResult(accepted=_seqs(recipients))

        return answer

    def close(self, *, at_once: bool = False) -> None:
        """``at_once``: the request process goes on alone: it records the answer to the request
        on its way in the outcome log, and holds the poster lock (the next run waits for it)
        until then."""
        self._builder = None
        self._sender.close()
        if self._poster is not None:
            if at_once:
                self._poster.leave()
            else:
                self._poster.close()
            self._poster = None


@dataclass(slots=True)
class RowsJob:
    """A request the request process builds from journal rows (see :meth:`SendGridProvider.prepare`)."""

    body: RowsBody
    batch: Batch
    built: int | None = None
    """The request process's number for the body, once it was asked to build it."""

    def built_by(self, poster: Poster) -> int:
        """The request process's number for the body, asking it to build it the first time."""
        if self.built is None:
            self.built = poster.build(self.batch.rows_json(), self.body.spec)
        return self.built


Request = bytes | RowsJob
"""A SendGrid batch's prepared payload: its request body, or what the request process builds it from."""


def _seqs(recipients: Sequence[Recipient]) -> list[int]:
    return recipients.seqs if isinstance(recipients, Batch) else [r.seq for r in recipients]
