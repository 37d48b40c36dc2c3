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
PAGE = 1000
"""The most messages one search gives (SendGrid's limit)."""
SKEW = 600.0
"""Seconds before a request's start that its messages are searched from (clocks differ)."""


def _quoted(value: str) -> str:
    if '"' in value or "'" in value or "\\" in value:
        raise ValueError("a value holding a quote cannot be searched for")
    return f'"{value}"'


def _stamp(t: float, fraction: bool = False) -> str:
    when = dt.datetime.fromtimestamp(max(0.0, t), dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def _category(category: str) -> str:
    return f"categories IN ({_quoted(category).replace(chr(34), chr(39))})"


def query(email: str, category: str, since: float) -> str:
    """The filter that finds this send's message to ``email`` created from ``since`` on."""
    return (
        f"to_email = {_quoted(email)} AND {_category(category)}"
        f' AND sg_message_id_created_at >= TIMESTAMP "{_stamp(since - SKEW)}"'
    )


def window(category: str, start: float, end: float) -> str:
    """The filter for this send's messages created in ``[start, end)``."""
    fraction = start != int(start) or end != int(end)
    return (
        f'{_category(category)} AND sg_message_id_created_at >= TIMESTAMP "{_stamp(start, fraction)}"'
        f' AND sg_message_id_created_at < TIMESTAMP "{_stamp(end, fraction)}"'
    )


@dataclass(frozen=True, slots=True)
class Found:
    processed: bool
    message_id: str = ""
    status: str = ""


class Searcher:
    """One account's Email Logs, searched a bounded number of times."""

    def __init__(
        self,
        sg: SendGridAPIClient | None = None,
        *,
        limit: int = MAX_SEARCHES,
        page: int = PAGE,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.sg = sg or client(timeout)
        self.limit = self.left = limit
        self.page = page
        self.sleep = sleep

    def _search(self, text: str, limit: int) -> list[dict[str, Any]]:
        if self.left <= 0:
            raise SendGridError(f"searching SendGrid's Email Logs: more than {self.limit} searches would be needed")
        self.left -= 1
        answer: Any = call(
            "searching SendGrid's Email Logs",
            lambda: self.sg.client.logs.post(request_body={"query": text, "limit": limit}),
            sleep=self.sleep,
        )
        messages = answer.get("messages") if isinstance(answer, dict) else None
        if not isinstance(messages, list):
            raise SendGridError("searching SendGrid's Email Logs: the answer holds no list of messages")
        return [m for m in messages if isinstance(m, dict)]

    def messages(self, category: str, start: float, end: float, statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Every message of ``category`` SendGrid processed in ``[start, end)`` (only those
        in ``statuses``, when given), oldest window first. A search gives at most
        :data:`PAGE` messages and has no next page: a full one is searched again as two
        halves of its time window."""
        found: list[dict[str, Any]] = []
        windows = [(start, end)]
        extra = f" AND status IN ({', '.join(repr(s) for s in statuses)})" if statuses else ""
        while windows:
            a, b = windows.pop()
            messages = self._search(window(category, a, b) + extra, self.page)
            if len(messages) >= self.page:
                if b - a <= 0.002:
                    raise SendGridError("searching SendGrid's Email Logs: too many messages in one millisecond to list them")
                middle = (a + b) / 2
                windows += [(middle, b), (a, middle)]
                continue
            found.extend(messages)
        return found

    def every(self, category: str, start: float, end: float) -> set[str]:
        """The (lower-cased) recipients of every message of ``category`` in ``[start, end)``."""
        found = {str(m.get("to_email", "")).lower() for m in self.messages(category, start, end)}
        found.discard("")
        return found

    def find(self, email: str, category: str, since: float) -> Found:
        """Whether SendGrid processed a message of ``category`` to ``email`` since ``since``;
        raises :class:`SendGridError` when the log cannot be asked."""
        try:
            text = query(email, category, since)
        except ValueError as exc:
            raise SendGridError(f"searching SendGrid's Email Logs: {exc}") from None
        for m in self._search(text, 10):
            if str(m.get("to_email", "")).lower() == email.lower():
                return Found(True, str(m.get("sg_message_id", ""))[:100], str(m.get("status", ""))[:20])
        return Found(False)
