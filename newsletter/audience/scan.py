"""One pass over the list: every row classified, every address counted once.

Each row is exactly one of: *invalid* (unreadable row, bad address, unknown
status, or a control character in a name, which would reach the To: header), a
*duplicate* (its address, ignoring case, is on an earlier valid row) or the *first*
row of an address. Every address gets the strictest status of all its
rows, so an unsubscribe is never lost to a later "subscribed" row. An address that
also sits on an invalid row that might be an unsubscribe (an unknown status, or a
broken address whose status is not "subscribed") is *held*: not mailed until the
row is fixed.

The result of a pass is a :class:`Tally`.

Speed: most addresses are checked by :func:`newsletter.audience.validate.fast_path`
(its twin, email-validator, and the test that holds them equal are named there); this
one pass is itself the plain twin of :mod:`newsletter.audience.halves`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from heapq import heappush, heapreplace
from typing import Any, Protocol

from newsletter.audience import consent
from newsletter.audience.csvfile import Header, unneutralize, width_problem
from newsletter.audience.evidence import Checker, columns_at
from newsletter.audience.validate import (
    RANK,
    SUBSCRIBED,
    Address,
    ascii_domain,
    check_address,
    domain_problem,
    fast_path,
    hold_keys,
    parse_status,
    parse_tags,
)
from newsletter.errors import Problem

_NAME_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
"""Characters a name may not hold (tab and line breaks are allowed: they become spaces)."""

LONGEST_KEPT = 32
"""How many of the longest values of each column a tally keeps (see ``Tally.longest``)."""

Candidate = tuple[int, int, str]
"""(UTF-8 bytes, minus the line, the cell as written or the address normalised)."""

LINE_SHIFT = 4
TAGSET_SHIFT = 40
RANK_MASK = 3
AS_WRITTEN = 4
UNPROVEN = 8
"""Set when the first row of an address has no evidence of consent (only looked for with
``consent: required``: see :mod:`newsletter.audience.evidence`)."""
LINE_MASK = (1 << (TAGSET_SHIFT - LINE_SHIFT)) - 1


@dataclass(slots=True)
class Tally:
    """What one pass found: counts, the state of each address, and the problems by line."""

    file: str
    rows: int = 0
    last_line: int = 0
    invalid: int = 0
    duplicates: int = 0
    state: dict[str, int] = field(default_factory=dict)
    """Address key → one int: ``tagset << TAGSET_SHIFT | first line << LINE_SHIFT | UNPROVEN?
    | AS_WRITTEN? | strictest rank`` (a million addresses fit in little memory); ``AS_WRITTEN``
    is set when the first row's address cell is the normalised address itself, ``UNPROVEN``
    when evidence of consent is required and that row has none."""
    tagsets: list[tuple[str, ...]] = field(default_factory=list)
    holds: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    """Invalid rows, one problem each."""
    warnings: list[Problem] = field(default_factory=list)
    """Duplicates and other things worth knowing that do not make a row invalid."""
    duplicate_of: dict[int, int] = field(default_factory=dict)
    """The line of each duplicate row → the first line of its address."""
    unreadable: list[Problem] = field(default_factory=list)
    """Rows that could not be read at all (these stop a send: one might be an unsubscribe)."""
    to_fix: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, email as written, problem) for every invalid or duplicate row: the check report."""
    longest: dict[str, list[Candidate]] = field(default_factory=dict)
    """Per column (``email``, ``first_name``, ``last_name`` and each merge field present),
    a heap of the :data:`LONGEST_KEPT` longest values on the first rows of addresses,
    the earlier line first among equals: where the longest value among the eligible
    usually is, so that ``newsletter check`` need not read the list again. Every first
    row left out is shorter than the shortest kept (or as long, on a later line); a
    finished scan leaves each heap sorted, so equal lists give equal tallies."""
    unproven: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    """With evidence required: the line of each subscribed address's first row that has no
    evidence of consent → (email as written, column, why); none when the list has no
    evidence column at all (every subscribed address lacks it: one finding says so)."""
    evidence: bool = False
    """Evidence of consent was required of this tally's rows."""


class SplitMidRecord(Exception):
    """A part of the list (see :mod:`newsletter.audience.halves`) ended inside a quoted cell."""


class Rows(Protocol):
    """What a scan reads: a csv reader, and how to word its errors (a :class:`ListReader`)."""

    @property
    def csv(self) -> Any: ...

    def csv_problem(self, message: str, lines: int = 1) -> str: ...

    def decode_error(self) -> Exception: ...


