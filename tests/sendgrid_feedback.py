"""The SendGrid endpoints beyond ``/v3/mail/send`` for the test server: suppression lists
and unsubscribe groups, batch ids and scheduled sends, category statistics, and the
Email Logs (:mod:`tests.sendgrid_logs`).

Every request is checked against SendGrid's OpenAPI files before it is answered, and
every answer before it is given (:mod:`tests.openapi_check`); problems are recorded in
the server's ``log.invalid`` and answered with a 400, so a test that looks at
``server.log.invalid == []`` sees them. Lists are paged as SendGrid pages them
(``limit`` at most 500, ``offset``), filtered by ``start_time``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from tests.openapi_check import check_answer, check_request, find
from tests.sendgrid_logs import EmailLogs

DATED = ("unsubscribes", "bounces", "invalid_emails", "spam_reports", "blocks")
MAX_HELD = 10
"""How many batches SendGrid lets be paused or cancelled at once (its 'maximum number of
cancellations/pauses'; a 400 past it)."""


@dataclass
class ApiFault:
    """Instead of answering the next feedback request: ``429`` (optionally with a reset),
    ``401``, ``403``, ``500`` or ``notjson`` (a 200 whose body is an HTML page)."""

    kind: str
    reset_in: float | None = None
    message: str = ""


@dataclass
class Account:
    """What the fake account holds."""

    lists: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in DATED})
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, str | None] = field(default_factory=dict)
    """batch id → None | ``pause`` | ``cancel``."""
    stats: dict[str, list[tuple[str, dict[str, int]]]] = field(default_factory=dict)
    """category → [(date, metrics)]."""
    faults: deque[ApiFault] = field(default_factory=deque)
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(method, path with query) of every feedback request."""
    times: list[float] = field(default_factory=list)
    """When each feedback request arrived (Unix time)."""
    resets: list[int] = field(default_factory=list)
    """The ``X-RateLimit-Reset`` of each 429 given."""
    pages: dict[str, int] = field(default_factory=dict)
    """Pages served per list."""
    logs: EmailLogs = field(default_factory=EmailLogs)
    """SendGrid's Email Logs: every message the server accepted."""
    erased: list[str] = field(default_factory=list)
    """Addresses SendGrid was asked to erase (``/v3/recipients/erasejob``)."""
    domains: list[dict[str, Any]] = field(default_factory=lambda: [authenticated_domain("example.org")])
    """Authenticated domains (``/v3/whitelabel/domains``): the example's From domain, valid."""
    senders: list[dict[str, Any]] = field(default_factory=lambda: [verified_sender("news@example.org")])
    free_mail: dict[str, list[str]] = field(
        default_factory=lambda: {"soft_failures": ["gmail.com"], "hard_failures": ["yahoo.com", "aol.com"]}
    )
    """SendGrid's free-mail domains whose DMARC policy fails a From there."""

    def add(self, kind: str, email: str, created: int | None = None, **extra: Any) -> None:
        entry: dict[str, Any] = {"created": int(created if created is not None else time.time()), "email": email}
        if kind in ("bounces", "blocks"):
            entry.setdefault("reason", extra.get("reason", "550 5.1.1 The email account does not exist"))
            entry.setdefault("status", extra.get("status", "5.1.1"))
        elif kind == "invalid_emails":
            entry["reason"] = extra.get("reason", "Mail domain mentioned in email address is unknown")
        elif kind == "spam_reports":
            entry["ip"] = extra.get("ip", "10.63.202.100")
        self.lists[kind].append(entry)

    def group(self, group_id: int, name: str = "Newsletter", emails: list[str] | None = None) -> None:
        self.groups[group_id] = {"name": name, "emails": list(emails or [])}

    def group_emails(self, group_id: int) -> list[str]:
        return list(self.groups[group_id]["emails"])

    def global_emails(self) -> list[str]:
        return [e["email"] for e in self.lists["unsubscribes"]]


METRICS = (
    "blocks",
    "bounce_drops",
    "bounces",
    "clicks",
    "deferred",
    "delivered",
    "invalid_emails",
    "opens",
    "processed",
    "requests",
    "spam_report_drops",
    "spam_reports",
    "unique_clicks",
    "unique_opens",
    "unsubscribe_drops",
    "unsubscribes",
)


def authenticated_domain(domain: str, *, valid: bool = True, domain_id: int = 1, user: int = 7) -> dict[str, Any]:
    """A domain authenticated at SendGrid as ``GET /v3/whitelabel/domains`` lists it."""

    def rec(kind: str, host: str, data: str) -> dict[str, Any]:
        return {"valid": valid, "type": kind, "host": host, "data": data}

    return {
        "id": domain_id,
        "user_id": user,
        "subdomain": "em123",
        "domain": domain,
        "username": "newsletter",
        "ips": [],
        "custom_spf": False,
        "default": True,
        "legacy": False,
        "automatic_security": True,
        "valid": valid,
        "dns": {
            "mail_cname": rec("cname", f"em123.{domain}", f"u{user}.wl.sendgrid.net"),
            "dkim1": rec("cname", f"s1._domainkey.{domain}", f"s1.domainkey.u{user}.wl.sendgrid.net"),
            "dkim2": rec("cname", f"s2._domainkey.{domain}", f"s2.domainkey.u{user}.wl.sendgrid.net"),
        },
    }


