"""SendGrid's v3 Mail Send API through the official ``sendgrid`` client.

Payloads are plain dicts serialised with orjson (the helper classes are several
times slower for a thousand personalisations). The key comes only from
``SENDGRID_API_KEY``; it is handed to the client and never printed or logged.
"""

from __future__ import annotations

import http.client
import logging
import os
import time
import urllib.error
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient

from newsletter.delivery.base import (
    ONE_CLICK,
    BatchResult,
    Message,
    Recipient,
    Rejected,
    RetryLater,
    Unknown,
)
from newsletter.render.personalize import substitutions
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


def personalization(message: Message, recipient: Recipient) -> dict[str, Any]:
    to: dict[str, str] = {"email": recipient.email}
    if recipient.name:
        to["name"] = recipient.name
    return {
        "to": [to],
        "substitutions": substitutions(message.tokens, recipient.values),
        "headers": {
            "List-Unsubscribe": message.list_unsubscribe(recipient),
            "List-Unsubscribe-Post": ONE_CLICK,
        },
        "custom_args": {"send_id": message.send_id},
    }


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
    """Builds request bodies for one message: the common part serialised once."""

    def __init__(self, message: Message, options: SendGridOptions, *, sandbox: bool = False) -> None:
        self.message = message
        common = orjson.dumps(common_fields(message, options, sandbox=sandbox))
        # '{"personalizations":[' + items + '],' + rest of the common object
        self._tail = b"]," + common[1:]

    def build(self, recipients: Sequence[Recipient]) -> bytes:
        message = self.message
        items = b",".join(orjson.dumps(personalization(message, r)) for r in recipients)
        return b'{"personalizations":[' + items + self._tail

    def as_dict(self, recipients: Sequence[Recipient]) -> dict[str, Any]:
        result: dict[str, Any] = orjson.loads(self.build(recipients))
        return result


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


class SendGridProvider:
    """Posts batches of up to 1,000 personalisations to ``/v3/mail/send``."""

    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS

    def __init__(self, key: str, options: SendGridOptions, *, host: str | None = None,
                 sandbox: bool = False) -> None:
        self.options = options
        self.sandbox = sandbox
        self._client = SendGridAPIClient(key, host=host or api_host())
        self._builders: dict[str, PayloadBuilder] = {}

    def payload(self, message: Message, recipients: Sequence[Recipient]) -> bytes:
        builder = self._builders.get(message.send_id)
        if builder is None or builder.message is not message:
            builder = PayloadBuilder(message, self.options, sandbox=self.sandbox)
            self._builders[message.send_id] = builder
        return builder.build(recipients)

    def send(self, message: Message, recipients: Sequence[Recipient]) -> BatchResult:
        body = self.payload(message, recipients).decode("utf-8")
        try:
            response = self._client.client.mail.send.post(
                request_body=body,
                request_headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self.options.timeout,
            )
        except http_errors.HTTPError as exc:
            raise self._classify(exc) from None
        except urllib.error.URLError as exc:
            # urllib wraps errors raised while connecting or writing the request:
            # the request never reached the server whole, so it is safe to retry.
            raise RetryLater(f"could not reach SendGrid: {_reason(exc.reason)}") from None
        except TimeoutError:
            raise Unknown(
                f"no answer within {self.options.timeout:g} s after the request was sent"
            ) from None
        except (http.client.HTTPException, OSError) as exc:
            raise Unknown(f"connection lost after the request was sent: {_reason(exc)}") from None
        status = response.status_code
        if 200 <= status < 300:
            return BatchResult(accepted=[r.seq for r in recipients])
        raise Unknown(f"unexpected answer {status} from SendGrid")

    def _classify(self, exc: http_errors.HTTPError) -> Exception:
        status = int(exc.status_code)
        text = _error_text(exc.body)
        if status == 429:
            return RetryLater(f"SendGrid rate limit (429): {text}", retry_wait(exc.headers))
        if status >= 500:
            return RetryLater(f"SendGrid server error ({status}): {text}")
        return Rejected(f"SendGrid refused the request ({status}): {text}")

    def close(self) -> None:
        self._builders.clear()


def _reason(exc: object) -> str:
    text = str(exc) or type(exc).__name__
    return text
