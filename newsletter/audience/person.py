"""One person in the list: every row that holds their address, and removing them all.

A row holds an address when its cell is that address (case ignored) or, for a broken
cell, when the address is one it may stand for (``Dev <dev@example.org>``,
``"bob @example.org"``: :func:`~newsletter.audience.validate.hold_keys`). A list of a
million rows is read in about a second: a cell is only validated when its local part
is in it at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience.csvfile import open_list, unneutralize
from newsletter.audience.edit import DROP, Change, ListEdit, command_line_addresses, rewrite
from newsletter.audience.validate import check_address, hold_keys


@dataclass(frozen=True, slots=True)
class PersonRows:
    """The rows of one address: the header's names, and (line, cells) of each row."""

    names: list[str]
    rows: list[tuple[int, list[str]]]


def address_of(raw: str) -> tuple[str, str]:
    """(normalised address, key) of an address given on the command line (bad input: InputError)."""
    key, normalized = next(iter(command_line_addresses([raw]).items()))
    return normalized, key


def _holds(key: str) -> Callable[[str], bool]:
    local = key.rpartition("@")[0]

    def holds(cell: str) -> bool:
        if local not in cell.casefold():
            return False
        raw = unneutralize(cell)
        checked = check_address(raw)
        if not isinstance(checked, str):
            return checked.key == key
        return key in hold_keys(raw)

    return holds


def rows_of(list_path: Path, key: str) -> PersonRows:
    """Every row of the list that holds the address with this key."""
    holds = _holds(key)
    found: list[tuple[int, list[str]]] = []
    with open_list(list_path) as reader:
        at = reader.header.roles["email"]
        for line, cells, problem in reader.records():
            if problem is None and holds(cells[at]):
                found.append((line, [unneutralize(c) for c in cells]))
        return PersonRows(list(reader.header.names), found)


def remove(list_path: Path, key: str) -> list[int]:
    """Remove every row of the address from the list (rewritten like every change); the lines removed."""
    holds = _holds(key)
    removed: list[int] = []

    def plan(edit: ListEdit) -> tuple[Change, Callable[[], Iterable[list[str]]]]:
        at = edit.roles["email"]

        def change(line: int, cells: list[str]) -> bool | str:
            if holds(cells[at]):
                removed.append(line)
                return DROP
            return False

        return change, lambda: ()

    rewrite(list_path, plan)
    return removed
