"""Tally a big list on two cores: this process reads the first part, a child the rest.

A tally is one pass over every row (:mod:`newsletter.audience.scan`), on one core
while the other waits. Here the list is cut at a line
break near its middle, found in the bytes; a child process (``python -m
newsletter.audience.halves``) scans the second part while this one scans the first,
then the two tallies are joined into exactly the tally one pass would have made:

* An address whose first row is in the second part but which also has a row in the
  first becomes what one pass would have found: a duplicate of the earlier line, its
  strictest status counting, its later duplicates pointing at that line too. Its
  address cell as written is read again from the list (the child keeps only what a
  tally keeps).
* The child keeps many more of each column's longest values (:data:`CHILD_KEPT`), so
  that those the join drops (rows that turn out to be duplicates) can be stood in
  for; when that is not enough to be sure, this process scans the second part itself,
  going on from where it stopped, as one pass would.

One pass is used instead when the list is small (a child costs more than it saves),
when the machine has one core, when the first 64 KB hold a quoted line break (the cut
could fall inside a cell), or a lone carriage return (the csv reader ends a line
there, and the count of lines before the cut would not). A cut that still falls inside a quoted cell is found when the
first part ends there (the strict csv reader says so), and the list is then read in
one pass. A child that fails, or finds the list changed, is not waited for twice:
this process reads the second part itself.

Speed code: tallies a big list on two cores. Plain twin: one pass of
:mod:`newsletter.audience.scan`; held equal by
``tests/test_subscribers_halves.py::test_two_parts_joined_are_the_tally_of_one_pass`` and
``test_two_parts_joined_hold_back_who_one_pass_holds_back``. Figures: docs/performance.md (``bench/``).
"""

from __future__ import annotations

import csv
import io
import marshal
import os
import pickle
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.audience.csvfile import ListReader, csv_reader, open_list, records, rows_from, unneutralize
from newsletter.audience.scan import (
    LINE_MASK,
    LINE_SHIFT,
    LONGEST_KEPT,
    RANK_MASK,
    TAGSET_SHIFT,
    Scanner,
    SplitMidRecord,
    Tally,
    duplicate_warning,
)
from newsletter.errors import Problem
from newsletter.nogc import no_cycle_collection

PARALLEL_FROM = 16 << 20
"""Lists smaller than this many bytes are tallied in one pass."""
CHILD_SHARE = 0.46
"""The share of the bytes the child reads: a little less than half, as it starts later
and must hand its tally over."""
CHILD_KEPT = 1024
"""How many of each column's longest values the child keeps (a tally keeps
:data:`LONGEST_KEPT`): enough to stand in for those the join drops."""
SAMPLE = 64 * 1024
_DECODE_ERROR = 4
_CHANGED = 3


@dataclass(frozen=True, slots=True)
class Cut:
    offset: int
    """The byte where the second part starts (just after a line feed)."""
    lines: int
    """How many lines come before it."""


def tally(
    path: Path, *, smallest: int = PARALLEL_FROM, at: float | None = None, evidence: bool = False
) -> tuple[Tally, list[Problem]] | None:
    """The tally of the list (as :func:`newsletter.audience.tally.tally` would make it in
    one pass, ``evidence`` of consent required or not) and the header's warnings; None
    when one pass is the better way (see :func:`plan` for ``smallest`` and ``at``)."""
    try:
        if os.stat(path).st_size < smallest:
            return None  # without opening the list twice: one pass opens it next
    except OSError:
        return None  # one pass says why the list cannot be read
    with open_list(path) as reader, no_cycle_collection():
        cut = plan(path, reader, at=at, smallest=smallest)
        if cut is None:
            return None
        identity = os.stat(path)
        try:
            child = _Child(
                path, cut, reader.dialect.delimiter, (identity.st_size, identity.st_mtime_ns, identity.st_ino), evidence
            )
        except OSError:  # no temporary folder to write to, or no process to be had
            return None
        try:
            scanner = _scanner(path, reader, evidence=evidence)
            began = time.monotonic()
            try:
                scanner.scan(_Source(reader.up_to(cut.lines), reader), part=True)
            except SplitMidRecord:
                return None
            second = child.result(reader, time.monotonic() - began)
            if second is None or not join(scanner.tally, second, lambda lines: _cells_as_written(path, cut, reader, lines)):
                with rows_from(path, cut.offset, cut.lines, reader.dialect.delimiter) as rows:
                    scanner.scan(_Source(rows, reader))
            return scanner.tally, reader.header.warnings
        finally:
            child.stop()


