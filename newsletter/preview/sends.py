"""Where each issue's send stands, for the preview: read from the send journal, read-only.

The journal (``.newsletter/journal.sqlite3``) is read through its read-only API
(:func:`newsletter.delivery.journal_read.local_figures`: opened only when it exists,
never created); the answer is kept until the journal's files change, so a page load
costs a ``stat`` while nothing is sending.

Nothing here reads the environment: the preview never sees an API key or SMTP password.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from newsletter.delivery.journal_read import SendFigures, journal_path, local_figures
from newsletter.delivery.providers import resume_command
from newsletter.errors import NewsletterError

State = Literal["not-sent", "sent", "scheduled", "stopped", "sending", "cancelled"]
FIGURES = ("accepted", "failed", "marked_sent", "suppressed", "unknown", "pending", "in_flight", "cancelled")
"""The figures shown, in this order (accepted and failed always, the others when not 0)."""


@dataclass(frozen=True, slots=True)
class SendState:
    """What the page shows for one issue: a state, a sentence, and the figures."""

    state: State
    text: str
    provider: str = ""
    eligible: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    rehearsed: int = 0
    """Messages the latest outbox rehearsal wrote (when there was one)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "text": self.text,
            "provider": self.provider,
            "eligible": self.eligible,
            "counts": dict(self.counts),
            "rehearsed": self.rehearsed,
        }


NOT_SENT = SendState("not-sent", "not sent yet")


# --- reading the journal ----------------------------------------------------------------------

_cache: dict[Path, tuple[tuple[int, ...], dict[str, list[SendFigures]]]] = {}
_cache_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, ...] | None:
    """What changes when the journal does (its file and its write-ahead log); None if absent."""
    try:
        db = path.stat()
    except OSError:
        return None
    try:
        wal = path.with_name(path.name + "-wal").stat()
        log: tuple[int, ...] = (wal.st_mtime_ns, wal.st_size, wal.st_ino)
    except OSError:
        log = ()
    return (db.st_mtime_ns, db.st_size, db.st_ino, *log)


def journal_sends(root: Path) -> dict[str, list[SendFigures]]:
    """Every send in the project's journal by issue slug, oldest first ({} with no journal
    or one that cannot be read: the preview shows what it can and keeps serving)."""
    path = journal_path(root)
    stamp = _stamp(path)
    if stamp is None:
        return {}
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    by_slug: dict[str, list[SendFigures]] = {}
    for figures in local_figures(root):
        by_slug.setdefault(figures.send.slug, []).append(figures)
    with _cache_lock:
        _cache[path] = (stamp, by_slug)
    return by_slug


# --- in words -----------------------------------------------------------------------------------


