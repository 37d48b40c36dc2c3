"""``subscribers import``: merge another export into the list, never resubscribing anyone.

Recognised headers, case, spaces, hyphens and underscores ignored: our own
columns; Mailchimp audience exports ("Email Address", "First Name", "Last Name",
"TAGS", "OPTIN_TIME"; in the unsubscribed and cleaned exports "UNSUB_TIME" and
"CLEAN_TIME" make the row unsubscribed or bounced); Eventbrite attendee exports
("Email", "First Name", "Last Name", "Order Date"). Other columns are not imported.

Consent: every column that says whether a person agreed (``status``, ``Subscribed?``,
``Opt-in``, ``Email Marketing``, Substack's ``email_disabled``...: see
:mod:`newsletter.audience.consent`) is read, the strictest answer wins, and "no"
becomes ``unsubscribed`` (kept, so no later import subscribes them). A column that
looks like consent but is not known, or a value that cannot be read as yes or no,
stops the import with the question (answered by :class:`ConsentAnswer`), before
anything is written.

Evidence of consent (``consent_source``, ``consent_at``, ``consent_wording``: see
:mod:`newsletter.audience.evidence`) is imported as written, every byte kept; a row
whose evidence is there but not as described stops the import, before anything is
written, naming the row and the column.

Per address: new → *added*; in the list and unsubscribed, bounced or complained →
*skipped* unless the import is stricter (an import never resubscribes anyone);
a stricter status in the import → *updated*; otherwise empty names are filled, tags
added and evidence of consent written where the list's row has none (*updated*), or
nothing is new (*skipped*). Every skip has a reason.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience import consent
from newsletter.audience import evidence as proof
from newsletter.audience.csvfile import ListReader, open_list, unneutralize
from newsletter.audience.edit import Change, ListEdit, key_of, rewrite
from newsletter.audience.validate import (
    STATUSES,
    SUBSCRIBED,
    Address,
    check_address,
    hold_keys,
    parse_status,
    parse_tags,
)
from newsletter.errors import InputError, Problem

_SQUASH = re.compile(r"[\s_\-#]+")
IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "attendeeemail"),
    "first_name": ("firstname", "givenname", "forename", "attendeefirstname"),
    "last_name": ("lastname", "surname", "familyname", "attendeelastname"),
    "tags": ("tags", "tag"),
    "subscribed_at": ("subscribedat", "optintime", "orderdate"),
    "consent_source": ("consentsource",),
    "consent_at": ("consentat",),
    "consent_wording": ("consentwording",),
}
UNSUBSCRIBED = consent.UNSUBSCRIBED
_IMPORT_ALIAS = {alias: role for role, aliases in IMPORT_COLUMNS.items() for alias in aliases}
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def import_role(header_cell: str) -> str | None:
    return _IMPORT_ALIAS.get(_SQUASH.sub("", header_cell).lower())


def export_kind(names: list[str]) -> str:
    squashed = {_SQUASH.sub("", n).lower() for n in names}
    if "emailaddress" in squashed and ({"optintime", "memberrating", "leid", "euid"} & squashed):
        return "Mailchimp export"
    if {"emaildisabled", "activesubscription"} <= squashed:
        return "Substack export"
    if {"order", "attendee"} & squashed or "tickettype" in squashed:
        return "Eventbrite attendee export"
    return "CSV"


@dataclass(frozen=True, slots=True)
class Outcome:
    line: int
    """Line in the imported file."""
    email: str
    action: str
    """``added`` | ``updated`` | ``skipped``."""
    reason: str


@dataclass(slots=True)
class ImportResult:
    source: str
    kind: str
    outcomes: list[Outcome] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    changed: bool = False

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)


@dataclass(slots=True)
class _Incoming:
    line: int
    email: str
    rank: int
    first_name: str
    last_name: str
    tags: tuple[str, ...]
    subscribed_at: str
    evidence: tuple[str, ...] = ()
    """The evidence cells as written (see :data:`newsletter.audience.evidence.COLUMNS`), or
    none when the row has none."""


@dataclass(slots=True)
class _InList:
    first_line: int
    first_name: str | None
    """The first row's names (None: the list has no such column) and tags."""
    last_name: str | None
    tags: tuple[str, ...]
    rank: int = SUBSCRIBED
    held: int | None = None
    broken: int | None = None
    """A line where the address is written with a space, a line break or a name around it."""
    lines: list[int] = field(default_factory=list)
    proven: bool = False
    """The first row has evidence of consent (one of its cells is written)."""


