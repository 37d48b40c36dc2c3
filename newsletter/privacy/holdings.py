"""Everything the project holds about one address (a subject access request, GDPR Art. 15).

The list's rows with every column (consent evidence and statuses among them), every
send the address was in with its state and reason (from the send journal), the
suppressions the list records, and every other file of the project that still names
the person (:mod:`newsletter.privacy.places`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.audience.person import address_of, rows_of
from newsletter.audience.validate import ascii_domain
from newsletter.delivery.journal_read import JOURNAL_FILE, open_existing
from newsletter.delivery.state import STATE_DIR, load_secret, unsubscribe_token
from newsletter.errors import display_path
from newsletter.privacy import places
from newsletter.privacy.people import has_secret, register, root_of

SUPPRESSION_COLUMNS = ("status", "status_at", "status_reason", "unsubscribed_at", "unsubscribe_reason")


@dataclass(frozen=True, slots=True)
class Sent:
    slug: str
    provider: str
    started: float
    """When the send began (seconds since the epoch)."""
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class Holdings:
    address: str
    list_file: str
    columns: list[str]
    rows: list[tuple[int, list[str]]]
    """(line, cells) of each row of the address in the list."""
    sends: list[Sent]
    files: list[tuple[str, str]]
    """(file, what forgetting does to it) of every other file that names the person."""
    forgotten: bool
    """The address is in the register of forgotten addresses."""

    def suppressions(self) -> list[tuple[int, str, str]]:
        """(line, column, value) of every status column a row fills in."""
        at = {name.lower(): i for i, name in enumerate(self.columns)}
        return [
            (line, name, cells[at[name]])
            for line, cells in self.rows
            for name in SUPPRESSION_COLUMNS
            if name in at and cells[at[name]].strip() and (name != "status" or cells[at[name]] != "subscribed")
        ]

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["rows"] = [{"line": line, "cells": dict(zip(self.columns, cells, strict=True))} for line, cells in self.rows]
        del data["columns"]
        data["files"] = [{"file": f, "forget": what} for f, what in self.files]
        return data


def needles_for(root: Path, address: str) -> places.Needles:
    local, _, domain = address.rpartition("@")
    token = unsubscribe_token(load_secret(root), address) if has_secret(root) else None
    return places.needles(address, f"{local}@{ascii_domain(address)}" if domain else address, token)


def searched(root: Path, list_path: Path) -> list[Path]:
    """The folders searched for files naming a person: the project, and the list's own
    folder's state (its cached figures) when the list lives elsewhere."""
    folders = [root]
    beside = list_path.resolve().parent / STATE_DIR
    if beside.is_dir() and root not in beside.parents:
        folders.append(beside)
    return folders


def show(list_path: Path, raw_address: str) -> Holdings:
    """Everything held about ``raw_address``, read only: nothing is created or changed."""
    address, key = address_of(raw_address)
    root = root_of(list_path)
    person = rows_of(list_path, key)
    sends: list[Sent] = []
    journal = open_existing(root)
    if journal is not None:
        with journal:
            sends = [
                Sent(send.slug, send.provider, send.created, state, reason) for send, state, reason in journal.person(address)
            ]
    leave = {list_path.resolve(), (root / STATE_DIR / JOURNAL_FILE).resolve()}
    leave |= {p.with_name(p.name + suffix) for p in list(leave) for suffix in ("-wal", "-shm")}
    found = places.naming(searched(root, list_path), needles_for(root, address), leave)
    forgotten = register(list_path)
    return Holdings(
        address,
        display_path(list_path),
        person.names,
        person.rows,
        sends,
        [(display_path(p), places.WHAT[places.action(p, root)]) for p in found],
        forgotten is not None and address in forgotten,
    )
