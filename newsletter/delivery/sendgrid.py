"""SendGrid's v3 Mail Send API: request bodies, and posting them over one kept-alive connection.

Payloads are plain dicts serialised with orjson (the helper classes are several
times slower for a thousand personalisations). The key comes only from
``SENDGRID_API_KEY``; it is never printed or logged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from newsletter.delivery.base import (
    Batch,
    BatchResult,
    Message,
    ProviderBase,
    Recipient,
    RetryLater,
    RowTuple,
    Started,
)
from newsletter.delivery.api import KEY_ENV, api_host, api_key
from newsletter.delivery.headers import ONE_CLICK, ascii_address, quoted_name, unsendable_by_sendgrid
from newsletter.delivery.plan import RowMaker
from newsletter.delivery.poster import Poster
from newsletter.delivery.posting import ApiHost, MailSender, post_recorded
from newsletter.render.personalize import ESCAPERS, substituter, substitutions_source
from newsletter.settings import SendGridOptions

MAX_PERSONALIZATIONS = 1000
__all__ = ["KEY_ENV", "MAX_PERSONALIZATIONS", "PayloadBuilder", "SendGridProvider", "api_key", "common_fields"]


def common_fields(message: Message, options: SendGridOptions, *, sandbox: bool) -> dict[str, Any]:
    """Everything in a request except the personalisations."""
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
            "click_tracking": {"enable": options.click_tracking, "enable_text": False},
            "open_tracking": {"enable": options.open_tracking},
            "subscription_tracking": {"enable": False},
            "ganalytics": {"enable": False},
        },
        "mail_settings": {"sandbox_mode": {"enable": sandbox}},
    }
    if options.asm_group_id is not None:
        body["asm"] = {"group_id": options.asm_group_id}
    if message.send_at is not None:
        body["send_at"] = message.send_at
    if message.batch_id is not None:  # issue 12: a scheduled send that can be cancelled
        body["batch_id"] = message.batch_id
    return body


def _mailbox(name: str, email: str) -> dict[str, str]:
    name = quoted_name(name)
    return {"email": ascii_address(email), "name": name} if name else {"email": ascii_address(email)}


class PayloadBuilder:
    """Builds request bodies for one message: the common part serialised once.

    Per recipient: ``to``, the substitutions (escaped per context), the one-click
    unsubscribe headers and ``custom_args`` with the send id only.
    """

    def __init__(self, message: Message, options: SendGridOptions, *, sandbox: bool = False) -> None:
        self.message = message
        self._fill = substituter(message.tokens)
        self._rows_items: tuple[RowMaker, Callable[[list[RowTuple]], bytes]] | None = None
        common = orjson.dumps(common_fields(message, options, sandbox=sandbox))
        # '{"personalizations":[' + items + '],' + the rest of the common object
        self._tail = b"," + common[1:]

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
            append({
                "to": [to],
                "substitutions": fill(r.values),
                "headers": {"List-Unsubscribe": unsubscribe(r), "List-Unsubscribe-Post": ONE_CLICK},
                "custom_args": args,
            })
        return orjson.dumps(out)

    def build(self, recipients: Sequence[Recipient]) -> bytes:
        """The request body (joined at once: each concatenation of a body this size cost
        a fresh 600 KB copy). A batch of journal rows is built straight from its rows."""
        if isinstance(recipients, Batch) and isinstance(recipients.make, RowMaker):
            items = self.rows_items(recipients.make)(recipients.rows)
        else:
            items = self.items(recipients)
        return b"".join((b'{"personalizations":', items, self._tail))

    def rows_items(self, make: RowMaker) -> Callable[[list[RowTuple]], bytes]:
        """:meth:`items` for journal rows, as if each were first made into a :class:`Recipient`
        by ``make``: the function is written out for this message's tokens (see
        :func:`~newsletter.render.personalize.substituter`), with no recipient or values
        dict in between (a third faster; a property test holds the two paths equal)."""
        if self._rows_items is not None and self._rows_items[0] is make:
            return self._rows_items[1]
        tokens = self.message.tokens
        names = substitutions_source(tokens, {"first_name": "first_name", "last_name": "last",
                                              "email": "email", "unsubscribe_url": "url"})
        others = substitutions_source(tokens, {"email": "email", "unsubscribe_url": "url"})
        source = (
            "def items(rows):\n"
            "    out = []\n"
            "    append = out.append\n"
            "    for seq, email, first, last, vals in rows:\n"
            "        url = link(tok(email))\n"
            "        name = qn(f'{first} {last}'.strip())\n"
            "        address = email if email.isascii() else asc(email)\n"
            "        if vals is None:\n"
            "            first_name = first or fallback\n"
            "            get = empty\n"
            f"            subs = {names}\n"
            "        else:\n"
            "            get = loads(vals).get\n"
            f"            subs = {others}\n"
            "        append({'to': [{'email': address, 'name': name} if name else {'email': address}],"
            " 'substitutions': subs,"
            " 'headers': {'List-Unsubscribe': f'<{url}>' + mailto, 'List-Unsubscribe-Post': one_click},"
            " 'custom_args': args})\n"
            "    return dumps(out)\n"
        )
        namespace: dict[str, object] = {
            **ESCAPERS, "qn": quoted_name, "asc": ascii_address, "tok": make.token, "link": make.link,
            "fallback": make.fallback, "loads": orjson.loads, "dumps": orjson.dumps, "empty": {}.get,
            "one_click": ONE_CLICK, "args": {"send_id": self.message.send_id},
            "mailto": self.message.unsubscribe_mailto_part,
        }
        exec(source, namespace)  # noqa: S102 - token names validated by substitutions_source
        items: Callable[[list[RowTuple]], bytes] = namespace["items"]  # type: ignore[assignment]
        self._rows_items = (make, items)
        return items

    def as_dict(self, recipients: Sequence[Recipient]) -> dict[str, Any]:
        result: dict[str, Any] = orjson.loads(self.build(recipients))
        return result


class SendGridProvider(ProviderBase):
    """Posts batches of up to 1,000 personalisations to ``/v3/mail/send``.

    With ``background``, requests started with :meth:`start` are posted by a second
    process (:mod:`newsletter.delivery.poster`) while the caller builds the next.
    Either way every request of a recorded send (see :meth:`record`) is written to
    the send's outcome log by the process that posts it.
    """

    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS
    message_by_message = False
    resend_is_harmless = False
    can_schedule = True
    has_sandbox = True
    one_click = True

    def __init__(self, key: str, options: SendGridOptions, *, host: ApiHost | str | None = None,
                 sandbox: bool = False, background: bool = False, lock: Path | None = None) -> None:
        from newsletter.delivery.api import parse_api_host

        super().__init__()
        self.options = options
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

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> bytes:
        """The request body, built once per batch (retries send the same bytes)."""
        builder = self._builder
        if builder is None or builder.message is not message:
            builder = self._builder = PayloadBuilder(message, self.options, sandbox=self.sandbox)
        return builder.build(recipients)

    def send(self, message: Message, recipients: Sequence[Recipient], prepared: object = None,
             batch: int = 0) -> BatchResult:
        data = prepared if isinstance(prepared, bytes) else self.prepare(message, recipients)
        post_recorded(self._sender, data, self.log, batch)
        return BatchResult(accepted=_seqs(recipients))

    def get_ready(self) -> None:
        """Have the request process started before the first request (the rate cap's
        clock starts then); without one, nothing to do."""
        poster = self._poster
        if poster is not None and poster.alive:
            with contextlib.suppress(RetryLater):  # it did not start: :meth:`start` finds out
                poster.wait_ready()

    def start(self, message: Message, recipients: Sequence[Recipient], prepared: object = None,
              batch: int = 0) -> Started | None:
        """Begin sending in the request process; calling the result gives what :meth:`send`
        would. None without a request process (then :meth:`send` it)."""
        poster = self._poster
        if poster is None or not poster.alive:
            return None
        data = prepared if isinstance(prepared, bytes) else self.prepare(message, recipients)
        try:
            poster.submit(data, batch, self.log.path if self.log is not None else None)
        except RetryLater as exc:
            refused = exc  # nothing was handed over: the send loop tries again

            def again() -> BatchResult:
                raise refused

            return again

        def answer() -> BatchResult:
            poster.result()
            return BatchResult(accepted=_seqs(recipients))

        return answer

    def close(self) -> None:
        self._builder = None
        self._sender.close()
        if self._poster is not None:
            self._poster.close()
            self._poster = None


def _seqs(recipients: Sequence[Recipient]) -> list[int]:
    return recipients.seqs if isinstance(recipients, Batch) else [r.seq for r in recipients]