def _import_tags(raw: str) -> tuple[str, ...]:
    """Tags as exported: ``a;b``, or Mailchimp's ``"a","b"``."""
    return parse_tags(";".join(part.strip().strip('"') for part in re.split(r"[;,]", raw)))


@dataclass(frozen=True, slots=True)
class ConsentAnswer:
    """How the person importing answered the import's question about consent."""

    status_column: str | None = None
    """The column that says whether each person agreed (``--status-column``)."""
    yes_means: tuple[str, ...] = ()
    """Values that mean agreed (``--yes-means``); a value still unreadable then means not."""
    forgotten: Container[str] = ()
    """Addresses forgotten on request (:class:`~newsletter.audience.forgotten.Forgotten`): never added back."""


def _consent_columns(reader: ListReader, answer: ConsentAnswer) -> consent.Columns:
    """The source's consent columns, or the question when one looks like consent but is not known."""
    names = reader.header.names
    if answer.status_column is not None and consent.find_named(names, answer.status_column) is None:
        raise InputError(
            Problem(
                reader.shown,
                1,
                None,
                "--status-column",
                f"no column named {answer.status_column!r}; the columns are " + ", ".join(repr(n) for n in names if n),
            )
        )
    found = consent.columns(names, status_column=answer.status_column, skip=set(reader.header.roles.values()))
    if found.lookalikes:
        raise InputError(
            [
                Problem(
                    reader.shown,
                    1,
                    i + 1,
                    names[i],
                    "this column looks like it says whether people agreed to get email, but newsletter does not know it",
                    f"if it does, name it: --status-column {shlex.quote(names[i])} (with --yes-means VALUE if "
                    "its yes is not written yes, y, true or 1); if it does not, name the column that does "
                    "with --status-column, or rename this one",
                )
                for i in found.lookalikes
            ],
            summary=f"{reader.shown}: which column says whether each person agreed? Nothing was imported",
        )
    return found


def _unreadable_question(shown: str, unreadable: dict[tuple[str, str], list[int]]) -> InputError:
    problems = []
    for (column, value), lines in unreadable.items():
        more = f" (and {len(lines) - 1:,} more row{'s' if len(lines) > 2 else ''})" if len(lines) > 1 else ""
        shown_value = repr(value) if value.strip() else "empty"
        problems.append(
            Problem(
                shown,
                lines[0],
                None,
                column,
                f"{shown_value}{more}: did this person agree to get email?",
                "say which values mean yes with --yes-means VALUE (repeatable); every other value then means no",
            )
        )
    n = sum(len(lines) for lines in unreadable.values())
    return InputError(
        problems,
        summary=f"{shown}: {n:,} row{'s' if n != 1 else ''} do not say clearly whether the "
        "person agreed to get email; nothing was imported",
    )


def _read_incoming(
    reader: ListReader, extra_tags: tuple[str, ...], today: str, result: ImportResult, answer: ConsentAnswer
) -> dict[str, _Incoming]:
    roles = reader.header.roles
    incoming: dict[str, _Incoming] = {}
    unreadable = []
    columns = _consent_columns(reader, answer)
    used = {*roles.values(), *(at for at, _ in columns.read)}
    result.ignored_columns = [n for i, n in enumerate(reader.header.names) if i not in used and n]
    yes_means = frozenset(consent.squash(v) for v in answer.yes_means)
    unclear: dict[tuple[str, str], list[int]] = {}
    evidence_at = proof.columns_at(roles)
    check_evidence = proof.Checker(evidence_at)
    bad_evidence: list[Problem] = []

    def cell(cells: list[str], role: str) -> str:
        return unneutralize(cells[roles[role]]).strip() if role in roles else ""

    for line, cells, problem in reader.records():
        if problem is not None:
            unreadable.append(Problem(reader.shown, line, None, "", problem))
            continue
        raw = cell(cells, "email")
        checked = check_address(raw)
        if not isinstance(checked, Address):
            result.outcomes.append(Outcome(line, raw, "skipped", f"not a valid address: {checked}"))
            continue
        if checked.normalized in answer.forgotten:
            result.outcomes.append(
                Outcome(line, checked.normalized, "skipped", "forgotten on request (subscribers forget): never added back")
            )
            continue
        ranks = []
        for at, kind in columns.read:
            value = unneutralize(cells[at])
            found = consent.read_value(kind, value, yes_means)
            if found is None:
                unclear.setdefault((reader.header.names[at], value), []).append(line)
            else:
                ranks.append(found)
        if len(ranks) < len(columns.read):
            continue
        rank = consent.combine(ranks) if ranks else SUBSCRIBED
        if rank == consent.PENDING:
            result.outcomes.append(
                Outcome(
                    line, checked.normalized, "skipped", "not confirmed (pending): not added, and a later import can add them"
                )
            )
            continue
        seen = incoming.get(checked.key)
        if seen is not None:
            seen.rank = max(seen.rank, rank)
            result.outcomes.append(Outcome(line, checked.normalized, "skipped", f"same address as line {seen.line} of this file"))
            continue
        given = tuple(unneutralize(cells[i]) if i is not None else "" for i in evidence_at)
        if any(v.strip() for v in given):
            lacks = check_evidence(cells)
            if lacks is not None:
                bad_evidence.append(Problem(reader.shown, line, None, lacks[0], lacks[1], proof.HINT))
                continue
        else:
            given = ()
        date = _DATE.match(cell(cells, "subscribed_at"))
        incoming[checked.key] = _Incoming(
            line,
            checked.normalized,
            rank,
            cell(cells, "first_name"),
            cell(cells, "last_name"),
            parse_tags(";".join(extra_tags + _import_tags(cell(cells, "tags")))),
            date.group(1) if date else today,
            given,
        )
    if bad_evidence:
        n = len(bad_evidence)
        raise InputError(
            bad_evidence,
            summary=f"{reader.shown}: {n:,} row{'s' if n != 1 else ''} with evidence of "
            "consent that is not as described; nothing was imported",
        )
    if unreadable:
        raise InputError(unreadable, summary=f"{reader.shown}: rows that cannot be read; nothing was imported")
    if unclear:
        raise _unreadable_question(reader.shown, unclear)
    return incoming