@dataclass(slots=True)
class Part(Tally):
    """The child's tally, its addresses handed over as two flat sequences (the keys, and
    their ``Tally.state`` values in a 64-bit array) instead of a dict: the parent adds
    them to its own without holding a second dict."""

    addresses: tuple[list[str], array[int]] = field(default_factory=lambda: ([], array("q")))

    @classmethod
    def of(cls, tally: Tally) -> Part:
        fields = {name: getattr(tally, name) for name in Tally.__slots__ if name != "state"}
        state = tally.state
        tally.state = {}
        part = cls(**fields)
        part.addresses = (list(state), array("q", state.values()))
        return part


class _Source:
    """What a scan of a part of the list reads: its csv reader, and the list's wording of errors."""

    def __init__(self, rows: Any, reader: ListReader) -> None:
        self.csv = rows
        self._reader = reader

    def csv_problem(self, message: str, lines: int = 1) -> str:
        return self._reader.csv_problem(message, lines)

    def decode_error(self) -> Exception:
        return self._reader.decode_error()


class _Undecodable(Exception):
    """The child's part of the list is not UTF-8."""


class _ChildSource(_Source):
    def decode_error(self) -> Exception:
        return _Undecodable()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan(path: Path, reader: ListReader, *, at: float | None = None, smallest: int = PARALLEL_FROM) -> Cut | None:
    """Where to cut the list (at the first line feed after the share ``at`` of its bytes),
    or None when it should be read in one pass."""
    size = os.stat(path).st_size
    if size < smallest or _cores() < 2 or _sample_rows(path, reader.dialect.delimiter) is None:
        return None
    with open(path, "rb") as fh:
        target = int(size * (1 - CHILD_SHARE if at is None else at))
        fh.seek(target)
        ahead = fh.read(1 << 20)
        found = ahead.find(b"\n")
        if found < 0 or target + found + 1 >= size:
            return None
        offset = target + found + 1
        fh.seek(0)
        lines = _count_lines(fh, offset)
    if lines is None or lines <= reader.csv.line_num:
        return None
    return Cut(offset, lines)


def _sample_rows(path: Path, delimiter: str) -> list[list[str]] | None:
    """The rows of the list's first 64 KB (whole lines), or None unless each is one line
    ending in a line feed (no quoted line break, no lone carriage return)."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE)
    whole = sample[: sample.rfind(b"\n") + 1]
    if not whole or b"\r" in whole.replace(b"\r\n", b""):
        return None
    try:
        text = whole.decode("utf-8-sig")
        reader = csv_reader(io.StringIO(text, newline=""), delimiter)
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows if len(rows) == reader.line_num == text.count("\n") else None


def _scanner(path: Path, reader: ListReader, kept: int = LONGEST_KEPT, *, evidence: bool = False) -> Scanner:
    """A scanner for a part of the list, numbering the tag sets of the first 64 KB first:
    both parts' scanners number them alike, so the join seldom renumbers any."""
    scanner = Scanner(reader.shown, reader.header, reader.dialect.delimiter, kept=kept, evidence=evidence)
    at = reader.header.roles.get("tags")
    rows = _sample_rows(path, reader.dialect.delimiter) if at is not None else None
    if at is not None and rows:
        width = len(reader.header.cells)
        scanner.number_tags([row[at] for row in rows[1:] if len(row) == width])
    return scanner


def _count_lines(fh: io.BufferedReader, end: int) -> int | None:
    """Line feeds in the first ``end`` bytes; None if a carriage return stands alone
    (the csv reader counts it as a line too)."""
    lines = 0
    done = 0
    while done < end:
        chunk = fh.read(min(1 << 20, end - done))
        if not chunk:
            return None
        done += len(chunk)
        lines += chunk.count(b"\n")
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk += fh.read(1)
                done += 1
                lines += chunk.endswith(b"\n")
            if chunk.count(b"\r") != chunk.count(b"\r\n"):
                return None
    return lines


# ---------------------------------------------------------------- the child