def _delivers(provider: str) -> bool:
    """Whether the provider delivers (an outbox send only wrote files)."""
    from newsletter.delivery.providers import PROVIDERS, traits

    return next((traits(name).delivers for name in PROVIDERS if name == provider), True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _figures(counts: Mapping[str, int]) -> str:
    parts = []
    for name in FIGURES:
        n = counts.get(name, 0)
        if n or name in ("accepted", "failed"):
            parts.append(f"{n} {name.replace('_', ' ')}")
    return ", ".join(parts)


def _at(ts: float, timezone: str) -> str:
    """``14 June 2024 09:12 BST`` in the newsletter's time zone."""
    local = dt.datetime.fromtimestamp(ts, ZoneInfo(timezone))
    return f"{local.day} {local:%B %Y %H:%M} {local.tzname()}"


def _scheduled_at(root: Path, key: str) -> int | None:
    from newsletter.feedback.schedule import find

    try:
        found = find(root, key)
    except (NewsletterError, KeyError, TypeError, ValueError):
        return None
    return found.send_at if found is not None else None


def state_of(root: Path, sends: list[SendFigures], issue_file: str, timezone: str, now: float | None = None) -> SendState:
    """The state of an issue's latest real send (or that it has none) in words."""
    now = time.time() if now is None else now
    real = [f for f in sends if _delivers(f.send.provider)]
    rehearsals = [f for f in sends if f not in real]
    rehearsed = rehearsals[-1].counts.get("accepted", 0) if rehearsals else 0
    if not real:
        if rehearsed:
            return SendState(
                "not-sent", f"not sent yet (a rehearsal wrote {_plural(rehearsed, 'message')} to the outbox)", rehearsed=rehearsed
            )
        return NOT_SENT
    latest = real[-1]
    s, counts = latest.send, latest.counts

    def made(state: State, text: str) -> SendState:
        return SendState(state, text, s.provider, s.eligible, counts, rehearsed)

    if counts.get("cancelled", 0) and "@cancelled-" in s.key:
        return made(
            "cancelled",
            f"not sent: the scheduled send with {s.provider} was cancelled "
            f"({_plural(counts['cancelled'], 'recipient')}); send it again to send it",
        )
    if latest.finished:
        send_at = _scheduled_at(root, s.key) if s.provider == "sendgrid" else None
        if send_at is not None and send_at > now:
            from newsletter.feedback.schedule import in_words

            return made("scheduled", f"scheduled for {in_words(send_at, timezone, now)} with {s.provider}: {_figures(counts)}")
        when = _at(send_at if send_at is not None else (s.finished or s.created), timezone)
        return made("sent", f"sent {when} with {s.provider}: {_figures(counts)}")
    if counts.get("in_flight", 0):
        return made(
            "sending",
            f"sending, or stopped mid-request: {latest.done} of {s.eligible} done "
            f"({_figures(counts)}) — if no send is running, resume with "
            f"{resume_command(issue_file, s.provider)}",
        )
    if counts.get("unknown", 0) and not counts.get("pending", 0) and s.loaded:
        return made(
            "stopped",
            f"stopped: {_plural(counts['unknown'], 'recipient')} unknown — resolve with "
            f"{resume_command(issue_file, s.provider, '--mark-unknown-sent')} "
            "(or --resend-unknown)",
        )
    pending = counts.get("pending", 0)
    rest = "" if s.loaded else " and the rest of the list not read yet"
    return made(
        "stopped", f"stopped: {pending} pending{rest} ({_figures(counts)}) — resume with {resume_command(issue_file, s.provider)}"
    )


def _recorded(root: Path) -> dict[str, Any]:
    """The send records in ``sends/`` by slug (none when one cannot be read: the preview keeps
    serving, and the send that reads it names the file)."""
    from newsletter.delivery import records

    try:
        return {r.slug: r for r in records.all_records(root)}
    except NewsletterError:
        return {}


def from_record(record: Any, issue_file: str, timezone: str) -> SendState:
    """An issue sent from another clone, as its send record says."""
    counts = {k: v for k, v in record.counts.items() if k != "eligible"}
    eligible = int(record.counts.get("eligible", 0))

    def made(state: State, text: str) -> SendState:
        return SendState(state, text, record.provider, eligible, counts)

    if record.state == "cancelled":
        return made("cancelled", f"not sent: the scheduled send with {record.provider} was cancelled (on another clone)")
    if record.state == "finished":
        return made(
            "sent",
            f"sent {_at(record.finished or record.updated, timezone)} with {record.provider} from "
            f"another clone: {_figures(counts)}",
        )
    return made(
        "stopped",
        f"begun on another clone ({_figures(counts)}) and not finished — resume with "
        f"{resume_command(issue_file, record.provider)} (SendGrid's Email Logs say who already has it)",
    )


def _after_acceptance(root: Path, slug: str, found: SendState) -> SendState:
    """The state with what ``newsletter results`` found undelivered after acceptance."""
    from newsletter.feedback.deliveries import read

    readers = read(root, slug)
    if not readers or found.state != "sent":
        return found
    tally: dict[str, int] = {}
    for r in readers:
        tally[str(r.get("status", ""))] = tally.get(str(r.get("status", "")), 0) + 1
    words = ", ".join(f"{n} {status}" for status, n in sorted(tally.items()))
    return SendState(
        found.state,
        f"{found.text}; after SendGrid accepted them: {words} (newsletter report lists them)",
        found.provider,
        found.eligible,
        found.counts,
        found.rehearsed,
    )


def states(root: Path, files: Mapping[str, str], timezone: str) -> dict[str, SendState]:
    """The send state of each issue slug in ``files`` (slug → the issue file as typed): from
    this clone's journal, else from the send records every clone shares."""
    by_slug = journal_sends(root)
    recorded = _recorded(root) if (root / "sends").is_dir() else {}
    out = {}
    for slug, file in files.items():
        if slug in by_slug:
            found = state_of(root, by_slug[slug], file, timezone)
        elif slug in recorded:
            found = from_record(recorded[slug], file, timezone)
        else:
            found = NOT_SENT
        out[slug] = _after_acceptance(root, slug, found)
    return out
