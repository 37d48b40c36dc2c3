"""SendGrid's suppressions mapped onto the subscriber list, in one streamed rewrite.

A status only ever gets stricter (``subscribed < bounced < unsubscribed < complained``,
the order of :data:`newsletter.audience.validate.STATUSES`), no row is deleted, and an
address SendGrid knows but the list does not is added with its status, so no later
import subscribes it again. The date and SendGrid's reason go in the ``status_at`` and
``status_reason`` columns (added when missing). The rewrite is the list's own
(:func:`newsletter.audience.edit.rewrite`): atomic, locked, and refused when a row
cannot be read.

The same pass collects the addresses the list holds as unsubscribed or complained, for
the push the other way. An SMTP send's refusals of addresses that do not exist go through
the same function (:mod:`newsletter.feedback.smtp_bounces`), without adding rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.atomic import locked
from newsletter.audience.csvfile import open_list
from newsletter.audience.edit import Change, ListEdit, rewrite
from newsletter.audience.validate import RANK, Address, check_address, suppression_key
from newsletter.feedback.suppressions import LABEL, STATUS_OF, Suppression

_PLAIN = re.compile(r"[!#-~]+")
"""Printable ASCII without white space or double quotes."""
STATUS_AT = "status_at"
STATUS_REASON = "status_reason"
PUSHABLE = RANK["unsubscribed"]
"""Rows at least this strict (unsubscribed, complained) are what SendGrid should know too."""


@dataclass(frozen=True, slots=True)
class Target:
    """The strictest thing SendGrid says about one address."""

    email: str
    status: str
    kind: str
    date: str
    reason: str

    @property
    def rank(self) -> int:
        return RANK[self.status]


@dataclass(frozen=True, slots=True)
class Changed:
    email: str
    line: int | None
    """Line in the list, or None for a row added at the end."""
    old: str
    new: str
    kind: str
    date: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "email": self.email,
            "line": self.line,
            "from": self.old,
            "to": self.new,
            "list": self.kind,
            "date": self.date,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Mapped:
    changed: list[Changed] = field(default_factory=list)
    """Rows whose status became stricter, and rows added, in list order."""
    unchanged: int = 0
    """Addresses SendGrid named whose rows were already at least as strict."""
    skipped: list[str] = field(default_factory=list)
    """Addresses SendGrid named that are not valid addresses and not in the list."""
    strict: dict[str, str] = field(default_factory=dict)
    """key → address of every valid address the list (as written) holds as unsubscribed or complained."""
    written: bool = False


def key_for(raw: str) -> tuple[str, str | None]:
    """(key, normalised address or None when invalid) of an address from anywhere."""
    checked = check_address(raw)
    if isinstance(checked, Address):
        return checked.key, checked.normalized
    return suppression_key(raw), None


def quick_key(raw: str) -> str | None:
    """:func:`key_for`'s key without validating, for a plain ASCII cell; None otherwise.

    For ASCII without quotes or Punycode labels, email-validator changes only the case of
    the domain (and of role names), so a valid address's key (its normalised form, case-folded) is the cell stripped and
    lower-cased; and so is an invalid one's (:func:`suppression_key`) when no white space
    is left inside. The list's rows are looked up with it, and validated only when found
    or when their status must be pushed, which takes much of the time out of a sync of a
    large list.

    Speed code. Plain twin: :func:`key_for`; held equal by
    ``tests/test_feedback_listmap.py::test_quick_key_is_key_for_whenever_it_answers``.
    """
    text = raw.strip().lower()
    if _PLAIN.fullmatch(text) and "xn--" not in text:
        return text
    return None


def strictest(found: Iterable[Suppression]) -> dict[str, Target]:
    """key → the strictest :class:`Target` per address (the earliest date among equals)."""
    targets: dict[str, Target] = {}
    for s in found:
        status = STATUS_OF.get(s.kind)
        if status is None:
            continue
        key, normalized = key_for(s.email)
        date = dt.datetime.fromtimestamp(s.created, dt.UTC).date().isoformat() if s.created else ""
        reason = f"SendGrid {LABEL[s.kind]}" + (f": {s.reason}" if s.reason and s.reason != LABEL[s.kind] else "")
        t = Target(normalized or s.email.strip(), status, s.kind, date, reason)
        old = targets.get(key)
        if old is None or t.rank > old.rank or (t.rank == old.rank and t.date and (not old.date or t.date < old.date)):
            targets[key] = t
    return targets


def apply(
    list_path: Path,
    targets: dict[str, Target],
    *,
    dry_run: bool,
    today: dt.date | None = None,
    collect: bool = True,
    add: bool = True,
) -> Mapped:
    """Make the list at least as strict as ``targets`` (unless ``dry_run``); see the module.

    With nothing to change the list is only read (for :attr:`Mapped.strict`), and not even
    that when ``collect`` is false: a send's sync with nothing new costs no pass over a
    large list. Without ``add``, an address the list does not hold is left out (the list
    changes only for its own rows).
    """
    result = Mapped()
    if not targets and not collect:
        return result
    seen: set[str] = set()
    today_text = (today or dt.date.today()).isoformat()

    def plan(edit: ListEdit) -> tuple[Change, Callable[[], Iterable[list[str]]]]:
        email_at = edit.roles["email"]
        status_at = edit.column("status", "status")
        when_at = edit.column(STATUS_AT)
        why_at = edit.column(STATUS_REASON)
        source_at = edit.roles.get("source") or edit.by_name.get("source")
        changed, strict = result.changed, result.strict
        rank_of = RANK.get  # parse_status, without a call per row

        def change(line: int, cells: list[str]) -> bool:
            raw = cells[email_at]
            rank = rank_of(cells[status_at].strip().lower() or "subscribed")
            key = quick_key(raw)
            if key is None or key in targets or rank is None or rank >= PUSHABLE:
                key, normalized = key_for(raw)
            else:
                normalized = None  # neither changed nor pushed: not needed
            target = targets.get(key)
            if target is not None:
                seen.add(key)
                if rank is None or target.rank > rank:
                    old = cells[status_at].strip() or "subscribed"
                    cells[status_at] = target.status
                    cells[when_at] = target.date or today_text
                    cells[why_at] = target.reason
                    changed.append(
                        Changed(normalized or raw.strip(), line, old, target.status, target.kind, cells[when_at], target.reason)
                    )
                    rank = target.rank
                    if normalized is not None and rank >= PUSHABLE:
                        strict[key] = normalized
                    return True
                result.unchanged += 1
            if normalized is not None and rank is not None and rank >= PUSHABLE:
                strict[key] = normalized
            return False

        def extra() -> Iterator[list[str]]:
            if not add:
                return
            for key, target in targets.items():
                if key in seen:
                    continue
                if check_address(target.email).__class__ is not Address:
                    result.skipped.append(target.email)
                    continue
                cells = edit.blank()
                cells[email_at] = target.email
                cells[status_at] = target.status
                cells[when_at] = target.date or today_text
                cells[why_at] = target.reason
                if source_at is not None:
                    cells[source_at] = "sendgrid"
                changed.append(Changed(target.email, None, "", target.status, target.kind, cells[when_at], target.reason))
                if target.rank >= PUSHABLE:
                    strict[key] = target.email
                yield cells

        return change, extra

    if dry_run or not targets:
        with locked(list_path), open_list(list_path) as reader:
            edit = ListEdit(reader)
            change, extra = plan(edit)
            for _ in edit.rows(change):
                pass
            for _ in extra():
                pass
    else:
        result.written = rewrite(list_path, plan)
    return result