class _Child:
    """The process that scans the second part. It writes its tally to an unnamed temporary
    file (readable by this user only, gone when closed) and exits, so that its memory is
    given back before this process loads the tally: the two together stay near what one
    pass takes."""

    def __init__(self, path: Path, cut: Cut, delimiter: str, identity: tuple[int, int, int], evidence: bool = False) -> None:
        args = [str(path), str(cut.offset), str(cut.lines), delimiter, *map(str, identity), str(int(evidence))]
        self._out = tempfile.TemporaryFile()
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "newsletter.audience.halves", *args],
                stdin=subprocess.DEVNULL,
                stdout=self._out,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except BaseException:
            self._out.close()
            raise

    def result(self, reader: ListReader, waited: float) -> Part | None:
        """The child's tally; None if it failed, found the list changed, or took far longer
        than the ``waited`` seconds this process took over its own part."""
        proc = self._proc
        assert proc is not None
        try:
            code = proc.wait(timeout=30 + 4 * waited)
        except subprocess.TimeoutExpired:
            return None  # stop() ends it
        self._proc = None
        if code == _DECODE_ERROR:
            raise reader.decode_error()
        if code != 0:
            return None
        try:
            self._out.seek(0)
            second = pickle.load(self._out)
            keys, values = marshal.load(self._out)
        except Exception:  # noqa: BLE001 - a child that wrote something else: read the part here
            return None
        if not isinstance(second, Part) or not isinstance(keys, list) or not isinstance(values, bytes):
            return None
        second.addresses = (keys, array("q", values))
        return second

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        self._out.close()


def _scan_part(
    path: Path,
    offset: int,
    lines: int,
    delimiter: str,
    identity: tuple[int, int, int],
    kept: int = CHILD_KEPT,
    *,
    evidence: bool = False,
) -> Part | None:
    """The child's work: the tally of the list from ``offset``, or None if the list is not
    the one the parent is reading."""
    with open_list(path) as reader, no_cycle_collection():
        st = os.stat(path)
        if (st.st_size, st.st_mtime_ns, st.st_ino) != identity or reader.dialect.delimiter != delimiter:
            return None
        scanner = _scanner(path, reader, kept, evidence=evidence)
        with rows_from(path, offset, lines, delimiter) as rows:
            return Part.of(scanner.scan(_ChildSource(rows, reader)))


