"""SendGrid's v3 Mail Send API through the official ``sendgrid`` client.

Payloads are plain dicts serialised with orjson (the helper classes are several
times slower for a thousand personalisations). The key comes only from
``SENDGRID_API_KEY``; it is handed to the client and never printed or logged.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from newsletter.delivery.base import (
    ONE_CLICK,
    Batch,
    BatchResult,
    Message,
    Recipient,
    Rejected,
    RetryLater,
    RowTuple,
    Started,
    Unknown,
)
from newsletter.delivery.poster import Poster
from newsletter.delivery.plan import RowMaker
from newsletter.render.personalize import ESCAPERS, substituter, substitutions_source
from newsletter.settings import SendGridOptions

KEY_ENV = "SENDGRID_API_KEY"
HOST_ENV = "SENDGRID_API_HOST"
DEFAULT_HOST = "https://api.sendgrid.com"
MAX_PERSONALIZATIONS = 1000

# The HTTP client logs request headers (the key) and bodies at DEBUG: never let it.
logging.getLogger("python_http_client").setLevel(logging.WARNING)


def api_key() -> str:
    return os.environ.get(KEY_ENV, "").strip()


def api_host() -> str:
    return os.environ.get(HOST_ENV, "").strip().rstrip("/") or DEFAULT_HOST


def common_fields(message: Message, options: SendGridOptions, *, sandbox: bool) -> dict[str, Any]:
    """Everything in a request except the personalisations."""
    body: dict[str, Any] = {
        "from": {"email": message.sender.email, "name": message.sender.name},
        "reply_to": {"email": message.reply_to.email, "name": message.reply_to.name},
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
    return body


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

    @staticmethod
    def items(message: Message, fill: Callable[[Mapping[str, str]], dict[str, str]],
              recipients: Sequence[Recipient]) -> bytes:
        """The JSON array of personalisations (one list of dicts, serialised at once)."""
        args = {"send_id": message.send_id}
        unsubscribe = message.list_unsubscribe
        out: list[dict[str, Any]] = []
        append = out.append
        for r in recipients:
            to = {"email": r.email, "name": r.name} if r.name else {"email": r.email}
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
            items = self.items(self.message, self._fill, recipients)
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
            "        name = f'{first} {last}'.strip()\n"
            "        if vals is None:\n"
            "            first_name = first or fallback\n"
            "            get = empty\n"
            f"            subs = {names}\n"
            "        else:\n"
            "            get = loads(vals).get\n"
            f"            subs = {others}\n"
            "        append({'to': [{'email': email, 'name': name} if name else {'email': email}],"
            " 'substitutions': subs,"
            " 'headers': {'List-Unsubscribe': f'<{url}>' + mailto, 'List-Unsubscribe-Post': one_click},"
            " 'custom_args': args})\n"
            "    return dumps(out)\n"
        )
        mailto = self.message.unsubscribe_mailto
        namespace: dict[str, object] = {
            **ESCAPERS, "tok": make.token, "link": make.link, "fallback": make.fallback, "loads": orjson.loads,
            "dumps": orjson.dumps, "empty": {}.get, "one_click": ONE_CLICK, "args": {"send_id": self.message.send_id},
            "mailto": f", <mailto:{mailto}?subject=unsubscribe>" if mailto else "",
        }
        exec(source, namespace)  # noqa: S102 - token names validated by substitutions_source
        items: Callable[[list[RowTuple]], bytes] = namespace["items"]  # type: ignore[assignment]
        self._rows_items = (make, items)
        return items

    def as_dict(self, recipients: Sequence[Recipient]) -> dict[str, Any]:
        result: dict[str, Any] = orjson.loads(self.build(recipients))
        return result


class _Body(str):
    """A request body for the official client that skips its 3 ms debug line.

    ``python_http_client`` formats every request body into a debug message before
    deciding whether to log it (about 3 ms for a 600 KB request, 3 s per million
    recipients). Given a str whose ``encode`` returns a memoryview of the JSON, the
    client sends the same bytes and its message shows only ``<memory at …>``.
    """

    data: bytes

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> Any:
        return memoryview(self.data)


def _body(data: bytes) -> _Body:
    body = _Body()
    body.data = data
    return body


def _error_text(body: bytes | str | None) -> str:
    """SendGrid's own words from an error body (``errors[].message`` with their fields)."""
    if not body:
        return "no details given"
    try:
        data = orjson.loads(body)
        parts = []
        for err in data.get("errors", []):
            text = str(err.get("message", "")).strip()
            if err.get("field"):
                text = f"{err['field']}: {text}"
            parts.append(text)
        if parts:
            return "; ".join(parts)
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        pass
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text.strip()[:500]


