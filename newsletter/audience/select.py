"""Who gets an issue: the one function that yields eligible subscribers, and the figures.

Eligible means: a valid address, first of its rows, whose strictest status is
``subscribed``, not held back by a broken row, and matching the issue's
``audience`` (at least one of ``tags`` when there are any, none of
``exclude_tags``; tags compare case-insensitively). Sending and previews use
:func:`eligible`; :func:`summarize` counts exactly the same people.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from newsletter.audience import tally as tallying
from newsletter.audience.csvfile import Header, ListReader, open_list, unneutralize
from newsletter.audience.scan import Tally, unpack
from newsletter.audience.validate import STATUSES, SUBSCRIBED, Address, check_address, fast_path, parse_tags
from newsletter.errors import InputError, Problem

if TYPE_CHECKING:
    from newsletter.issue.model import Audience


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One person to send to, as read from the list."""

    email: str
    """The normalised address, as it will be sent."""
    first_name: str
    """Trimmed, on one line (line breaks and tabs become spaces)."""
    last_name: str
    status: str
    """``subscribed`` | ``unsubscribed`` | ``bounced`` | ``complained``."""
    tags: tuple[str, ...]
    """Lower-case tags, in the order written."""
    fields: Mapping[str, str]
    """Every other named column (merge fields), including ``subscribed_at`` and ``source``."""
    line: int
    """The line of the list the subscriber is on."""


@dataclass(frozen=True, slots=True)
class AudienceSummary:
    """The list in figures. ``total`` rows = invalid + duplicates + one per address; every
    address is counted once under its strictest status; subscribed = eligible +
    excluded_by_tags + held."""

    list_file: str
    total: int
    subscribed: int
    unsubscribed: int
    bounced: int
    complained: int
    invalid: int
    duplicates: int
    eligible: int
    excluded_by_tags: int
    held: int
    by_tag: dict[str, int]
    """Subscribed addresses (not held) per tag."""
    problems: list[Problem] = field(default_factory=list)
    """One per invalid row."""
    warnings: list[Problem] = field(default_factory=list)
    """Header spacing, duplicates: worth fixing, harmless to a send."""
    to_fix: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, email as written, problem) for every invalid or duplicate row, by line."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [p.as_dict() for p in self.problems]
        data["warnings"] = [p.as_dict() for p in self.warnings]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudienceSummary:
        values = dict(data)
        values["problems"] = [Problem(**p) for p in data["problems"]]
        values["warnings"] = [Problem(**p) for p in data["warnings"]]
        values["to_fix"] = [tuple(row) for row in data["to_fix"]]
        return cls(**values)


class _Matcher:
    def __init__(self, audience: Audience | None) -> None:
        self.include = frozenset(t.strip().lower() for t in audience.tags) if audience else frozenset()
        self.exclude = frozenset(t.strip().lower() for t in audience.exclude_tags) if audience else frozenset()

    def __call__(self, tags: tuple[str, ...]) -> bool:
        if self.include and self.include.isdisjoint(tags):
            return False
        return self.exclude.isdisjoint(tags)


def _count(tally: Tally, header_warnings: list[Problem], audience: Audience | None) -> tuple[AudienceSummary, bytearray]:
    """Figures of a finished tally, and the eligible lines as a bitmap."""
    matches = _Matcher(audience)
    by_status = [0] * len(STATUSES)
    subscribed_tagsets: Counter[int] = Counter()
    held = 0
    bitmap = bytearray((tally.last_line >> 3) + 1)
    count = 0
    holds = tally.holds
    wanted = [matches(tags) for tags in tally.tagsets]
    for key, value in tally.state.items():
        rank, line, tagset = unpack(value)
        by_status[rank] += 1
        if rank == SUBSCRIBED:
            if key in holds:
                held += 1
            else:
                subscribed_tagsets[tagset] += 1
                if wanted[tagset]:
                    bitmap[line >> 3] |= 1 << (line & 7)
                    count += 1
    by_tag: Counter[str] = Counter()
    for tagset, n in subscribed_tagsets.items():
        for tag in tally.tagsets[tagset]:
            by_tag[tag] += n
    subscribed = by_status[SUBSCRIBED]
    summary = AudienceSummary(
        list_file=tally.file,
        total=tally.rows,
        subscribed=subscribed,
        bounced=by_status[1],
        unsubscribed=by_status[2],
        complained=by_status[3],
        invalid=tally.invalid,
        duplicates=tally.duplicates,
        eligible=count,
        excluded_by_tags=subscribed - held - count,
        held=held,
        by_tag=dict(sorted(by_tag.items(), key=lambda kv: (-kv[1], kv[0]))),
        problems=sorted(tally.unreadable + tally.problems, key=lambda p: p.line or 0),
        warnings=header_warnings + tally.warnings,
        to_fix=sorted(tally.to_fix),
    )
    return summary, bitmap


def summarize(list_path: Path, audience: Audience | None = None, *, check_dns: bool = False) -> AudienceSummary:
    """The list in figures for an audience (all subscribers when None), with every problem."""
    return _figures(list_path, audience, check_dns)[0]


def _figures(
    list_path: Path, audience: Audience | None, check_dns: bool
) -> tuple[AudienceSummary, bytearray, tallying.Fingerprint]:
    fp = tallying.fingerprint(list_path)
    if not check_dns:
        hit = tallying.cached(list_path, audience, fp)
        if hit is not None:
            return (*hit, fp)
    tally, header_warnings = tallying.tally(list_path, check_dns=check_dns)
    summary, bitmap = _count(tally, header_warnings, audience)
    if not check_dns:
        tallying.store(list_path, audience, fp, summary, bitmap)
    return summary, bitmap, fp


