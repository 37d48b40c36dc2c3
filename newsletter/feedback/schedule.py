"""Scheduled sends that can be recalled: a batch id per scheduled send, cancel and pause.

A send with ``--send-at`` first asks SendGrid for a batch id (``POST /v3/mail/batch``)
and puts it on every request, so that SendGrid can hold or drop all of them at once.
The id is kept in ``.newsletter/schedules.json`` (under the send's journal key) before
the first request, so a resumed send uses the same one. ``cancel`` and ``pause`` use
SendGrid's scheduled-sends API (``/v3/user/scheduled_sends``) and check its limits
before asking:

* a batch can be paused or cancelled only until :data:`CLOSEST` before its send time;
* at most :data:`MAX_HELD` batches of an account may be paused or cancelled at once;
* a paused batch is discarded as expired :data:`PAUSE_EXPIRES` after its send time.

After a cancel the journal records the send's recipients as ``cancelled`` (not
accepted) and files the send under another key, so the issue can be sent again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.delivery.base import Message
from newsletter.delivery.state import STATE_DIR, state_dir
from newsletter.errors import NewsletterError, UsageError, display_path
from newsletter.feedback.account import TIMEOUT, SendGridError, call, client
from newsletter.files import write_file

SCHEDULES_FILE = "schedules.json"
CLOSEST = dt.timedelta(minutes=10)
MAX_HELD = 10
PAUSE_EXPIRES = dt.timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class Scheduled:
    key: str
    slug: str
    batch_id: str
    send_at: int
    until: int | None = None
    """A local-time send's last reader's time (``send_at``: its first's)."""


# -- the file of scheduled sends ---------------------------------------------------------


def _path(root: Path) -> Path:
    return state_dir(root) / SCHEDULES_FILE


def _load(root: Path) -> dict[str, Any]:
    path = root / STATE_DIR / SCHEDULES_FILE  # reading never creates the state folder
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise NewsletterError(f"{display_path(path)}: not a list of scheduled sends") from None
    return data if isinstance(data, dict) else {}


def _save(root: Path, data: dict[str, Any]) -> None:
    path = _path(root)
    try:
        write_file(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot write: {exc.strerror}") from None


def find(root: Path, key: str) -> Scheduled | None:
    entry = _load(root).get("scheduled", {}).get(key)
    if not isinstance(entry, dict):
        return None
    until = entry.get("send_until")
    return Scheduled(
        key, str(entry["slug"]), str(entry["batch_id"]), int(entry["send_at"]), int(until) if isinstance(until, int) else None
    )


# -- the send's side -----------------------------------------------------------------------


def batch_for_send(root: Path, message: Message, key: str, provider: str, *, timeout: float = TIMEOUT) -> Message:
    """The message with a batch id when it is scheduled with SendGrid (the one this send
    already has, or a new one from SendGrid, recorded before any request uses it)."""
    if message.send_at is None or provider != "sendgrid":
        return message
    data = _load(root)
    scheduled = data.setdefault("scheduled", {})
    entry = scheduled.get(key)
    if isinstance(entry, dict) and entry.get("batch_id"):
        batch_id = str(entry["batch_id"])
    else:
        sg = client(timeout)
        answer = call(
            "asking SendGrid for a batch id (to be able to cancel the scheduled send)", lambda: sg.client.mail.batch.post()
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("batch_id"), str):
            raise SendGridError("asking SendGrid for a batch id: the answer holds no batch_id")
        batch_id = answer["batch_id"]
    scheduled[key] = {"slug": message.slug, "batch_id": batch_id, "send_at": message.send_at}
    if message.send_until is not None:  # local-time delivery: the readers' times run until then
        scheduled[key]["send_until"] = message.send_until
    _save(root, data)
    return dataclasses.replace(message, batch_id=batch_id)


# -- words ---------------------------------------------------------------------------------


def in_words(when: int, timezone: str, now: float | None = None) -> str:
    """``Friday 14 June 2024 at 09:00 BST (in 2 days and 3 hours)``, in the newsletter's zone."""
    local = dt.datetime.fromtimestamp(when, ZoneInfo(timezone))
    day = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()}"
    now = time.time() if now is None else now
    return f"{day} ({_span(when - now)})"


def _span(seconds: float) -> str:
    ago = seconds < 0
    s = int(abs(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes and not days:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    text = " and ".join(parts[:2]) or "less than a minute"
    return f"{text} ago" if ago else f"in {text}"


# -- SendGrid's state, cancel and pause ----------------------------------------------------


def batch_state(batch_id: str, *, timeout: float = TIMEOUT, sg: Any = None) -> str:
    """``scheduled`` (no pause or cancel set), ``paused`` or ``cancelled``, as SendGrid says."""
    sg = sg or client(timeout)
    answer = call(f"reading SendGrid's state of batch {batch_id}", lambda: sg.client.user.scheduled_sends._(batch_id).get())
    statuses = [a.get("status") for a in answer or [] if isinstance(a, dict) and a.get("batch_id") == batch_id]
    if "cancel" in statuses:
        return "cancelled"
    if "pause" in statuses:
        return "paused"
    return "scheduled"


def describe(root: Path, key: str, timezone: str, *, timeout: float = TIMEOUT) -> list[str]:
    """Lines for ``newsletter status``: when the scheduled send goes, and SendGrid's state."""
    s = find(root, key)
    if s is None:
        return []
    lines = [f"  scheduled  {in_words(s.send_at, timezone)}", f"  batch      {s.batch_id}"]
    if s.until is not None:
        lines[0] = f"  scheduled  each reader at their own hour, from {in_words(s.send_at, timezone)}"
        lines.insert(1, f"             to {in_words(s.until, timezone)}")
    try:
        state = batch_state(s.batch_id, timeout=timeout)
    except NewsletterError as exc:
        lines.append(f"  SendGrid   state unknown: {exc.message}")
        return lines
    note = {
        "scheduled": "will go out at that time (newsletter cancel / pause can stop it)",
        "paused": "paused: held until `newsletter pause --unpause`; discarded 72 hours after the send time",
        "cancelled": "cancelled: SendGrid discards it at the send time",
    }[state]
    if s.until is not None:
        note = note.replace("at that time", "at those times").replace("the send time", "each reader's time")
    lines.append(f"  SendGrid   {note}")
    return lines


def _held(sg: Any) -> list[dict[str, Any]]:
    answer = call("reading SendGrid's paused and cancelled batches", lambda: sg.client.user.scheduled_sends.get())
    return [a for a in answer or [] if isinstance(a, dict)]


def _check_time(s: Scheduled, timezone: str, verb: str, now: float) -> None:
    left = s.send_at - now
    if s.until is not None and left < CLOSEST.total_seconds():
        raise UsageError(
            f"too late to {verb}: the first readers of this local-time send are due "
            f"{in_words(s.send_at, timezone, now)}; SendGrid can {verb} its batch (every reader's "
            "time at once) only until 10 minutes before the first"
        )
    if left <= 0:
        raise UsageError(
            f"too late to {verb}: the send time, {in_words(s.send_at, timezone, now)}, has passed; SendGrid has sent it"
        )
    if left < CLOSEST.total_seconds():
        raise UsageError(
            f"too late to {verb}: SendGrid can {verb} a scheduled send only until 10 minutes "
            f"before its send time, {in_words(s.send_at, timezone, now)}"
        )


def _set(s: Scheduled, status: str, timezone: str, verb: str, timeout: float) -> str:
    """Set ``pause`` or ``cancel`` on the batch; returns what SendGrid had before."""
    _check_time(s, timezone, verb, time.time())
    sg = client(timeout)
    held = _held(sg)
    mine = [a.get("status") for a in held if a.get("batch_id") == s.batch_id]
    if mine:
        if mine[0] == status:
            return str(mine[0])
        if mine[0] == "cancel":
            raise UsageError(f"the scheduled send of {s.slug} is already cancelled; it cannot be paused")
        call(
            f"{verb} batch {s.batch_id}",
            lambda: sg.client.user.scheduled_sends._(s.batch_id).patch(request_body={"status": status}),
            expect_json=False,
        )
        return str(mine[0])
    if len(held) >= MAX_HELD:
        names = ", ".join(str(a.get("batch_id")) for a in held)
        raise UsageError(
            f"cannot {verb}: SendGrid lets at most {MAX_HELD} batches be paused or cancelled at "
            f"once, and {len(held)} are ({names}). Unpause one (newsletter pause ISSUE --unpause) "
            "or wait until a cancelled one's send time has passed"
        )
    call(
        f"{verb} batch {s.batch_id}",
        lambda: sg.client.user.scheduled_sends.post(request_body={"batch_id": s.batch_id, "status": status}),
    )
    return ""


@dataclass(frozen=True, slots=True)
class Recalled:
    slug: str
    batch_id: str
    when: str
    cancelled: int
    """Recipients the journal now records as cancelled."""
    already: bool


def cancel(root: Path, key: str, slug: str, timezone: str, *, timeout: float = TIMEOUT) -> Recalled:
    """Cancel the scheduled send; the journal then records its recipients as cancelled."""
    from newsletter.delivery.journal import Journal

    s = _scheduled(root, key, slug, "cancel")
    before = _set(s, "cancel", timezone, "cancel", timeout)
    journal = Journal.open(root)
    try:
        journal.lock()
        send = journal.find(key)
        n = 0
        if send is not None:
            n = journal.cancel_send(
                send, f"{key}@cancelled-{s.batch_id}", f"scheduled send cancelled (SendGrid batch {s.batch_id})"
            )
    finally:
        journal.close()
    data = _load(root)
    entry = data.get("scheduled", {}).pop(key, None)
    if entry is not None:
        data.setdefault("cancelled", {})[s.batch_id] = entry
    _save(root, data)
    _record_cancelled(root, slug, s.batch_id)
    when = in_words(s.send_at, timezone)
    if s.until is not None:
        when = f"each reader at their own hour, from {when} to {in_words(s.until, timezone)}"
    return Recalled(slug, s.batch_id, when, n, before == "cancel")


def _record_cancelled(root: Path, slug: str, batch_id: str) -> None:
    """The send record says the send was cancelled (so every clone may send the issue again)."""
    from newsletter.delivery import records

    record = records.find(root, slug)
    if record is not None and record.batch_id == batch_id and record.state != "cancelled":
        record.state = "cancelled"
        record.finished = record.updated = time.time()
        records.write(root, record)


def pause(
    root: Path, key: str, slug: str, timezone: str, *, unpause: bool = False, timeout: float = TIMEOUT
) -> tuple[Scheduled, str]:
    """Pause the scheduled send (or lift the pause); returns it and what it is now."""
    s = _scheduled(root, key, slug, "unpause" if unpause else "pause")
    if not unpause:
        before = _set(s, "pause", timezone, "pause", timeout)
        return s, "already paused" if before == "pause" else "paused"
    sg = client(timeout)
    state = batch_state(s.batch_id, sg=sg)
    if state == "cancelled":
        raise UsageError(f"the scheduled send of {slug} is cancelled; it cannot be unpaused")
    if state == "scheduled":
        return s, "not paused"
    if time.time() > s.send_at + PAUSE_EXPIRES.total_seconds():
        raise UsageError("too late to unpause: SendGrid discards a paused batch 72 hours after its send time")
    call(f"unpausing batch {s.batch_id}", lambda: sg.client.user.scheduled_sends._(s.batch_id).delete(), expect_json=False)
    return s, "unpaused"


def _scheduled(root: Path, key: str, slug: str, verb: str) -> Scheduled:
    s = find(root, key)
    if s is None:
        raise UsageError(
            f"{slug} has no scheduled send to {verb}: only a SendGrid send with --send-at can be cancelled or paused"
        )
    return s