def retry_wait(headers: Any, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset``."""
    if headers is None:
        return None
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    return None


def post_body(client: SendGridAPIClient, data: bytes, timeout: float) -> None:
    """POST one request body with the official client; raise :class:`RetryLater`,
    :class:`Unknown` or :class:`Rejected` for anything but a 2xx answer."""
    try:
        response = client.client.mail.send.post(
            request_body=_body(data),
            request_headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=timeout,
        )
    except http_errors.HTTPError as exc:
        raise _classify(exc) from None
    except urllib.error.URLError as exc:
        # urllib wraps errors raised while connecting or writing the request:
        # the request never reached the server whole, so it is safe to retry.
        raise RetryLater(f"could not reach SendGrid: {_reason(exc.reason)}") from None
    except TimeoutError:
        raise Unknown(f"no answer within {timeout:g} s after the request was sent") from None
    except (http.client.HTTPException, OSError) as exc:
        raise Unknown(f"connection lost after the request was sent: {_reason(exc)}") from None
    status = response.status_code
    if not 200 <= status < 300:
        raise Unknown(f"unexpected answer {status} from SendGrid")


def _classify(exc: http_errors.HTTPError) -> Exception:
    status = int(exc.status_code)
    text = _error_text(exc.body)
    if status == 429:
        return RetryLater(f"SendGrid rate limit (429): {text}", retry_wait(exc.headers))
    if status >= 500:
        return RetryLater(f"SendGrid server error ({status}): {text}")
    return Rejected(f"SendGrid refused the request ({status}): {text}")


class SendGridProvider:
    """Posts batches of up to 1,000 personalisations to ``/v3/mail/send``.

    With ``background``, requests started with :meth:`start` are posted by a second
    process (:mod:`newsletter.delivery.poster`) while the caller builds the next.
    """

    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS

    def __init__(self, key: str, options: SendGridOptions, *, host: str | None = None,
                 sandbox: bool = False, background: bool = False) -> None:
        self.options = options
        self.sandbox = sandbox
        self._host = host or api_host()
        self._client = SendGridAPIClient(key, host=self._host)
        self._builder: PayloadBuilder | None = None
        self._poster: Poster | None = None
        if background:
            with contextlib.suppress(RetryLater):  # no second process: post from this one
                self._poster = Poster(key, self._host, options.timeout)

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> bytes:
        """The request body, built once per batch (retries send the same bytes)."""
        builder = self._builder
        if builder is None or builder.message is not message:
            builder = self._builder = PayloadBuilder(message, self.options, sandbox=self.sandbox)
        return builder.build(recipients)

    def send(self, message: Message, recipients: Sequence[Recipient], prepared: object = None) -> BatchResult:
        data = prepared if isinstance(prepared, bytes) else self.prepare(message, recipients)
        post_body(self._client, data, self.options.timeout)
        return BatchResult(accepted=_seqs(recipients))

    def get_ready(self) -> None:
        """Have the request process started before the first request (the rate cap's
        clock starts then); without one, nothing to do."""
        poster = self._poster
        if poster is not None and poster.alive:
            with contextlib.suppress(RetryLater):  # it did not start: :meth:`start` finds out
                poster.wait_ready()

    def start(self, message: Message, recipients: Sequence[Recipient], prepared: object = None) -> Started | None:
        """Begin sending in the request process; calling the result gives what :meth:`send`
        would. None without a request process (then :meth:`send` it)."""
        poster = self._poster
        if poster is None or not poster.alive:
            return None
        data = prepared if isinstance(prepared, bytes) else self.prepare(message, recipients)
        try:
            poster.submit(data)
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
        if self._poster is not None:
            self._poster.close()
            self._poster = None


def _seqs(recipients: Sequence[Recipient]) -> list[int]:
    return recipients.seqs if isinstance(recipients, Batch) else [r.seq for r in recipients]


def _reason(exc: object) -> str:
    text = str(exc) or type(exc).__name__
    return text
