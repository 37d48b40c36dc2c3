"""The send record: what went out, when, to how many, from which list and secret — in git.

The journal (``.newsletter/``) stays on the machine that sent; the record is the part
of a send the whole organisation needs to know, small enough to review in a diff and
free of personal data, so it is committed: ``sends/<slug>.json``, one file per issue
(the latest real send of it). It is written when a real send begins (before the first
request), as it goes (at most every :data:`EVERY` seconds), and when it ends, stops or
is cancelled, always through :mod:`newsletter.files`, with sorted keys and two-space
indents: the same facts give the same bytes.

A record holds (``format`` 1):

``slug``, ``issue``
    the issue file (path from the project's root), the SHA-256 of its bytes, its subject
    and date;
``email_sha256``
    the rendered email before personalisation (subject, HTML, text, From, Reply-To):
    what an approval names and what a resumed send must still be sending;
``provider``, ``category``, ``send_at``, ``batch_id``
    how it was sent: ``category`` is this send's own SendGrid category, by which
    SendGrid's Email Logs find its messages again; ``batch_id`` is SendGrid's, for a
    scheduled send;
``started``, ``updated``, ``finished``, ``state``
    UTC times to the second; ``state`` is ``sending``, ``stopped``, ``finished`` or
    ``cancelled``;
``counts``
    recipients by journal state, and ``eligible``;
``list``
    the list file's name, the SHA-256 of its bytes when the send began, and its rows;
``secret_id``
    which unsubscribe secret made the links (:func:`secret_id`: a hash, never the secret);
``commit``
    the project's git commit when the send began (``null`` outside git);
``forced``
    ``--force`` overrode a check (the already-sent guard among them);
``lease_until``
    while ``sending``: no request of the send starts after this time unless the record
    is written again first (every :data:`LEASE` seconds), so that another clone can tell
    when SendGrid's Email Logs must show everything this send did.

Addresses, names and tokens never appear: ``git grep`` of ``sends/`` finds no reader.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.errors import InputError, Problem, display_path
from newsletter.files import read_json, write_file

FOLDER = "sends"
FORMAT = 1
EVERY = 10.0
"""Seconds between two writes of a running send's record (it is also written at each end)."""
LEASE = 60.0
"""How far ahead a running send's record promises that no request starts unrecorded."""
GIT_TIMEOUT = 10.0
STATES = ("sending", "stopped", "finished", "cancelled")
_MAX_BYTES = 1 << 20
"""A record is a few hundred bytes; a file far larger is not one."""


def secret_id(secret: bytes) -> str:
    """Which secret this is, as 16 hex digits of a domain-separated SHA-256: two machines
    with the same secret have the same id; the id gives nothing away about the secret."""
    return hashlib.sha256(b"newsletter unsubscribe secret id\0" + secret).hexdigest()[:16]