def _index(list_path: Path, wanted: dict[str, _Incoming]) -> dict[str, _InList]:
    """Where each incoming address already is in the list, with its strictest status."""
    found: dict[str, _InList] = {}
    with open_list(list_path) as reader:
        roles = reader.header.roles
        email_at = roles["email"]
        status_at = roles.get("status")
        also = consent.columns(reader.header.names, skip=set(roles.values())).read

        def cell(cells: list[str], role: str) -> str | None:
            return unneutralize(cells[roles[role]]).strip() if role in roles else None

        for line, cells, problem in reader.records():
            if problem is not None:
                continue  # the rewrite refuses such a list, with every line named
            key = key_of(cells[email_at])
            broken = key is None
            keys = hold_keys(unneutralize(cells[email_at])) if key is None else {key}
            for key in keys & wanted.keys():
                entry = found.get(key)
                if entry is None:
                    entry = found[key] = _InList(
                        line, cell(cells, "first_name"), cell(cells, "last_name"), parse_tags(cell(cells, "tags") or "")
                    )
                    entry.proven = any((cell(cells, name) or "") for name in proof.COLUMNS)
                rank = parse_status(cells[status_at]) if status_at is not None else SUBSCRIBED
                for at, kind in also:  # the list's own consent columns, read as the scan reads them
                    said = consent.read_value(kind, cells[at]) if rank is not None else SUBSCRIBED
                    rank = None if said is None else max(rank or 0, UNSUBSCRIBED if said < 0 else said)
                if rank is None:
                    entry.held = line
                else:
                    entry.rank = max(entry.rank, rank)
                if broken and entry.broken is None:
                    entry.broken = line
                entry.lines.append(line)
    return found


