"""The list as a file: streaming reads; spreadsheet-safe cells.

Reading accepts UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8"),
sniffs the delimiter among ``,`` ``;`` and tab, applies strict quoting, warns about
stray spaces in the header and reports every problem as ``file:LINE: message``.
Rows are streamed, so a list of a million rows is read in bounded memory.

Cells that a spreadsheet would run as a formula (starting with ``=`` ``+`` ``-``
``@`` tab or CR) are written with a leading apostrophe (:func:`neutralize`, used by
:mod:`newsletter.audience.atomic`), which the reader removes again
(:func:`unneutralize`), so values survive the round trip.
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from newsletter.errors import InputError, Problem, display_path

DELIMITERS = ",;\t"
SAMPLE_CHARS = 64 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Column names recognised case-insensitively, spaces, hyphens and underscores ignored.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail"),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
    "status": ("status",),
    "tags": ("tags", "tag"),
    # evidence of consent (newsletter.audience.evidence) and who agreed to tracking
    "consent_source": ("consentsource",),
    "consent_at": ("consentat",),
    "consent_wording": ("consentwording",),
    "tracking_consent": ("trackingconsent",),
}
_ALIAS = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
_SQUASH = re.compile(r"[\s_\-]+")


Recognise = Callable[[str], "str | None"]


def column_role(header_cell: str) -> str | None:
    """The known column a header cell names (``email``, ``first_name``, ...), if any."""
    return _ALIAS.get(_SQUASH.sub("", header_cell).lower())


_NEEDS_LOOK = frozenset([*FORMULA_START, "'"])


def neutralize(cell: str) -> str:
    """Make a cell safe to open in a spreadsheet; :func:`unneutralize` undoes it exactly.

    A cell a spreadsheet would run as a formula gets a leading apostrophe; so does a
    cell that already starts with apostrophes followed by such a character, which
    keeps the two functions exact inverses.
    """
    if cell[:1] in _NEEDS_LOOK and cell.lstrip("'").startswith(FORMULA_START):
        return "'" + cell
    return cell


def unneutralize(cell: str) -> str:
    if cell[:1] == "'" and cell.lstrip("'").startswith(FORMULA_START):
        return cell[1:]
    return cell


@dataclass(frozen=True, slots=True)
class Dialect:
    delimiter: str = ","
    bom: bool = False
    lineterminator: str = "\n"


@dataclass(slots=True)
class Header:
    """The first line: the cells as written, and where the known columns are."""

    cells: list[str]
    names: list[str]
    """Each cell without surrounding spaces: the merge-field name of an unknown column."""
    roles: dict[str, int]
    """Known column → its index (``email`` is always there)."""
    warnings: list[Problem] = field(default_factory=list)

    def merge_columns(self) -> list[tuple[int, str]]:
        """(index, name) of every named column without a role: the merge fields."""
        known = set(self.roles.values())
        return [(i, name) for i, name in enumerate(self.names) if i not in known and name]


class Record(NamedTuple):
    line: int
    cells: list[str]
    problem: str | None = None
    """Set when the row cannot be read as the header says (bad quoting, wrong field count)."""


def input_error(path: Path, line: int | None, message: str, hint: str = "") -> InputError:
    return InputError(Problem(display_path(path), line, None, "", message, hint))


def _open_text(path: Path) -> IO[str]:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise input_error(path, None, "no such file", "give the list with --list PATH") from None
    except IsADirectoryError:
        raise input_error(path, None, "is a folder, not a CSV file") from None
    except OSError as exc:
        raise input_error(path, None, f"cannot read: {exc.strerror}") from None


def _decode_error(path: Path) -> InputError:
    """Find the first line that is not UTF-8, for the message."""
    line = 1
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start]
                return input_error(
                    path,
                    line,
                    f"not UTF-8 text (byte 0x{byte:02x} at column {exc.start + 1})",
                    "save the file as 'CSV UTF-8' in Excel, or choose UTF-8 when exporting",
                )
            line += 1
    return input_error(path, None, "not UTF-8 text")


def _sniff(path: Path, sample: str, recognise: Recognise) -> Dialect:
    """Choose the delimiter: the one that makes an email column in the header, else csv.Sniffer's."""
    if "\r" in sample and "\n" not in sample.rstrip("\r"):
        raise input_error(
            path, 1, "lines end with CR only (old Mac format)", "save the file as CSV with Windows or Unix line endings"
        )
    first_line = sample.split("\n", 1)[0]

    def header_cells(delimiter: str) -> list[str]:
        try:
            return next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            return []

    candidates = [d for d in DELIMITERS if any(recognise(c) == "email" for c in header_cells(d))]
    if not candidates:
        raise input_error(
            path,
            1,
            "no email column in the header",
            "the first line must name the columns, one of them 'email', separated by commas, semicolons or tabs",
        )
    delimiter = candidates[0]
    if len(candidates) > 1:
        complete = sample[: sample.rfind("\n") + 1] or sample
        try:
            sniffed = csv.Sniffer().sniff(complete, delimiters=DELIMITERS).delimiter
        except csv.Error:
            sniffed = ","
        if sniffed in candidates:
            delimiter = sniffed
    terminator = "\r\n" if first_line.endswith("\r") else "\n"
    return Dialect(delimiter=delimiter, lineterminator=terminator)