def utc(t: float) -> str:
    return dt.datetime.fromtimestamp(int(t), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


@dataclass
class Record:
    slug: str
    issue_file: str
    issue_sha256: str
    subject: str
    date: str
    email_sha256: str
    provider: str
    category: str
    list_file: str
    list_sha256: str
    list_rows: int
    secret_id: str
    started: float
    commit: str | None = None
    send_at: int | None = None
    batch_id: str | None = None
    updated: float = 0.0
    finished: float | None = None
    state: str = "sending"
    counts: dict[str, int] = field(default_factory=dict)
    forced: bool = False
    lease_until: float | None = None
    """While ``sending``: no request of this send starts after this time unless a newer
    record is written first (so another clone knows when SendGrid's log can be complete)."""
    timing: str | None = None
    """When its messages go (:mod:`newsletter.delivery.timing`), kept by a clone that takes
    the send over; None in a record written before records held it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "slug": self.slug,
            "issue": {"file": self.issue_file, "sha256": self.issue_sha256, "subject": self.subject, "date": self.date},
            "email_sha256": self.email_sha256,
            "provider": self.provider,
            "category": self.category,
            "send_at": utc(self.send_at) if self.send_at is not None else None,
            "batch_id": self.batch_id,
            "started": utc(self.started),
            "updated": utc(self.updated or self.started),
            "finished": utc(self.finished) if self.finished is not None else None,
            "state": self.state,
            "counts": dict(sorted(self.counts.items())),
            "list": {"file": self.list_file, "sha256": self.list_sha256, "rows": self.list_rows},
            "secret_id": self.secret_id,
            "commit": self.commit,
            "forced": self.forced,
            "lease_until": utc(self.lease_until) if self.lease_until is not None and self.state == "sending" else None,
            "timing": self.timing,
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @property
    def started_text(self) -> str:
        return utc(self.started)

    @property
    def delivered_any(self) -> bool:
        """Whether any reader may have the email (accepted, marked sent, or unknown)."""
        c = self.counts
        return bool(
            c.get("accepted", 0)
            or c.get("marked_sent", 0)
            or c.get("unknown", 0)
            or c.get("in_flight", 0)
            or self.state == "sending"
        )


def path_for(root: Path, slug: str) -> Path:
    return root / FOLDER / f"{slug}.json"


def write(root: Path, record: Record) -> Path:
    """Write ``sends/<slug>.json`` whole (temporary file, synced, renamed)."""
    path = path_for(root, record.slug)
    path.parent.mkdir(exist_ok=True)
    record.updated = max(record.updated, time.time()) if record.state == "sending" else record.updated or time.time()
    write_file(path, record.to_bytes())
    return path


def _problem(path: Path, what: str) -> InputError:
    return InputError(
        Problem(
            display_path(path),
            None,
            None,
            "",
            f"not a send record: {what}",
            "restore it from git (git checkout -- sends/) or remove it",
        )
    )


def load(path: Path) -> Record:
    """One record; a file that is not one is bad input naming the file and the field."""
    data = read_json(path, _MAX_BYTES, lambda what: _problem(path, what))
    if data.get("format") != FORMAT:
        raise _problem(path, f"format is not {FORMAT}")
    try:
        issue, listed, counts = data["issue"], data["list"], data["counts"]
        record = Record(
            slug=_text(data["slug"]),
            issue_file=_text(issue["file"]),
            issue_sha256=_text(issue["sha256"]),
            subject=_text(issue["subject"]),
            date=_text(issue["date"]),
            email_sha256=_text(data["email_sha256"]),
            provider=_text(data["provider"]),
            category=_text(data["category"]),
            list_file=_text(listed["file"]),
            list_sha256=_text(listed["sha256"]),
            list_rows=int(listed["rows"]),
            secret_id=_text(data["secret_id"]),
            started=parse_utc(data["started"]),
            commit=data["commit"] if isinstance(data["commit"], str) else None,
            send_at=int(parse_utc(data["send_at"])) if data.get("send_at") else None,
            batch_id=data["batch_id"] if isinstance(data.get("batch_id"), str) else None,
            updated=parse_utc(data["updated"]),
            finished=parse_utc(data["finished"]) if data.get("finished") else None,
            state=_text(data["state"]),
            counts={str(k): int(v) for k, v in counts.items()},
            forced=bool(data.get("forced", False)),
            lease_until=parse_utc(data["lease_until"]) if data.get("lease_until") else None,
            timing=data["timing"] if isinstance(data.get("timing"), str) else None,
        )
    except KeyError as exc:
        raise _problem(path, f"{exc.args[0]}: missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise _problem(path, str(exc)[:120]) from None
    if record.state not in STATES:
        raise _problem(path, f"state: {record.state!r} is not one of {', '.join(STATES)}")
    if path.stem != record.slug:
        raise _problem(path, f"slug: {record.slug!r} does not match the file name")
    return record


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def find(root: Path, slug: str) -> Record | None:
    path = path_for(root, slug)
    return load(path) if path.is_file() else None


def all_records(root: Path) -> list[Record]:
    """Every record in ``sends/``, oldest issue first (by date, then slug)."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    records = [load(p) for p in sorted(folder.glob("*.json")) if p.is_file()]
    return sorted(records, key=lambda r: (r.date, r.slug))


def counts_from(journal_counts: Mapping[str, int], eligible: int) -> dict[str, int]:
    """The record's counts: every journal state with a count, and ``eligible``."""
    out = {state: n for state, n in journal_counts.items() if n}
    out["eligible"] = eligible
    return out


# -- git -------------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str | None:
    """A git command's output in ``root`` (:func:`newsletter.gitrepo.git`: a timeout, no
    terminal, bounded output); None outside git, without git, or on any failure."""
    from newsletter.gitrepo import git

    ran = git(root, *args, timeout=GIT_TIMEOUT)
    return ran.out if ran.ok else None


def head_commit(root: Path) -> str | None:
    out = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    return out.strip() or None if out is not None else None


def uncommitted(root: Path) -> list[Path]:
    """Records that git does not hold as they are (new or changed); [] outside git."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    out = _git(root, "status", "--porcelain", "--untracked-files=all", "--", FOLDER)
    if out is None:
        return []
    found = []
    for line in out.splitlines():
        name = line[3:].strip().strip('"')
        if name.endswith(".json"):
            found.append(root / name)
    return sorted(found)


def commit_hint(root: Path, path: Path) -> str:
    rel = display_path(path)
    return f"git add {rel} && git commit -m 'Send record: {path.stem}' && git push"