SMTPUTF8_WARNING = (
    "non-ASCII characters before the @: SendGrid does not deliver to such an address (a send "
    "marks it failed, with the reason); over SMTP it needs a server offering SMTPUTF8"
)


def duplicate_warning(file: str, line: int, first: int) -> Problem:
    return Problem(
        file, line, None, "email", f"same address as line {first} (case ignored); the strictest status of its rows counts"
    )


class Scanner:
    """Classifies rows into a :class:`Tally`. ``check_dns`` adds a DNS look-up per domain."""

    def __init__(
        self,
        file: str,
        header: Header,
        delimiter: str,
        *,
        check_dns: bool = False,
        kept: int = LONGEST_KEPT,
        evidence: bool = False,
    ) -> None:
        self.file = file
        self.kept = kept
        self.check_dns = check_dns
        self.delimiter = delimiter
        self.width = len(header.cells)
        self.email_at = header.roles["email"]
        self.status_at = header.roles.get("status")
        self.tags_at = header.roles.get("tags")
        self.tally = Tally(file)
        self._tagset_ids: dict[str, int] = {}
        columns = [("email", -1)]
        columns += [(name, header.roles[name]) for name in ("first_name", "last_name") if name in header.roles]
        columns += [(name, i) for i, name in header.merge_columns()]
        self._longest = [(at, self.tally.longest.setdefault(name, [])) for name, at in columns]
        self._names = [(name, header.roles[name]) for name in ("first_name", "last_name") if name in header.roles]
        self._consent = [
            (at, kind, header.names[at]) for at, kind in consent.columns(header.names, skip=set(header.roles.values())).read
        ]
        """Other tools' consent columns (``Subscribed?``, ``Opt-in``...): read beside ``status``."""
        self._unreadable_consent: tuple[str, str] | None = None
        self._evidence = Checker(columns_at(header.roles)) if evidence else None
        """With evidence of consent required: checks a subscribed address's first row."""
        self._evidence_rows = evidence and any(i is not None for i in columns_at(header.roles))
        self.tally.evidence = evidence

    def number_tags(self, texts: list[str]) -> None:
        """Number these tag cells' sets first, in this order (two scans of parts of one
        list that number them alike can be joined without renumbering every address)."""
        for text in texts:
            if text not in self._tagset_ids:
                self._tagset_ids[text] = len(self.tally.tagsets)
                self.tally.tagsets.append(parse_tags(text))

    def scan(self, reader: Rows, *, part: bool = False) -> Tally:
        """Read every row after the header into the tally (or, with ``part``, every row
        of a part of the list that must end between two rows: :class:`SplitMidRecord`
        if it does not)."""
        rows = reader.csv
        while True:
            previous = rows.line_num
            try:
                for cells in rows:
                    line = previous + 1
                    previous = rows.line_num
                    self._row(line, cells)
                self.tally.last_line = rows.line_num
                for heap in self.tally.longest.values():
                    heap.sort()  # still a heap; the same list however the rows came in
                return self.tally
            except csv.Error as exc:
                if part and str(exc) == "unexpected end of data":
                    raise SplitMidRecord from None
                self._unreadable(previous + 1, reader.csv_problem(str(exc), rows.line_num - previous))
            except UnicodeDecodeError:
                raise reader.decode_error() from None

    def _consented(self, rank: int, cells: list[str]) -> int | None:
        """The row's rank with its consent columns read too (None, and the value kept for
        the message, when one of them cannot be read); not confirmed is not mailed."""
        for at, kind, name in self._consent:
            found = consent.read_value(kind, cells[at])
            if found is None:
                self._unreadable_consent = (name, cells[at])
                return None
            rank = max(rank, consent.UNSUBSCRIBED if found == consent.PENDING else found)
        return rank

    def _unreadable(self, line: int, problem: str) -> None:
        tally = self.tally
        tally.rows += 1
        tally.invalid += 1
        tally.unreadable.append(Problem(self.file, line, None, "", problem))
        tally.to_fix.append((line, "", problem))

    def _row(self, line: int, cells: list[str]) -> None:
        tally = self.tally
        if len(cells) != self.width:
            if any(cells):
                self._unreadable(line, width_problem(len(cells), self.width, self.delimiter))
            return
        tally.rows += 1
        raw = cells[self.email_at]
        if raw[:1] == "'":
            raw = unneutralize(raw)
        status = cells[self.status_at] if self.status_at is not None else ""
        rank = RANK.get(status) if status else SUBSCRIBED
        if rank is None:
            rank = parse_status(status)
        unread = None
        if self._consent and rank is not None:
            rank = self._consented(rank, cells)
            if rank is None:
                unread = self._unreadable_consent
        # Most addresses take the fast path (validate.fast_path): no call into the library.
        normalized = fast_path(raw)
        if normalized is not None:
            key = normalized.casefold()
            address_problem = None
        else:
            checked = check_address(raw)
            if isinstance(checked, Address):
                key, normalized, address_problem = checked.key, checked.normalized, None
            else:
                if not raw.strip() and not any(cells):
                    tally.rows -= 1  # a row of empty cells: a blank line
                    return
                key, address_problem = "", checked
        if normalized is not None and self.check_dns:
            dns = domain_problem(ascii_domain(normalized))
            if dns is not None:
                address_problem = f"the domain cannot receive email: {dns}"
        if address_problem is None and rank is not None and self._names:
            for column, at in self._names:
                value = cells[at]
                if not value.isprintable() and (bad := _NAME_CONTROL.search(value)) is not None:
                    problem = f"control character U+{ord(bad.group()):04X} in the name"
                    tally.invalid += 1
                    tally.problems.append(
                        Problem(
                            self.file,
                            line,
                            None,
                            column,
                            f"{problem}; this address is not mailed until it is fixed",
                            "delete it: it would reach the message's To: header",
                        )
                    )
                    tally.to_fix.append((line, raw, f"{problem} ({column})"))
                    tally.holds.add(key)
                    return
        if address_problem is not None or rank is None:
            tally.invalid += 1
            if address_problem is not None:
                tally.problems.append(Problem(self.file, line, None, "email", f"{raw!r}: {address_problem}"))
                tally.to_fix.append((line, raw, address_problem))
                if rank != SUBSCRIBED:
                    tally.holds.update(hold_keys(raw))
            elif unread is not None:
                name, value = unread
                tally.problems.append(
                    Problem(
                        self.file,
                        line,
                        None,
                        name,
                        f"{value!r} does not say whether this person agreed; this address is not mailed until it is fixed",
                        "write yes or no (or subscribed, unsubscribed...), or import the file with --yes-means VALUE",
                    )
                )
                tally.holds.add(key)
                tally.to_fix.append((line, raw, f"{name}: {value!r} is not a yes or a no"))
            else:
                tally.problems.append(
                    Problem(
                        self.file,
                        line,
                        None,
                        "status",
                        f"unknown status {status!r}; this address is not mailed until it is fixed",
                        "use subscribed, unsubscribed, bounced or complained; empty means subscribed",
                    )
                )
                tally.holds.add(key)
                tally.to_fix.append((line, raw, f"unknown status {status!r}"))
            return
        state = tally.state
        seen = state.get(key)
        if seen is not None:
            tally.duplicates += 1
            first = (seen >> LINE_SHIFT) & LINE_MASK
            tally.warnings.append(duplicate_warning(self.file, line, first))
            tally.to_fix.append((line, raw, f"duplicate of line {first}"))
            tally.duplicate_of[line] = first
            if rank > seen & RANK_MASK:
                state[key] = (seen & ~RANK_MASK) | rank
            return
        tags = cells[self.tags_at] if self.tags_at is not None else ""
        tagset = self._tagset_ids.get(tags)
        if tagset is None:
            tagset = self._tagset_ids[tags] = len(tally.tagsets)
            tally.tagsets.append(parse_tags(tags))
        written = AS_WRITTEN if normalized == cells[self.email_at] else 0
        if self._evidence is not None and rank == SUBSCRIBED and (lacks := self._evidence(cells)) is not None:
            written |= UNPROVEN
            if self._evidence_rows:
                tally.unproven[line] = (raw, *lacks)
        state[key] = (tagset << TAGSET_SHIFT) | (line << LINE_SHIFT) | written | rank
        address = normalized or ""
        if not address.isascii() and not address.rpartition("@")[0].isascii():
            tally.warnings.append(
                Problem(
                    self.file,
                    line,
                    None,
                    "email",
                    f"{raw!r}: {SMTPUTF8_WARNING}",
                    "ask the reader for an address without accents before the @, or send by SMTP",
                )
            )
        kept = self.kept
        for at, heap in self._longest:
            value = address if at < 0 else cells[at]
            size = len(value) if value.isascii() else len(value.encode("utf-8"))
            if len(heap) < kept:
                heappush(heap, (size, -line, value))
            elif size > heap[0][0]:
                heapreplace(heap, (size, -line, value))