def _header(path: Path, cells: list[str], recognise: Recognise) -> Header:
    shown = display_path(path)
    names = [c.strip() for c in cells]
    roles: dict[str, int] = {}
    warnings: list[Problem] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, (cell, name) in enumerate(zip(cells, names, strict=True)):
        column = i + 1
        if cell != name:
            warnings.append(Problem(shown, 1, column, name, f"header {cell!r} has spaces around it; read as {name!r}"))
        if not name:
            warnings.append(Problem(shown, 1, column, "", f"column {column} has no name; its values are kept but not used"))
            continue
        if name.lower() in seen:
            problems.append(
                Problem(shown, 1, column, name, f"column {name!r} appears twice (columns {seen[name.lower()]} and {column})")
            )
        seen[name.lower()] = column
        role = recognise(name)
        if role is not None:
            if role in roles:
                other = names[roles[role]]
                problems.append(
                    Problem(shown, 1, column, name, f"{name!r} and {other!r} both name the {role} column", "keep one")
                )
            else:
                roles[role] = i
    if problems:
        raise InputError(problems)
    return Header(cells, names, roles, warnings)


class ListReader:
    """An open list: its dialect and header, and its rows as a stream of :class:`Record`."""

    def __init__(self, path: Path, recognise: Recognise = column_role) -> None:
        self.path = path
        self.shown = display_path(path)
        self._fh = _open_text(path)
        try:
            sample = self._fh.read(SAMPLE_CHARS)
            if not sample.strip():
                raise input_error(path, 1, "the file is empty", "the first line must name the columns, e.g. email,first_name")
            self._fh.seek(0)
            with open(path, "rb") as raw:
                bom = raw.read(3) == b"\xef\xbb\xbf"
            d = _sniff(path, sample, recognise)
            self.dialect = Dialect(d.delimiter, bom, d.lineterminator)
            self._reader = csv_reader(self._fh, d.delimiter)
            self.header = _header(path, self._next_header(), recognise)
        except UnicodeDecodeError:
            self._fh.close()
            raise _decode_error(path) from None
        except BaseException:
            self._fh.close()
            raise

    def _next_header(self) -> list[str]:
        try:
            return next(self._reader)
        except csv.Error as exc:
            raise input_error(self.path, 1, f"the header is not valid CSV: {exc}") from None

    def __enter__(self) -> ListReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._fh.close()

    @property
    def csv(self) -> Any:
        """The csv reader, positioned after the header (for the tight loop of a full scan)."""
        return self._reader

    def up_to(self, lines: int) -> Any:
        """A csv reader of the rows after the header that lie within the first ``lines``
        lines, counting lines as the csv reader does (its ``line_num`` goes on from the
        header's). Rows read from it are no longer in :attr:`csv`."""
        done = self._reader.line_num
        return _numbered(
            csv_reader(
                itertools.chain(itertools.repeat("\n", done), itertools.islice(self._fh, max(0, lines - done))),
                self.dialect.delimiter,
            ),
            done,
        )

    def csv_problem(self, message: str, lines: int = 1) -> str:
        return _csv_problem(message, lines)

    def decode_error(self) -> InputError:
        return _decode_error(self.path)

    def records(self) -> Iterator[Record]:
        """Every non-blank row after the header, with the line it starts on."""
        try:
            yield from records(self._reader, len(self.header.cells), self.dialect.delimiter)
        except UnicodeDecodeError:
            raise _decode_error(self.path) from None


def records(reader: Any, width: int, delimiter: str) -> Iterator[Record]:
    """Every non-blank row a csv reader gives, with the line it starts on; a row that
    cannot be read as ``width`` cells comes with its problem, and reading goes on."""
    previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(previous + 1, [], _csv_problem(str(exc), reader.line_num - previous))
            previous = reader.line_num
            continue
        line = previous + 1
        previous = reader.line_num
        if len(cells) != width:
            if not any(cells):
                continue
            yield Record(line, cells, width_problem(len(cells), width, delimiter))
            continue
        yield Record(line, cells)


def csv_reader(lines: Iterable[str], delimiter: str) -> Any:
    """A csv reader of these lines as every list is read (strict quoting)."""
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)


def _numbered(rows: Any, skip: int) -> Any:
    """``rows`` after ``skip`` blank lines put in front so that its ``line_num`` goes on
    from another reader's (a blank line is an empty row)."""
    collections.deque(itertools.islice(rows, skip), maxlen=0)
    return rows


@contextmanager
def rows_from(path: Path, offset: int, line: int, delimiter: str) -> Iterator[Any]:
    """A csv reader of the list from byte ``offset`` (the start of line ``line + 1``, and
    between two rows), its ``line_num`` counting from ``line`` as a reader of the whole
    file would."""
    with open(path, "rb") as raw:
        raw.seek(offset)
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield _numbered(csv_reader(itertools.chain(itertools.repeat("\n", line), text), delimiter), line)
        text.detach()


def _csv_problem(message: str, lines: int = 1) -> str:
    """The csv module's ``message`` about a record that took ``lines`` lines, in plain words."""
    if "field larger than field limit" in message:
        limit = f"{csv.field_size_limit():,}"
        if lines > 1:  # the value ran on over the following rows: a quote never closed
            return (
                f"a quoted value starting on this line runs on over {lines - 1:,} more lines, past the "
                f"limit of {limit} characters: its closing quote is probably missing"
            )
        return (
            f"a value on this line is longer than the limit of {limit} characters; "
            "shorten it (no subscriber field needs that much)"
        )
    if "new-line character seen in unquoted field" in message:
        return "a line ends with a lone CR (old Mac line endings); save the file with Windows or Unix line endings"
    if "unexpected end of data" in message:
        return "a quoted value is not closed before the end of the file"
    return f"not valid CSV: {message} (a quote inside a value must be doubled, and the value quoted)"


def width_problem(got: int, want: int, delimiter: str) -> str:
    shown = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    return f"row has {got} fields but the header has {want} (a {shown} inside a value needs quotes around the value)"


def open_list(path: Path, recognise: Recognise = column_role) -> ListReader:
    return ListReader(path, recognise)