def verified_sender(email: str, *, verified: bool = True, sender_id: int = 1) -> dict[str, Any]:
    return {
        "id": sender_id,
        "nickname": "News",
        "from_email": email,
        "from_name": "News",
        "reply_to": email,
        "reply_to_name": "News",
        "address": "Gower Street",
        "city": "London",
        "country": "GBR",
        "verified": verified,
        "locked": False,
    }


def metrics(**given: int) -> dict[str, int]:
    return {m: int(given.get(m, 0)) for m in METRICS}


class FeedbackApi:
    """Answers one request: ``(status, body bytes, extra headers)``; validates both ways."""

    def __init__(self, account: Account, invalid: list[str], lock: threading.Lock, validate: str = "all") -> None:
        self.account = account
        self.invalid = invalid
        self.lock = lock
        self.validate = validate
        """``all`` (tests) | ``first`` (each operation's first request and answer: the benchmark) | ``none``."""
        self._seen: set[tuple[str, str]] = set()

    def _wanted(self, op: Any) -> bool:
        if self.validate == "all":
            return True
        if self.validate == "none" or op is None:
            return False
        key = (op.method, op.template)
        with self.lock:
            first = key not in self._seen
            self._seen.add(key)
        return first

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        path, _, query = raw_path.partition("?")
        op = find(method, path)
        checked = self._wanted(op)
        problems: list[str] = []
        if op is None or checked:
            op, problems = check_request(method, raw_path, headers, body)
        with self.lock:
            self.account.calls.append((method, raw_path))
            self.account.times.append(time.time())
            if problems:
                self.invalid.extend(problems)
        if op is None:
            return 404, _error("not found"), {}
        if problems:
            return self._checked(op, 400, _error(problems[0]), {})
        with self.lock:
            fault = self.account.faults.popleft() if self.account.faults else None
        if fault is not None:
            return self._fault(op, fault)
        params = dict(parse_qsl(query))
        data = orjson.loads(body) if body else None
        with self.lock:
            status, answer = self._answer(method, path, params, data)
        raw = b"" if answer is None else orjson.dumps(answer)
        return self._checked(op, status, raw, {}) if checked else (status, raw, {})

    def _checked(self, op: Any, status: int, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        problems = check_answer(op, status, raw)
        if problems:
            with self.lock:
                self.invalid.extend(f"(server) {p}" for p in problems)
        return status, raw, headers

    def _fault(self, op: Any, fault: ApiFault) -> tuple[int, bytes, dict[str, str]]:
        if fault.kind == "notjson":
            return 200, b"<html><body>Gateway login</body></html>", {"Content-Type": "text/html"}
        if fault.kind == "429":
            headers = {}
            if fault.reset_in is not None:
                reset = int(time.time() + fault.reset_in + 0.999)
                headers["X-RateLimit-Reset"] = str(reset)
                with self.lock:
                    self.account.resets.append(reset)
            return 429, _error(fault.message or "too many requests"), headers
        words = {
            "401": "The provided authorization grant is invalid, expired, or revoked",
            "403": "access forbidden",
            "500": "internal server error",
        }
        return self._checked(op, int(fault.kind), _error(fault.message or words[fault.kind]), {})

    def _answer(self, method: str, path: str, params: dict[str, str], data: Any) -> tuple[int, Any]:
        a = self.account
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["v3", "suppression"] and len(parts) == 3 and method == "GET":
            kind = parts[2]
            since = int(params.get("start_time", 0))
            limit, offset = int(params.get("limit", 500)), int(params.get("offset", 0))
            entries = [e for e in a.lists[kind] if e["created"] >= since]
            a.pages[kind] = a.pages.get(kind, 0) + 1
            return 200, entries[offset : offset + limit]
        if parts[:3] == ["v3", "asm", "groups"] and len(parts) >= 4:
            group_id = int(parts[3]) if parts[3].isdigit() else -1
            group = a.groups.get(group_id)
            if group is None:
                return 404, {"errors": [{"message": "Unsubscribe Group not found", "field": None}]}
            if len(parts) == 4:
                return 200, {
                    "id": group_id,
                    "name": group["name"],
                    "description": "",
                    "is_default": False,
                    "unsubscribes": len(group["emails"]),
                }
            if method == "GET":
                return 200, list(group["emails"])
            have = set(group["emails"])
            group["emails"].extend(e for e in dict.fromkeys(data["recipient_emails"]) if e not in have)
            return 201, {"recipient_emails": data["recipient_emails"]}
        if path == "/v3/asm/suppressions/global" and method == "POST":
            have = {e.lower() for e in a.global_emails()}
            for e in data["recipient_emails"]:
                if e.lower() not in have:
                    a.add("unsubscribes", e)
            return 201, {"recipient_emails": data["recipient_emails"]}
        if path == "/v3/recipients/erasejob" and method == "POST":
            a.erased.extend(data["email_addresses"])
            return 202, {"job_id": f"job-{len(a.erased):04d}"}
        if path == "/v3/mail/batch" and method == "POST":
            batch_id = f"B{len(a.batches) + 1:04d}-{int(time.time() * 1000) % 10**9}"
            a.batches[batch_id] = None
            return 201, {"batch_id": batch_id}
        if parts[:3] == ["v3", "mail", "batch"] and method == "GET":
            if parts[3] not in a.batches:
                return 400, {"errors": [{"message": "invalid batch id", "field": None}]}
            return 200, {"batch_id": parts[3]}
        if parts[:3] == ["v3", "user", "scheduled_sends"]:
            return self._scheduled(method, parts[3] if len(parts) > 3 else None, data)
        if path == "/v3/logs" and method == "POST":
            return a.logs.search(data)
        if parts[:2] == ["v3", "logs"] and len(parts) == 3 and method == "GET":
            return a.logs.one(parts[2])
        if path == "/v3/categories/stats":
            return 200, self._stats(params)
        if path == "/v3/whitelabel/domains" and method == "GET":
            return 200, a.domains[: int(params.get("limit", 50))]
        if parts[:3] == ["v3", "whitelabel", "domains"] and len(parts) == 5 and parts[4] == "validate":
            found = [d for d in a.domains if str(d["id"]) == parts[3]]
            if not found:
                return 404, {"errors": [{"message": "authenticated domain not found", "field": None}]}
            d = found[0]
            results = {
                k: {
                    "valid": v["valid"],
                    "reason": None if v["valid"] else f'Expected CNAME for "{v["host"]}" to match "{v["data"]}".',
                }
                for k, v in (("mail_cname", d["dns"]["mail_cname"]), ("dkim1", d["dns"]["dkim1"]), ("dkim2", d["dns"]["dkim2"]))
            }
            return 200, {"id": d["id"], "valid": d["valid"], "validation_results": results}
        if path == "/v3/verified_senders" and method == "GET":
            return 200, {"results": a.senders[: int(float(params.get("limit", 100)))]}
        if path == "/v3/verified_senders/domains" and method == "GET":
            return 200, {"results": a.free_mail}
        return 404, {"errors": [{"message": "not found", "field": None}]}

    def _scheduled(self, method: str, batch_id: str | None, data: Any) -> tuple[int, Any]:
        a = self.account
        held = sum(1 for s in a.batches.values() if s is not None)
        if method == "GET" and batch_id is None:
            return 200, [{"batch_id": b, "status": s} for b, s in a.batches.items() if s is not None]
        if method == "POST":
            batch_id = data["batch_id"]
            if batch_id not in a.batches:
                return 400, {"errors": [{"message": "batch id not found", "field": "batch_id"}]}
            if a.batches[batch_id] is not None:
                return 400, {"errors": [{"message": "a status is already set for this batch", "field": "batch_id"}]}
            if held >= MAX_HELD:
                return 400, {"errors": [{"message": "max limit reached", "field": None}]}
            a.batches[batch_id] = data["status"]
            return 201, {"batch_id": batch_id, "status": data["status"]}
        assert batch_id is not None
        if batch_id not in a.batches:
            return 404, {"errors": [{"message": "batch id not found", "field": None}]}
        if method == "GET":
            status = a.batches[batch_id]
            return 200, ([] if status is None else [{"batch_id": batch_id, "status": status}])
        if method == "PATCH":
            if a.batches[batch_id] is None:
                return 400, {"errors": [{"message": "no status set for this batch", "field": None}]}
            a.batches[batch_id] = data["status"]
            return 204, None
        if method == "DELETE":
            if a.batches[batch_id] is None:
                return 404, {"errors": [{"message": "no status set for this batch", "field": None}]}
            a.batches[batch_id] = None
            return 204, None
        return 404, {"errors": [{"message": "not found", "field": None}]}

    def _stats(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every day from start to end (today when not given), zeros where nothing happened."""
        import datetime as dt

        start = dt.date.fromisoformat(params["start_date"])
        end = dt.date.fromisoformat(params["end_date"]) if "end_date" in params else dt.date.today()
        category = params["categories"]
        known = dict(self.account.stats.get(category, []))
        out = []
        day = start
        while day <= end:
            m = known.get(day.isoformat(), metrics())
            out.append({"date": day.isoformat(), "stats": [{"type": "category", "name": category, "metrics": m}]})
            day += dt.timedelta(days=1)
        return out


def _error(message: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "field": None}]})
