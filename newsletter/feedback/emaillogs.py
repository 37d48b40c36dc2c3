"""SendGrid's Email Logs: did SendGrid process a message of this send to this reader?

``POST /v3/logs`` searches the messages SendGrid processed (for 30 days) with a small
filter language: ``to_email = "…"``, ``categories IN ('…')``,
``sg_message_id_created_at >= TIMESTAMP "…"``, joined by ``AND``. Every send carries
its own category (see :mod:`newsletter.delivery.records`), so one reader of a request
and the send's category find that request again: found means SendGrid processed it.

Each search is one call through :func:`newsletter.feedback.account.call` with a
timeout (:data:`TIMEOUT`), 429s waited out a bounded number of times; one settling
asks at most :data:`MAX_SEARCHES` of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsletter.feedback.account import SendGridError, call, client

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

TIMEOUT = 30.0
MAX_SEARCHES = 200
"""Searches one settling may make (one per request whose fate is unknown)."""
SKEW = 600.0
"""Seconds before a request's start that its messages are searched from (clocks differ)."""


def _quoted(value: str) -> str:
    if '"' in value or "'" in value or "\\" in value:
        raise ValueError("a value holding a quote cannot be searched for")
    return f'"{value}"'


def query(email: str, category: str, since: float) -> str:
    """The filter that finds this send's message to ``email`` created from ``since`` on."""
    when = dt.datetime.fromtimestamp(max(0.0, since - SKEW), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"to_email = {_quoted(email)} AND categories IN ({_quoted(category).replace(chr(34), chr(39))})"
            f' AND sg_message_id_created_at >= TIMESTAMP "{when}"')


@dataclass(frozen=True, slots=True)
class Found:
    processed: bool
    message_id: str = ""
    status: str = ""


class Searcher:
    """One account's Email Logs, searched a bounded number of times."""

    def __init__(self, sg: SendGridAPIClient | None = None, *, limit: int = MAX_SEARCHES,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.sg = sg or client()
        self.sg.client.timeout = TIMEOUT
        self.left = limit
        self.sleep = sleep

    def find(self, email: str, category: str, since: float) -> Found:
        """Whether SendGrid processed a message of ``category`` to ``email`` since ``since``;
        raises :class:`SendGridError` when the log cannot be asked."""
        if self.left <= 0:
            raise SendGridError("searching SendGrid's Email Logs: too many searches for one run")
        self.left -= 1
        try:
            text = query(email, category, since)
        except ValueError as exc:
            raise SendGridError(f"searching SendGrid's Email Logs: {exc}") from None
        answer: Any = call("searching SendGrid's Email Logs",
                           lambda: self.sg.client.logs.post(request_body={"query": text, "limit": 10}),
                           sleep=self.sleep)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if not isinstance(messages, list):
            raise SendGridError("searching SendGrid's Email Logs: the answer holds no list of messages")
        for m in messages:
            if isinstance(m, dict) and str(m.get("to_email", "")).lower() == email.lower():
                return Found(True, str(m.get("sg_message_id", ""))[:100], str(m.get("status", ""))[:20])
        return Found(False)
