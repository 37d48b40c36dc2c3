"""Changing the list: the rewrite every change goes through, and ``unsubscribe``.

A change is a stream: the list is read row by row, changed rows are replaced,
new rows are appended, and everything goes to a temporary file that replaces the
list only when it is complete (:class:`~newsletter.audience.csvfile.AtomicCsv`).
Other writers wait on a lock. A list with rows that cannot be read is never
rewritten: rewriting could lose one of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.atomic import AtomicCsv, locked
from newsletter.audience.csvfile import ListReader, open_list, unneutralize
from newsletter.audience.validate import RANK, STATUSES, Address, check_address, parse_status
from newsletter.errors import InputError, Problem

UNSUBSCRIBED = RANK["unsubscribed"]
DROP = "drop"
"""What a change returns to remove the row from the list."""
Change = Callable[[int, list[str]], "bool | str"]


class ListEdit:
    """The columns of a list being rewritten; columns it lacks are added at the end."""

    def __init__(self, reader: ListReader) -> None:
        self.reader = reader
        self.header = list(reader.header.cells)
        self.roles = dict(reader.header.roles)
        self.width = len(self.header)
        self.by_name = {name.lower(): i for i, name in enumerate(reader.header.names) if name}

    def column(self, name: str, role: str | None = None) -> int:
        """Index of the column for ``role`` (or named ``name``), adding it if needed."""
        if role is not None and role in self.roles:
            return self.roles[role]
        if name in self.by_name:
            return self.by_name[name]
        self.header.append(name)
        self.by_name[name] = len(self.header) - 1
        if role is not None:
            self.roles[role] = len(self.header) - 1
        return len(self.header) - 1

    def blank(self) -> list[str]:
        return [""] * len(self.header)

    def rows(self, change: Callable[[int, list[str]], object]) -> Iterator[list[str]]:
        """Every row, padded to the new width, after ``change(line, cells)`` may edit it in
        place (or leave it out, by returning :data:`DROP`)."""
        pad = [""] * (len(self.header) - self.width)
        unreadable: list[Problem] = []
        for line, cells, problem in self.reader.records():
            if problem is not None:
                unreadable.append(Problem(self.reader.shown, line, None, "", problem))
                continue
            if unreadable:
                continue
            cells = [unneutralize(c) if c[:1] == "'" else c for c in cells] + pad
            if change(line, cells) == DROP:
                continue
            yield cells
        if unreadable:
            raise InputError(unreadable, summary=f"{self.reader.shown}: rows that cannot be read; the list was not changed")


def rewrite(
    list_path: Path,
    plan: Callable[[ListEdit], tuple[Change, Callable[[], Iterable[list[str]]]]],
) -> bool:
    """Rewrite the list under a lock. ``plan`` adds columns and returns (change, extra rows);
    ``change(line, cells)`` edits a row in place and returns True when it changed it
    (:data:`DROP` to remove it).

    The file is replaced only if a row changed or a row was added; returns whether it was.
    """
    with locked(list_path), open_list(list_path) as reader:
        edit = ListEdit(reader)
        change, extra = plan(edit)
        changed = False

        def tracking(line: int, cells: list[str]) -> bool | str:
            nonlocal changed
            done = change(line, cells)
            if done:
                changed = True
            return done

        with AtomicCsv(list_path, reader.dialect) as out:
            out.writerow(edit.header)
            for cells in edit.rows(tracking):
                out.writerow(cells)
            for cells in extra():
                out.writerow(cells)
                changed = True
            if changed:
                out.commit()
        return changed


def key_of(raw: str) -> str | None:
    checked = check_address(unneutralize(raw))
    return checked.key if isinstance(checked, Address) else None


def command_line_addresses(emails: Iterable[str]) -> dict[str, str]:
    """Addresses given on the command line → {key: normalised}; all bad ones are reported at once."""
    found: dict[str, str] = {}
    problems = []
    for raw in emails:
        checked = check_address(raw)
        if isinstance(checked, Address):
            found.setdefault(checked.key, checked.normalized)
        else:
            problems.append(Problem("command line", None, None, "EMAIL", f"{raw!r}: {checked}"))
    if problems:
        raise InputError(problems, summary="not valid email addresses; the list was not changed")
    return found


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    email: str
    outcome: str
    """``unsubscribed`` | ``already`` | ``added``."""
    lines: tuple[int, ...]
    note: str = ""


def unsubscribe(
    list_path: Path, emails: Iterable[str], reason: str | None = None, *, today: dt.date | None = None
) -> list[Unsubscribed]:
    """Record unsubscribes: every row of each address becomes ``unsubscribed`` (a
    ``complained`` row stays so), with ``unsubscribed_at`` and, if given, the reason.
    An address not in the list is added as unsubscribed, so that no later import
    subscribes it again. Returns what happened to each address.
    """
    wanted = command_line_addresses(emails)
    if reason is not None and ("\n" in reason or "\r" in reason):
        raise InputError(Problem("command line", None, None, "--reason", "the reason must be one line"))
    date = (today or dt.date.today()).isoformat()
    lines: dict[str, list[int]] = {k: [] for k in wanted}
    changed: dict[str, list[int]] = {k: [] for k in wanted}
    kept: dict[str, str] = {}

    def plan(edit: ListEdit) -> tuple[Change, Callable[[], Iterable[list[str]]]]:
        email_at = edit.roles["email"]
        status_at = edit.column("status", "status")
        when_at = edit.column("unsubscribed_at")
        why_at = edit.column("unsubscribe_reason") if reason else None
        source_at = edit.roles.get("source") or edit.by_name.get("source")

        def change(line: int, cells: list[str]) -> bool:
            key = key_of(cells[email_at])
            if key not in wanted:
                return False
            lines[key].append(line)
            rank = parse_status(cells[status_at])
            if rank is not None and rank >= UNSUBSCRIBED:
                kept[key] = STATUSES[rank]
                return False
            cells[status_at] = "unsubscribed"
            cells[when_at] = date
            if why_at is not None:
                cells[why_at] = reason or ""
            changed[key].append(line)
            return True

        def extra() -> Iterator[list[str]]:
            for key, normalized in wanted.items():
                if lines[key]:
                    continue
                cells = edit.blank()
                cells[email_at] = normalized
                cells[status_at] = "unsubscribed"
                cells[when_at] = date
                if why_at is not None:
                    cells[why_at] = reason or ""
                if source_at is not None:
                    cells[source_at] = "unsubscribe"
                yield cells

        return change, extra

    rewrite(list_path, plan)
    results = []
    for key, normalized in wanted.items():
        if not lines[key]:
            results.append(Unsubscribed(normalized, "added", (), "not in the list: added as unsubscribed"))
        elif changed[key]:
            results.append(Unsubscribed(normalized, "unsubscribed", tuple(changed[key])))
        else:
            results.append(Unsubscribed(normalized, "already", tuple(lines[key]), f"already {kept[key]}"))
    return results
