"""What became of each reader after SendGrid accepted the send: SendGrid's Email Logs.

A request SendGrid answered 202 is ``accepted`` in the journal; whether each message was
then delivered, deferred, bounced, dropped or blocked is in SendGrid's Email Logs, found
by the send's own category (from its record, ``sends/<slug>.json``). :func:`pull` reads
the messages that were not delivered (a delivered one needs no row), keeps them in
``.newsletter/deliveries/<slug>.json`` (readable by its owner only: it holds addresses;
written whole, with sorted keys, so a second pull of the same facts writes the same
bytes), and turns a hard bounce into ``bounced`` and a spam report into ``complained`` in
the list, as the suppression sync does (:mod:`newsletter.feedback.listmap`): the next
issue does not go there. Spam reports are events on delivered messages, which the log's
search cannot filter by: they come from SendGrid's spam report list since the send began,
each one checked against the log to be a reader of this send.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.delivery.records import Record
from newsletter.delivery.state import state_dir
from newsletter.errors import NewsletterError, display_path
from newsletter.feedback.emaillogs import SKEW, Searcher
from newsletter.feedback.listmap import apply, strictest
from newsletter.feedback.suppressions import Suppression, read_list
from newsletter.files import write_file

FOLDER = "deliveries"
NOT_DELIVERED = ("bounced", "blocked", "dropped", "deferred")
"""SendGrid's message statuses that leave a reader without the email (for now or for good)."""


@dataclass(frozen=True, slots=True)
class Pulled:
    path: Path
    by_status: dict[str, int]
    bounced_in_list: int
    """Addresses the list now holds as ``bounced`` that it did not before."""


def path_for(root: Path, slug: str) -> Path:
    return state_dir(root) / FOLDER / f"{slug}.json"


def _created(m: dict[str, Any]) -> float:
    try:
        return dt.datetime.fromisoformat(str(m.get("sg_message_id_created_at", "")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def pull(root: Path, record: Record, list_path: Path, searcher: Searcher | None = None) -> Pulled:
    """Read the send's undelivered messages from SendGrid's Email Logs, keep them, and mark
    hard bounces ``bounced`` in ``list_path``."""
    searcher = searcher or Searcher()
    messages = searcher.messages(record.category, record.started - SKEW, time.time() + 60, NOT_DELIVERED)
    readers: dict[str, dict[str, str]] = {}
    for m in sorted(messages, key=_created):
        email = str(m.get("to_email", "")).strip()
        status = str(m.get("status", ""))
        if not email or status not in NOT_DELIVERED:
            continue
        readers[email.lower()] = {
            "email": email,
            "status": status,
            "reason": str(m.get("reason", ""))[:500],
            "message_id": str(m.get("sg_message_id", ""))[:100],
        }
    # spam reports are events on delivered messages, which the log's search cannot filter by:
    # SendGrid's spam report list since the send began, each checked against the log
    for report in read_list(searcher.sg, "spam_reports", int(record.started)):
        email = report.email.strip()
        if email.lower() in readers or not searcher.find(email, record.category, record.started).processed:
            continue
        readers[email.lower()] = {"email": email, "status": "spam report", "reason": "marked the email as spam", "message_id": ""}
    path = path_for(root, record.slug)
    data = {"slug": record.slug, "category": record.category, "readers": [readers[k] for k in sorted(readers)]}
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_file(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", personal=True)
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot write: {exc.strerror or exc}") from None
    bounces = [
        Suppression("bounces", r["email"], int(_created_of(messages, r["message_id"])) or None, r["reason"])
        for r in readers.values()
        if r["status"] == "bounced"
    ]
    bounces += [
        Suppression("spam_reports", r["email"], None, r["reason"]) for r in readers.values() if r["status"] == "spam report"
    ]
    mapped = apply(list_path, strictest(bounces), dry_run=False, collect=False) if bounces else None
    by_status: dict[str, int] = {}
    for r in readers.values():
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return Pulled(path, by_status, len(mapped.changed) if mapped else 0)


def _created_of(messages: list[dict[str, Any]], message_id: str) -> float:
    return next((_created(m) for m in messages if str(m.get("sg_message_id", "")) == message_id), 0.0)


def read(root: Path, slug: str) -> list[dict[str, str]]:
    """The readers a pull found undelivered (empty when never pulled or unreadable)."""
    try:
        data = json.loads(path_for(root, slug).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    readers = data.get("readers") if isinstance(data, dict) else None
    return [r for r in readers if isinstance(r, dict)] if isinstance(readers, list) else []