def import_list(
    list_path: Path,
    source_path: Path,
    tag: str | None = None,
    *,
    today: dt.date | None = None,
    answer: ConsentAnswer | None = None,
) -> ImportResult:
    """Merge ``source_path`` into the list (see the module's description)."""
    day = (today or dt.date.today()).isoformat()
    extra_tags = parse_tags(tag or "")
    if tag is not None and not extra_tags:
        raise InputError(Problem("command line", None, None, "--tag", "the tag is empty"))
    with open_list(source_path, import_role) as reader:
        result = ImportResult(reader.shown, export_kind(reader.header.names))
        incoming = _read_incoming(reader, extra_tags, day, result, answer or ConsentAnswer())

    updates: dict[int, Callable[[ListEdit, list[str]], bool]] = {}
    added: list[_Incoming] = []

    def plan(edit: ListEdit) -> tuple[Change, Callable[[], Iterable[list[str]]]]:
        in_list = _index(list_path, incoming)
        for key, row in incoming.items():
            entry = in_list.get(key)
            if entry is None:
                added.append(row)
                result.outcomes.append(Outcome(row.line, row.email, "added", _added_note(row)))
            else:
                _decide(row, entry, updates, result)
        email_at = edit.roles["email"]
        cols = {
            "status": edit.column("status", "status") if _needs_status(added, updates) else None,
            "first_name": edit.column("first_name", "first_name") if any(r.first_name for r in added) else None,
            "last_name": edit.column("last_name", "last_name") if any(r.last_name for r in added) else None,
            "tags": edit.column("tags", "tags") if any(r.tags for r in incoming.values()) else None,
        }
        proven = [edit.column(name, name) for name in proof.COLUMNS] if any(r.evidence for r in incoming.values()) else []
        extra_named = {name: edit.by_name.get(name) for name in ("subscribed_at", "source")}

        def change(line: int, cells: list[str]) -> bool:
            update = updates.get(line)
            return update is not None and update(edit, cells)

        def extra() -> Iterator[list[str]]:
            for row in added:
                cells = edit.blank()
                cells[email_at] = row.email
                for role, value in (
                    ("status", STATUSES[row.rank] if row.rank != SUBSCRIBED else "subscribed"),
                    ("first_name", row.first_name),
                    ("last_name", row.last_name),
                    ("tags", ";".join(row.tags)),
                ):
                    at = cols[role]
                    if at is not None:
                        cells[at] = value
                if extra_named["subscribed_at"] is not None:
                    cells[extra_named["subscribed_at"]] = row.subscribed_at
                if extra_named["source"] is not None:
                    cells[extra_named["source"]] = f"import:{source_path.name}"
                for at, value in zip(proven, row.evidence):
                    cells[at] = value
                yield cells

        return change, extra

    result.changed = rewrite(list_path, plan)
    result.outcomes.sort(key=lambda o: o.line)
    return result


def _added_note(row: _Incoming) -> str:
    return "new address" if row.rank == SUBSCRIBED else f"new address, recorded as {STATUSES[row.rank]}"


def _needs_status(added: list[_Incoming], updates: Mapping[int, object]) -> bool:
    return bool(updates) or any(r.rank != SUBSCRIBED for r in added)


def _decide(
    row: _Incoming, entry: _InList, updates: dict[int, Callable[[ListEdit, list[str]], bool]], result: ImportResult
) -> None:
    def outcome(action: str, reason: str) -> None:
        result.outcomes.append(Outcome(row.line, row.email, action, reason))

    if entry.held is not None:
        outcome("skipped", f"line {entry.held} of the list has an unknown status; fix it first")
        return
    if row.rank > entry.rank:
        new_status = STATUSES[row.rank]

        def stricter(edit: ListEdit, cells: list[str]) -> bool:
            at = edit.column("status", "status")
            before, cells[at] = cells[at], new_status
            return before != new_status

        for line in entry.lines:
            updates[line] = stricter
        outcome("updated", f"now {new_status} (was {STATUSES[entry.rank]}, line {entry.first_line})")
        return
    if entry.rank != SUBSCRIBED:
        why = f"{STATUSES[entry.rank]} on line {entry.first_line}"
        if row.rank == SUBSCRIBED:
            outcome("skipped", f"{why}: an import never resubscribes anyone")
        else:
            outcome("skipped", f"already {why}")
        return
    if entry.broken is not None:
        outcome(
            "skipped",
            f"line {entry.broken} of the list has this address with a space, line break or name in it; fix that line first",
        )
        return
    changes = _changes(entry, row)
    if not changes:
        outcome("skipped", f"already in the list (line {entry.first_line}), nothing new")
        return

    def fill(edit: ListEdit, cells: list[str]) -> bool:
        before = list(cells)
        for role, value in (("first_name", row.first_name), ("last_name", row.last_name)):
            at = edit.roles.get(role)
            if value and at is not None and not cells[at].strip():
                cells[at] = value
        if row.tags:
            at = edit.column("tags", "tags")
            cells[at] = ";".join(parse_tags(";".join((*parse_tags(cells[at]), *row.tags))))
        if row.evidence and not entry.proven:  # the three cells together: never half of two sign-ups
            for name, value in zip(proof.COLUMNS, row.evidence, strict=True):
                cells[edit.column(name, name)] = value
        return cells != before

    updates[entry.first_line] = fill
    outcome("updated", f"line {entry.first_line}: {', '.join(changes)}")


def _changes(entry: _InList, row: _Incoming) -> list[str]:
    """What filling empty names and adding tags changes on the address's first row."""
    changes = []
    if row.first_name and entry.first_name == "":
        changes.append("first name filled")
    if row.last_name and entry.last_name == "":
        changes.append("last name filled")
    new_tags = [t for t in row.tags if t not in entry.tags]
    if new_tags:
        changes.append(f"tag{'s' if len(new_tags) > 1 else ''} {', '.join(new_tags)} added")
    if row.evidence and not entry.proven:
        changes.append("evidence of consent added")
    return changes