def eligible(list_path: Path, audience: Audience | None = None, *, check_dns: bool = False) -> Iterator[Subscriber]:
    """Yield the subscribers an issue goes to, in list order, each address once.

    The whole list is checked before the first subscriber is yielded: if any row
    cannot be read (it might be an unsubscribe), :class:`InputError` is raised and
    nobody is yielded.
    """
    summary, bitmap, fp = _sendable(list_path, audience, check_dns)
    return _yield(list_path, bitmap, fp)


def _sendable(
    list_path: Path, audience: Audience | None, check_dns: bool
) -> tuple[AudienceSummary, bytearray, tallying.Fingerprint]:
    """The figures of a list that may be sent to: none of its rows is unreadable."""
    summary, bitmap, fp = _figures(list_path, audience, check_dns)
    unreadable = [p for p in summary.problems if p.field == ""]
    if unreadable:
        raise InputError(
            unreadable,
            summary=f"{summary.list_file}: {len(unreadable)} row(s) cannot be read; fix them before sending"
            " (one might be an unsubscribe)",
        )
    return summary, bitmap, fp


@dataclass(frozen=True, slots=True)
class Longest:
    """The longest value of each column among the eligible subscribers (in UTF-8 bytes,
    each value as :class:`Subscriber` gives it: the address normalised, names on one
    line), and how many eligible subscribers there are."""

    values: dict[str, str]
    """``email``, ``first_name``, ``last_name`` and every other named column present."""
    eligible: int


def longest_values(list_path: Path, audience: Audience | None = None) -> Longest:
    """What :func:`eligible` would yield, reduced to the longest value per column.

    The same people, read without building a :class:`Subscriber` each: only the
    cells that could be longer than the longest so far are normalised and measured
    (a character is at most 4 bytes), so a million-row list takes about as long as
    the csv module needs to read it.
    """
    _, bitmap, fp = _sendable(list_path, audience, False)
    best: dict[str, str] = {}
    sizes: dict[str, int] = {}
    count = 0
    with _reopen(list_path, fp) as reader:
        roles = reader.header.roles
        columns: list[tuple[str, int, Callable[[str], str]]] = [("email", roles["email"], _address)]
        columns += [(name, roles[name], _name_cell) for name in ("first_name", "last_name") if name in roles]
        columns += [(name, i, _plain_cell) for i, name in _other_columns(reader.header)]
        for name, _, _ in columns:
            sizes[name] = -1
        for _, cells in _eligible_lines(reader, bitmap):
            count += 1
            for name, at, clean in columns:
                raw = cells[at]
                if len(raw) * 4 <= sizes[name]:
                    continue
                value = clean(raw)
                size = len(value.encode("utf-8"))
                if size > sizes[name]:
                    best[name], sizes[name] = value, size
    return Longest(best, count)


def _address(raw: str) -> str:
    raw = unneutralize(raw)
    email = fast_path(raw)
    if email is not None:
        return email
    address = check_address(raw)
    return address.normalized if isinstance(address, Address) else raw.strip()


def _name_cell(value: str) -> str:
    return _name(unneutralize(value) if value[:1] == "'" else value)


def _plain_cell(value: str) -> str:
    return unneutralize(value) if value[:1] == "'" else value


@contextmanager
def _reopen(list_path: Path, fp: tallying.Fingerprint) -> Iterator[ListReader]:
    """The list opened again for a second read, refused if it is not the one tallied."""
    with open_list(list_path) as reader:
        if tallying.Identity.of(list_path) != fp.identity:
            raise InputError(Problem(reader.shown, None, None, "", "the list changed while it was read; run again"))
        yield reader


def _eligible_lines(reader: ListReader, bitmap: bytearray) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each row whose line is set in ``bitmap``."""
    limit = len(bitmap) << 3
    rows = reader.csv
    previous = rows.line_num
    for cells in rows:
        line = previous + 1
        previous = rows.line_num
        if line < limit and bitmap[line >> 3] & (1 << (line & 7)):
            yield line, cells


def _other_columns(header: Header) -> list[tuple[int, str]]:
    """(index, name) of every named column without a role: the merge fields."""
    known = set(header.roles.values())
    return [(i, name) for i, name in enumerate(header.names) if i not in known and name]


def _yield(list_path: Path, bitmap: bytearray, fp: tallying.Fingerprint) -> Iterator[Subscriber]:
    with _reopen(list_path, fp) as reader:
        roles = reader.header.roles
        email_at = roles["email"]
        first_at = roles.get("first_name")
        last_at = roles.get("last_name")
        tags_at = roles.get("tags")
        other = _other_columns(reader.header)
        proxy = MappingProxyType
        tagsets: dict[str, tuple[str, ...]] = {}
        for line, cells in _eligible_lines(reader, bitmap):
            raw = unneutralize(cells[email_at])
            email = fast_path(raw)
            if email is None:
                address = check_address(raw)
                if not isinstance(address, Address):
                    raise InputError(Problem(reader.shown, line, None, "email", "the list changed while it was read; run again"))
                email = address.normalized
            tags = cells[tags_at] if tags_at is not None else ""
            tagset = tagsets.get(tags)
            if tagset is None:
                tagset = tagsets[tags] = parse_tags(tags)
            yield Subscriber(
                email,
                _name(_cell(cells, first_at)),
                _name(_cell(cells, last_at)),
                "subscribed",
                tagset,
                proxy({name: _cell(cells, i) for i, name in other}),
                line,
            )


def _name(value: str) -> str:
    """A name on one line: no line break or tab can reach a message header."""
    if "\n" in value or "\r" in value or "\t" in value:
        return " ".join(value.split())
    return value.strip()


def _cell(cells: list[str], at: int | None) -> str:
    if at is None:
        return ""
    value = cells[at]
    return unneutralize(value) if value[:1] == "'" else value
