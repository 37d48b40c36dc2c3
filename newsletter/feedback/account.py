"""The SendGrid account the feedback commands talk to, and one careful way to call it.

The key comes only from ``SENDGRID_API_KEY`` and the host from ``SENDGRID_API_HOST``
(the EU region or a local test server), checked as for sending
(:mod:`newsletter.delivery.api`). Every call goes through the official client, which
never follows a redirect, waits at most ``delivery.sendgrid.timeout`` seconds for a whole
answer and reads at most 16 MB of one; :func:`call` turns its answers into JSON or a :class:`SendGridError`
in SendGrid's own words, and waits out a 429 (``X-RateLimit-Reset`` or
``Retry-After``) a bounded number of times for a bounded time.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from newsletter.delivery import api
from newsletter.delivery.api import HOST_ENV, KEY_ENV, TIMEOUT, AnswerTooLarge, api_key
from newsletter.delivery.posting import error_text, printable, retry_wait
from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

__all__ = ["TIMEOUT", "SendGridError", "api_host", "call", "client"]

RATE_LIMIT_TRIES = 5
"""How many 429 answers in a row one call waits out before giving up."""
LONGEST_WAIT = 60.0
"""The longest wait for a rate limit to reset; a later reset is reported, not waited for."""
WAIT_WITHOUT_HEADER = 1.0
"""First wait after a 429 that names no reset time (doubling each time)."""

# The HTTP client logs request headers (the key) at DEBUG: never let it.
logging.getLogger("python_http_client").setLevel(logging.WARNING)


class SendGridError(NewsletterError):
    """SendGrid refused or could not be reached; the message holds SendGrid's own words."""

    exit_code = 2

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status SendGrid answered with, when it answered."""


def client(timeout: float = TIMEOUT) -> SendGridAPIClient:
    """The official client for the configured account (refuses without a key, or with a
    ``SENDGRID_API_HOST`` that is not one); it never follows a redirect and gives each
    call ``timeout`` seconds for its whole answer."""
    key = api_key()
    if not key:
        raise SendGridError(
            f"{KEY_ENV} is not set: the SendGrid account is unknown (set it in the environment; it is never printed or stored)"
        )
    return api.client(key, api.api_host(), timeout)


def api_host() -> str:
    """The API host as configured, for messages."""
    return api.api_host().url


Request = Callable[[], Any]


def call(what: str, request: Request, *, sleep: Callable[[float], None] | None = None, expect_json: bool = True) -> Any:
    """Make one request (``request()`` calls the official client) and return its JSON.

    ``what`` names the request in messages ("reading bounces"). A 429 is waited out
    (at most :data:`RATE_LIMIT_TRIES` times, each wait at most :data:`LONGEST_WAIT`);
    anything else that is not a 2xx answer raises :class:`SendGridError`.
    """
    from python_http_client import exceptions as http_errors

    wait_for = sleep or time.sleep
    fallback = WAIT_WITHOUT_HEADER
    for _ in range(RATE_LIMIT_TRIES + 1):
        try:
            response = request()
        except http_errors.HTTPError as exc:
            status = int(exc.status_code)
            words = error_text(exc.body)
            if status == 429:
                wait = retry_wait(exc.headers)
                if wait is None:
                    wait, fallback = fallback, min(fallback * 2, LONGEST_WAIT)
                if wait > LONGEST_WAIT:
                    raise SendGridError(
                        f"{what}: SendGrid's rate limit (429: {words}) resets in {_duration(wait)}; run the command again then"
                    ) from None
                wait_for(wait + 0.05)
                continue
            if 300 <= status < 400:
                where = printable((exc.headers or {}).get("Location", "") or "")[:200] or "nowhere"
                raise SendGridError(
                    f"{what}: SendGrid's API host answered {status} with a redirect to {where}: "
                    f"not followed (the key would go with it); set {HOST_ENV} to the final "
                    "address",
                    status,
                ) from None
            if status in (401, 403):
                raise SendGridError(
                    f"{what}: SendGrid refused the key ({status}): {words} (check {KEY_ENV} and the key's permissions)", status
                ) from None
            raise SendGridError(f"{what}: SendGrid answered {status}: {words}", status) from None
        except TimeoutError:
            raise SendGridError(
                f"{what}: SendGrid at {api_host()} did not answer in time (delivery.sendgrid.timeout in newsletter.yaml)"
            ) from None
        except AnswerTooLarge as exc:
            raise SendGridError(
                f"{what}: SendGrid's answer is too large ({exc}); stopped reading; is {HOST_ENV} right?"
            ) from None
        except ConnectionRefusedError as exc:
            raise SendGridError(f"{what}: could not reach SendGrid at {api_host()}: {exc.strerror}") from None
        except (http.client.HTTPException, OSError) as exc:
            raise SendGridError(f"{what}: the connection to SendGrid failed: {exc or type(exc).__name__}") from None
        if not expect_json:
            return None
        body = response.body
        if not body:
            return None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SendGridError(
                f"{what}: SendGrid's answer is not JSON ({error_text(body)[:80]!r}); is {HOST_ENV} right?"
            ) from None
    raise SendGridError(
        f"{what}: SendGrid's rate limit (429) did not lift after {RATE_LIMIT_TRIES} waits; run the command again later"
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