def main(argv: list[str]) -> int:
    path, offset, lines, delimiter, size, mtime, inode, evidence = argv
    try:
        found = _scan_part(
            Path(path), int(offset), int(lines), delimiter, (int(size), int(mtime), int(inode)), evidence=evidence == "1"
        )
    except _Undecodable:
        return _DECODE_ERROR
    except Exception:  # noqa: BLE001 - the parent reads the part itself
        return 1
    if found is None:
        return _CHANGED
    keys, values = found.addresses
    found.addresses = ([], array("q"))
    pickle.dump(found, sys.stdout.buffer, protocol=5)
    # marshal: a tenth of pickle's time for a list of strings; read back from the file as it goes
    marshal.dump((keys, values.tobytes()), sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0


# ---------------------------------------------------------------- the join


def _line(value: int) -> int:
    return (value >> LINE_SHIFT) & LINE_MASK


def join(
    first: Tally,
    second: Part,
    cells_as_written: Callable[[list[int]], dict[int, str]],
    *,
    kept: int = LONGEST_KEPT,
    second_kept: int = CHILD_KEPT,
) -> bool:
    """Add the tally of the rows after ``first``'s to it, making what one pass over both
    would have made; False (``first`` unchanged) when the longest values cannot be known
    for sure: then the second part must be scanned again after the first.

    ``cells_as_written(lines)`` gives the address cell of each of those lines as a scan
    reads it (the duplicates this join finds are reported with it).
    """
    keys, values = second.addresses
    index = first.state
    # Addresses whose first row in the second part is a duplicate of one in the first.
    shared = [i for i, key in enumerate(keys) if key in index]
    moved = {_line(values[i]): _line(index[keys[i]]) for i in shared}
    longest = _join_longest(first.longest, second.longest, moved.keys(), kept=kept, second_kept=second_kept)
    if longest is None:
        return False
    raw = cells_as_written(sorted(moved)) if moved else {}
    if len(raw) != len(moved):
        return False

    # Tag sets: the second part's numbers become the first's.
    number = {tags: i for i, tags in reversed(list(enumerate(first.tagsets)))}
    remap = []
    for tags in second.tagsets:
        if tags not in number:
            number[tags] = len(first.tagsets)
            first.tagsets.append(tags)
        remap.append(number[tags])
    kept_first = {}  # an address in both parts keeps its first line, with the strictest status
    for i in shared:
        had, more = index[keys[i]], values[i]
        kept_first[keys[i]] = (had & ~RANK_MASK) | max(had & RANK_MASK, more & RANK_MASK)
    if any(i != n for i, n in enumerate(remap)):
        low = (1 << TAGSET_SHIFT) - 1
        values = array("q", [(remap[value >> TAGSET_SHIFT] << TAGSET_SHIFT) | (value & low) for value in values])
    index.update(zip(keys, values))  # in line order, as one pass adds them; no second dict held
    index.update(kept_first)

    # Warnings and the rows to fix: one per line, in line order, as one pass gives them.
    file = first.file
    duplicate_of = {line: moved.get(earlier, earlier) for line, earlier in second.duplicate_of.items()}
    duplicate_of.update(moved)
    warnings = [w for w in second.warnings if w.line not in moved]
    warnings = [
        duplicate_warning(file, w.line, duplicate_of[w.line])
        if w.line in second.duplicate_of and second.duplicate_of[w.line] in moved
        else w
        for w in warnings
    ]
    warnings += [duplicate_warning(file, line, earlier) for line, earlier in moved.items()]
    warnings.sort(key=lambda w: w.line or 0)
    to_fix = [
        (line, cell, f"duplicate of line {duplicate_of[line]}")
        if line in second.duplicate_of and second.duplicate_of[line] in moved
        else (line, cell, problem)
        for line, cell, problem in second.to_fix
    ]
    to_fix += [(line, raw[line], f"duplicate of line {earlier}") for line, earlier in moved.items()]
    to_fix.sort()

    first.rows += second.rows
    first.invalid += second.invalid
    first.duplicates += second.duplicates + len(moved)
    first.last_line = second.last_line
    first.holds |= second.holds
    first.problems += second.problems
    first.warnings += warnings
    first.unreadable += second.unreadable
    first.to_fix += to_fix
    first.duplicate_of.update(duplicate_of)
    first.unproven.update({line: lacks for line, lacks in second.unproven.items() if line not in moved})
    first.longest = longest
    return True


def _join_longest(
    first: dict[str, list[Any]], second: dict[str, list[Any]], dropped: Any, *, kept: int, second_kept: int
) -> dict[str, list[Any]] | None:
    """Each column's ``kept`` longest first-row values over both parts, less the second
    part's rows in ``dropped``; None when a value neither part kept could belong among
    them (a full heap says only that every first row it left out is no longer than its
    shortest value, or as long and on a later line)."""
    joined: dict[str, list[Any]] = {}
    for name, mine in first.items():
        theirs = second.get(name, [])
        bounds = [min(heap) for heap, size in ((mine, kept), (theirs, second_kept)) if len(heap) >= size]
        both = sorted(mine + [c for c in theirs if -c[1] not in dropped])[-kept:]
        if bounds and (len(both) < kept or both[0] < max(bounds)):
            return None
        joined[name] = both
    return joined


def _cells_as_written(path: Path, cut: Cut, reader: ListReader, lines: list[int]) -> dict[int, str]:
    """The address cell of each of these lines of the second part, as a scan reads it."""
    wanted = set(lines)
    found: dict[int, str] = {}
    at = reader.header.roles["email"]
    with rows_from(path, cut.offset, cut.lines, reader.dialect.delimiter) as rows:
        for line, cells, problem in records(rows, len(reader.header.cells), reader.dialect.delimiter):
            if line in wanted and problem is None:
                cell = cells[at]
                found[line] = unneutralize(cell) if cell[:1] == "'" else cell
                if len(found) == len(wanted):
                    break
    return found


if __name__ == "__main__":
    # the module under its own name, so that the parent unpickles the classes it knows
    from newsletter.audience.halves import main as _main

    sys.exit(_main(sys.argv[1:]))
