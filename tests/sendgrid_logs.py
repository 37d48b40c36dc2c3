"""SendGrid's Email Logs for the test server: what it really accepted, searchable.

Every personalisation of an accepted (not sandboxed) mail send becomes one message, as
SendGrid logs it: ``sg_message_id`` (the request's ``X-Message-Id`` and the
personalisation's number), the recipient, the From, the subject, the categories, the
time it was received, and a status that starts ``processed``. A test moves a message
on (:meth:`EmailLogs.event`: delivered, bounced, dropped, blocked, deferred, a spam
report) the way SendGrid's pipeline would.

``POST /v3/logs`` answers the filter language of ``tsg_logs_v3.json`` (``=`` on
``sg_message_id``, ``subject``, ``to_email``, ``reason``; ``IN`` on ``status`` and
``categories``; comparisons of ``sg_message_id_created_at`` with ``TIMESTAMP "…"``;
conditions joined by ``AND``), at most ``limit`` messages, newest first. A query it
cannot read is a 400, as SendGrid's is. ``GET /v3/logs/{sg_message_id}`` gives one
message with its events.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_CONDITION = re.compile(
    r"""\s*(?P<field>[a-z_]+)\s*(?:
        (?P<op>=|>=|<=|>|<)\s*(?:TIMESTAMP\s+)?(?P<q>["'])(?P<value>[^"']*)(?P=q)
      | IN\s*\((?P<list>\s*(?:["'][^"']*["']\s*,?\s*)+)\)
    )\s*""",
    re.VERBOSE,
)
_EQUAL = ("sg_message_id", "subject", "to_email", "reason")
_LISTED = ("status", "categories")


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Logged:
    sg_message_id: str
    to_email: str
    from_email: str
    subject: str
    categories: list[str]
    created: float
    status: str = "processed"
    reason: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)


class QueryError(ValueError):
    pass


class EmailLogs:
    """The messages the server accepted, for ``/v3/logs``."""

    def __init__(self) -> None:
        self.messages: list[Logged] = []
        self.by_id: dict[str, Logged] = {}
        self.searches = 0
        self.lock = threading.Lock()
        self._requests = 0
        self._receiving = 0
        self._idle = threading.Condition(self.lock)

    def receiving(self) -> None:
        """A mail send has begun to arrive: a search waits until it is logged or refused, as
        a log that is caught up would (the test server decides from its state, not a clock)."""
        with self.lock:
            self._receiving += 1

    def received(self) -> None:
        with self.lock:
            self._receiving -= 1
            self._idle.notify_all()

    def accept(self, body: dict[str, Any], received: float) -> str:
        """Log an accepted mail send; returns its ``X-Message-Id``."""
        with self.lock:
            self._requests += 1
            request_id = f"TESTmsg{self._requests:06d}"
            sender = str(body.get("from", {}).get("email", ""))
            categories = [str(c) for c in body.get("categories", [])]
            for i, person in enumerate(body.get("personalizations", [])):
                subject = str(person.get("subject") or body.get("subject", ""))
                for to in person.get("to", []):
                    message_id = f"{request_id}.filterdrecv-test-{i}"
                    logged = Logged(message_id, str(to["email"]), sender, subject, categories, received)
                    logged.events.append(self._event(logged, "processed", received))
                    self.messages.append(logged)
                    self.by_id[message_id] = logged
        return request_id

    def _event(self, m: Logged, kind: str, when: float, **extra: Any) -> dict[str, Any]:
        event = {
            "event": kind,
            "email": m.to_email,
            "sg_message_id": m.sg_message_id,
            "sg_event_id": f"ev{len(m.events)}-{m.sg_message_id[:12]}",
            "timestamp": int(when),
            "smtp-id": f"<{m.sg_message_id}@test>",
            "category": m.categories,
        }
        event.update(extra)
        return event

    def event(self, email: str, kind: str, reason: str = "", when: float | None = None) -> int:
        """Move every logged message to ``email`` on: ``delivered``, ``bounce``, ``blocked``,
        ``dropped``, ``deferred`` or ``spamreport``. Returns how many messages it touched."""
        statuses = {
            "delivered": "delivered",
            "bounce": "bounced",
            "blocked": "blocked",
            "dropped": "dropped",
            "deferred": "deferred",
            "spamreport": None,
        }
        touched = 0
        with self.lock:
            for m in self.messages:
                if m.to_email.lower() != email.lower():
                    continue
                t = when if when is not None else m.created + 1
                if kind == "delivered":
                    extra: dict[str, Any] = {"ip": "192.0.2.1", "response": "250 2.0.0 OK"}
                elif kind in ("bounce", "blocked"):
                    extra = {
                        "type": "bounce" if kind == "bounce" else "blocked",
                        "reason": reason or "550 5.1.1 The email account that you tried to reach does not exist",
                        "status": "5.1.1" if kind == "bounce" else "4.7.1",
                    }
                elif kind == "dropped":
                    extra = {"reason": reason or "Bounced Address"}
                elif kind == "deferred":
                    extra = {"response": reason or "421 4.7.0 try again later", "attempt": "1"}
                else:
                    extra = {}
                kind_name = "bounce" if kind in ("bounce", "blocked") else kind
                m.events.append(self._event(m, kind_name, t, **extra))
                status = statuses[kind]
                if status is not None:
                    m.status = status
                    m.reason = str(extra.get("reason") or extra.get("response") or "")
                touched += 1
        return touched

    # -- the API -----------------------------------------------------------------------

    def search(self, data: dict[str, Any]) -> tuple[int, Any]:
        try:
            wanted = self._filter(str(data.get("query", "")))
        except QueryError as exc:
            return 400, {"errors": [{"message": f"invalid query: {exc}", "field": "query"}]}
        limit = int(data.get("limit", 10))
        with self.lock:
            self._idle.wait_for(lambda: self._receiving == 0, timeout=30.0)
            self.searches += 1
            found = [m for m in reversed(self.messages) if wanted(m)][:limit]
            return 200, {"messages": [self._summary(m) for m in found]}

    def one(self, message_id: str) -> tuple[int, Any]:
        with self.lock:
            m = self.by_id.get(message_id)
            if m is None:
                return 404, {"errors": [{"message": "message not found", "field": None}]}
            return 200, {
                "from_email": m.from_email,
                "sg_message_id": m.sg_message_id,
                "subject": m.subject,
                "to_email": m.to_email,
                "status": m.status,
                "api_key_id": "testkey",
                "client_ip": "127.0.0.1",
                "category": m.categories,
                "events": list(m.events),
            }

    @staticmethod
    def _summary(m: Logged) -> dict[str, Any]:
        out = {
            "from_email": m.from_email,
            "sg_message_id": m.sg_message_id,
            "subject": m.subject,
            "to_email": m.to_email,
            "status": m.status,
            "sg_message_id_created_at": iso(m.created),
        }
        if m.reason:
            out["reason"] = m.reason
        return out

    @staticmethod
    def _filter(query: str) -> Callable[[Logged], bool]:
        tests: list[Callable[[Logged], bool]] = []
        for part in re.split(r"\s+AND\s+", query.strip()) if query.strip() else []:
            match = _CONDITION.fullmatch(part)
            if match is None:
                raise QueryError(part[:80])
            name = match["field"]
            if match["list"] is not None:
                if name not in _LISTED:
                    raise QueryError(f"IN is not allowed on {name}")
                values = set(re.findall(r"[\"']([^\"']*)[\"']", match["list"]))
                if name == "status":

                    def status_in(m: Logged, v: set[str] = values) -> bool:
                        return m.status in v

                    tests.append(status_in)
                else:

                    def category_in(m: Logged, v: set[str] = values) -> bool:
                        return bool(v.intersection(m.categories))

                    tests.append(category_in)
            elif name == "sg_message_id_created_at":
                try:
                    when = _parse_time(match["value"])
                except ValueError:
                    raise QueryError(f"not a timestamp: {match['value']}") from None
                op = match["op"]
                compare = {">": float.__gt__, "<": float.__lt__, ">=": float.__ge__, "<=": float.__le__}.get(op)
                if compare is None:
                    raise QueryError(f"{op} is not allowed on {name}")

                def created(m: Logged, c: Callable[[float, float], bool] = compare, w: float = when) -> bool:
                    return c(m.created, w)

                tests.append(created)
            elif name in _EQUAL and match["op"] == "=":
                value = match["value"].lower() if name == "to_email" else match["value"]
                if name == "to_email":

                    def to_email(m: Logged, v: str = value) -> bool:
                        return m.to_email.lower() == v

                    tests.append(to_email)
                else:

                    def equal(m: Logged, f: str = name, v: str = value) -> bool:
                        return bool(getattr(m, f) == v)

                    tests.append(equal)
            else:
                raise QueryError(f"{name} {match['op']} is not allowed")
        return lambda m: all(t(m) for t in tests)
