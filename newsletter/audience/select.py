"""Who gets an issue: the one function that yields eligible subscribers, and the figures.

Eligible means: a valid address, first of its rows, whose strictest status is
``subscribed``, not held back by a broken row, and matching the issue's
``audience`` (at least one of ``tags`` when there are any, none of
``exclude_tags``; tags compare case-insensitively). With ``require_evidence``
(``consent: required``) that first row must also hold evidence of consent
(:mod:`newsletter.audience.evidence`). Sending and previews use :func:`eligible`;
:func:`summarize` counts exactly the same people.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from newsletter.audience import consent
from newsletter.audience import tally as tallying
from newsletter.audience.csvfile import ListReader, open_list, unneutralize
from newsletter.audience.evidence import HINT as evidence_hint
from newsletter.audience.scan import (
    AS_WRITTEN,
    LINE_MASK,
    LINE_SHIFT,
    LONGEST_KEPT,
    RANK_MASK,
    TAGSET_SHIFT,
    UNPROVEN,
    Tally,
)
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
    excluded_by_tags + held + unproven."""

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
    """Subscribed addresses (not held, not held back for evidence) per tag."""
    problems: list[Problem] = field(default_factory=list)
    """One per invalid row."""
    warnings: list[Problem] = field(default_factory=list)
    """Header spacing, duplicates: worth fixing, harmless to a send."""
    to_fix: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, email as written, problem) for every invalid or duplicate row, by line."""
    consent_columns: list[str] = field(default_factory=list)
    """Other tools' columns read as consent beside ``status`` (``Subscribed?``, ``Opt-in``...)."""
    questions: list[Problem] = field(default_factory=list)
    """Columns that look like consent but are not known: read as merge fields, to be answered."""
    unproven: int = 0
    """Subscribed, but held back: evidence of consent is required and their row has none."""
    unproven_rows: list[Problem] = field(default_factory=list)
    """One per address held back for want of evidence, at its row's line, naming the column
    (the first :data:`UNPROVEN_KEPT`; ``to_fix`` has every one), or one at the header for a
    list with no evidence column."""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [p.as_dict() for p in self.problems]
        data["warnings"] = [p.as_dict() for p in self.warnings]
        data["questions"] = [p.as_dict() for p in self.questions]
        data["unproven_rows"] = [p.as_dict() for p in self.unproven_rows]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudienceSummary:
        values = dict(data)
        values["problems"] = [Problem(**p) for p in data["problems"]]
        values["warnings"] = [Problem(**p) for p in data["warnings"]]
        values["questions"] = [Problem(**p) for p in data["questions"]]
        values["unproven_rows"] = [Problem(**p) for p in data["unproven_rows"]]
        values["to_fix"] = [tuple(row) for row in data["to_fix"]]
        return cls(**values)


UNPROVEN_KEPT = 1000
"""Findings kept of the rows without evidence of consent (the figures are cached: a list
of a million such rows would otherwise keep a million findings)."""


class _Matcher:
    def __init__(self, audience: Audience | None) -> None:
        self.include = frozenset(t.strip().lower() for t in audience.tags) if audience else frozenset()
        self.exclude = frozenset(t.strip().lower() for t in audience.exclude_tags) if audience else frozenset()

    def __call__(self, tags: tuple[str, ...]) -> bool:
        if self.include and self.include.isdisjoint(tags):
            return False
        return self.exclude.isdisjoint(tags)


def _count(
    tally: Tally, header_warnings: list[Problem], audience: Audience | None
) -> tuple[AudienceSummary, bytearray, bytearray]:
    """Figures of a finished tally, the eligible lines as a bitmap, and a bitmap of
    those eligible lines whose address is written exactly as normalised."""
    matches = _Matcher(audience)
    by_status = [0] * len(STATUSES)
    subscribed_tagsets = [0] * len(tally.tagsets)
    held = unproven = 0
    lacking: list[int] = []
    evidence = tally.evidence
    bitmap = bytearray((tally.last_line >> 3) + 1)
    written = bytearray(len(bitmap))
    count = 0
    holds = tally.holds
    wanted = [matches(tags) for tags in tally.tagsets]
    rank_mask, line_shift, line_mask, tagset_shift = RANK_MASK, LINE_SHIFT, LINE_MASK, TAGSET_SHIFT
    for key, value in tally.state.items():  # see Tally.state; a million times for a big list
        rank = value & rank_mask
        by_status[rank] += 1
        if rank == SUBSCRIBED:
            if holds and key in holds:
                held += 1
            elif evidence and value & UNPROVEN:
                if wanted[value >> tagset_shift]:  # one the audience leaves out is excluded by its tags
                    unproven += 1
                    lacking.append((value >> LINE_SHIFT) & LINE_MASK)
            else:
                tagset = value >> tagset_shift
                subscribed_tagsets[tagset] += 1
                if wanted[tagset]:
                    line = (value >> line_shift) & line_mask
                    bit = 1 << (line & 7)
                    bitmap[line >> 3] |= bit
                    if value & AS_WRITTEN:
                        written[line >> 3] |= bit
                    count += 1
    by_tag: Counter[str] = Counter()
    for tagset, n in enumerate(subscribed_tagsets):
        for tag in tally.tagsets[tagset] if n else ():
            by_tag[tag] += n
    subscribed = by_status[SUBSCRIBED]
    lacking.sort()
    found = tally.unproven
    unproven_rows = [
        Problem(
            tally.file,
            line,
            None,
            found[line][1],
            f"{found[line][2]}; this address is held back from sends until it has evidence of consent (consent: required)",
            evidence_hint,
        )
        for line in lacking[:UNPROVEN_KEPT]
        if line in found
    ]
    if unproven and not found:  # the list has no evidence column: one finding, not one per row
        unproven_rows = [
            Problem(
                tally.file,
                1,
                None,
                "consent_source",
                f"no evidence of consent: the list has no consent_source, consent_at or "
                f"consent_wording column, so all {unproven:,} subscribed addresses are held back "
                "from sends (consent: required)",
                evidence_hint,
            )
        ]
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
        excluded_by_tags=subscribed - held - unproven - count,
        held=held,
        by_tag=dict(sorted(by_tag.items(), key=lambda kv: (-kv[1], kv[0]))),
        problems=sorted(tally.unreadable + tally.problems, key=lambda p: p.line or 0),
        warnings=header_warnings + tally.warnings,
        to_fix=sorted(tally.to_fix + [(line, found[line][0], found[line][2]) for line in lacking if line in found]),
        unproven=unproven,
        unproven_rows=unproven_rows,
    )
    return summary, bitmap, written


def _consent_notes(list_path: Path) -> dict[str, Any]:
    """Which consent columns the tally read, and the question for columns that only look like one."""
    with open_list(list_path) as reader:
        names = reader.header.names
        found = consent.columns(names, skip=set(reader.header.roles.values()))
        questions = [
            Problem(
                reader.shown,
                1,
                i + 1,
                names[i],
                "this column looks like it says whether people agreed to get email, but newsletter does "
                "not know it: it is not read as consent",
                "if it does, rename it 'status' with values subscribed or unsubscribed, or import the file "
                f"with --status-column {shlex.quote(names[i])}",
            )
            for i in found.lookalikes
        ]
    return {"consent_columns": [names[i] for i, _ in found.read], "questions": questions}


def summarize(
    list_path: Path, audience: Audience | None = None, *, check_dns: bool = False, require_evidence: bool = False
) -> AudienceSummary:
    """The list in figures for an audience (all subscribers when None), with every problem;
    with ``require_evidence``, subscribers without evidence of consent are held back."""
    return _figures(list_path, audience, check_dns, require_evidence).summary


@dataclass(frozen=True, slots=True)
class Figures:
    summary: AudienceSummary
    bitmap: bytearray
    """Bit ``n`` is set when line ``n`` is eligible."""
    written: bytearray
    """Bit ``n`` is set when line ``n`` is eligible and its address cell is the normalised address."""
    fp: tallying.Fingerprint
    longest: tallying.Longest
    """The tally's longest values of each column (``Tally.longest``)."""


def _figures(list_path: Path, audience: Audience | None, check_dns: bool, evidence: bool = False) -> Figures:
    fp = tallying.fingerprint(list_path)
    if not check_dns:
        hit = tallying.cached(list_path, audience, fp, evidence=evidence)
        if hit is not None:
            return hit
    tally, header_warnings = tallying.tally(list_path, check_dns=check_dns, evidence=evidence)
    summary, bitmap, written = _count(tally, header_warnings, audience)
    summary = replace(summary, **_consent_notes(list_path))
    figures = Figures(summary, bitmap, written, fp, tally.longest)
    if not check_dns:
        tallying.store(list_path, audience, figures, evidence=evidence)
    return figures


def eligible(
    list_path: Path, audience: Audience | None = None, *, check_dns: bool = False, require_evidence: bool = False
) -> Iterator[Subscriber]:
    """Yield the subscribers an issue goes to, in list order, each address once (with
    ``require_evidence``, only those whose row holds evidence of consent).

    The whole list is checked before the first subscriber is yielded: if any row
    cannot be read (it might be an unsubscribe), :class:`InputError` is raised and
    nobody is yielded.
    """
    figures = _sendable(list_path, audience, check_dns, require_evidence)
    return _yield(figures, list_path)


def _sendable(list_path: Path, audience: Audience | None, check_dns: bool, evidence: bool = False) -> Figures:
    """The figures of a list that may be sent to: none of its rows is unreadable."""
    figures = _figures(list_path, audience, check_dns, evidence)
    summary = figures.summary
    unreadable = [p for p in summary.problems if p.field == ""]
    if unreadable:
        raise InputError(
            unreadable,
            summary=f"{summary.list_file}: {len(unreadable)} row(s) cannot be read; fix them before sending"
            " (one might be an unsubscribe)",
        )
    return figures


@dataclass(frozen=True, slots=True)
class Longest:
    """The longest value of each column among the eligible subscribers (in UTF-8 bytes,
    each value as :class:`Subscriber` gives it: the address normalised, names on one
    line), and how many eligible subscribers there are."""

    values: dict[str, str]
    """``email``, ``first_name``, ``last_name`` and every other named column present."""
    eligible: int
    name_problems: tuple[Problem, ...] = ()
    """Rows not mailed because a name holds a control character (see the scan)."""


def longest_values(list_path: Path, audience: Audience | None = None, *, require_evidence: bool = False) -> Longest:
    """What :func:`eligible` would yield, reduced to the longest value per column.

    The tally keeps the longest values of each column (``Tally.longest``); the
    longest eligible one among them is the answer when nothing the tally left out
    could beat it. Only when it could (most of the longest values belong to people
    not mailed) is the list read again.
    """
    figures = _sendable(list_path, audience, False, require_evidence)
    best = _from_candidates(figures.longest, figures.bitmap)
    if best is None:
        best = _longest_read(list_path, figures)
    names = tuple(p for p in figures.summary.problems if p.field in ("first_name", "last_name"))
    return Longest(best, figures.summary.eligible, names)


def _from_candidates(longest: tallying.Longest, bitmap: bytearray) -> dict[str, str] | None:
    """The longest eligible value of each column among the tally's candidates, or None
    when a value the tally did not keep might be as long (then the list must be read).

    Cells shrink when read as :class:`Subscriber` gives them (trimmed, on one line),
    never grow, so a row left out, no longer than the shortest kept and on a later
    line if as long, cannot beat a kept one that is at least as long as it.
    """
    limit = len(bitmap) << 3
    best: dict[str, str] = {}
    for name, heap in longest.items():
        clean = _NORMAL.get(name, _plain_cell)
        found: tuple[int, int, str] | None = None
        for _, minus_line, raw in heap:
            line = -minus_line
            if line >= limit or not bitmap[line >> 3] & (1 << (line & 7)):
                continue
            value = clean(raw)
            key = (_size(value), minus_line, value)
            if found is None or key[:2] > found[:2]:
                found = key
        if len(heap) >= LONGEST_KEPT and (found is None or found[:2] < min(heap)[:2]):
            return None
        if found is not None:
            best[name] = found[2]
    return best


def _longest_read(list_path: Path, figures: Figures) -> dict[str, str]:
    """:func:`longest_values` the slow way: every eligible row read and measured."""
    best: dict[str, str] = {}
    sizes: dict[str, int] = {}
    names = list(figures.longest)
    for entry in _rows(figures, list_path, tags=False):
        row = {"email": entry.email, "first_name": entry.first_name, "last_name": entry.last_name, **entry.fields}
        for name in names:
            value = row[name]
            size = _size(value)
            if size > sizes.get(name, -1):
                best[name], sizes[name] = value, size
    return best


def _size(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8"))


def _name_cell(value: str) -> str:
    return _name(unneutralize(value) if value[:1] == "'" else value)


def _plain_cell(value: str) -> str:
    return unneutralize(value) if value[:1] == "'" else value


_NORMAL: dict[str, Callable[[str], str]] = {"email": str, "first_name": _name_cell, "last_name": _name_cell}
"""How a kept cell becomes the value :class:`Subscriber` gives (addresses are kept normalised)."""


@contextmanager
def _reopen(list_path: Path, fp: tallying.Fingerprint) -> Iterator[ListReader]:
    """The list opened again for a second read, refused if it is not the one tallied."""
    with open_list(list_path) as reader:
        if tallying.Identity.of(list_path) != fp.identity:
            raise InputError(Problem(reader.shown, None, None, "", "the list changed while it was read; run again"))
        yield reader


def _rows(figures: Figures, list_path: Path, *, tags: bool, tracking: bool = False) -> Iterator[Entry]:
    """The eligible lines of a tallied list, each value as :class:`Subscriber` gives it
    (the tags, and whether the reader agreed to tracking, only when asked).

    A send reads a million of these, so the bitmap tests and the steps of
    :func:`_name_cell` are written out in the loop.
    """
    bitmap, written = figures.bitmap, figures.written
    with _reopen(list_path, figures.fp) as reader:
        roles = reader.header.roles
        email_at = roles["email"]
        first_at = roles.get("first_name")
        last_at = roles.get("last_name")
        tags_at = roles.get("tags") if tags else None
        tracking_at = _tracking_column(reader) if tracking else None
        agreed: dict[str, bool] = {}
        tracked = False
        other = reader.header.merge_columns()
        no_fields: Mapping[str, str] = MappingProxyType({})
        new = tuple.__new__
        tagsets: dict[str, tuple[str, ...]] = {}
        tagset: tuple[str, ...] = ()
        first = last = ""
        fields = no_fields
        limit = len(bitmap) << 3
        rows = reader.csv
        previous = rows.line_num
        for cells in rows:
            line = previous + 1
            previous = rows.line_num
            if line >= limit or not bitmap[line >> 3] & (1 << (line & 7)):
                continue
            raw = cells[email_at]
            if written[line >> 3] & (1 << (line & 7)):
                email = raw  # the tally found it valid and written as normalised
            else:
                if raw[:1] == "'":
                    raw = unneutralize(raw)
                email = fast_path(raw)
            if email is None:
                address = check_address(raw)
                if not isinstance(address, Address):
                    raise InputError(Problem(reader.shown, line, None, "email", "the list changed while it was read; run again"))
                email = address.normalized
            if first_at is not None:
                first = cells[first_at]
                if first[:1] == "'":
                    first = unneutralize(first)
                first = " ".join(first.split()) if "\n" in first or "\r" in first or "\t" in first else first.strip()
            if last_at is not None:
                last = cells[last_at]
                if last[:1] == "'":
                    last = unneutralize(last)
                last = " ".join(last.split()) if "\n" in last or "\r" in last or "\t" in last else last.strip()
            if other:
                fields = MappingProxyType({name: _plain_cell(cells[i]) for i, name in other})
            if tags_at is not None:
                text = cells[tags_at]
                found = tagsets.get(text)
                if found is None:
                    found = tagsets[text] = parse_tags(text)
                tagset = found
            if tracking_at is not None:
                said = cells[tracking_at]
                yes = agreed.get(said)
                if yes is None:
                    yes = agreed[said] = consent.read_value("yes", unneutralize(said)) == SUBSCRIBED
                tracked = yes
            yield new(Entry, (email, first, last, fields, line, tagset, tracked))


def _yield(figures: Figures, list_path: Path) -> Iterator[Subscriber]:
    for email, first, last, fields, line, tags, _ in _rows(figures, list_path, tags=True):
        yield Subscriber(email, first, last, "subscribed", tags, fields, line)


TRACKING_COLUMN = "tracking_consent"


def _tracking_column(reader: ListReader) -> int:
    """Where the list says who agreed to tracking; refused when it does not say."""
    at = reader.header.roles.get(TRACKING_COLUMN)
    if at is None:
        raise InputError(
            Problem(
                reader.shown,
                1,
                None,
                TRACKING_COLUMN,
                "tracking: consented (newsletter.yaml) needs a column saying who agreed to click and open tracking; "
                "this list has none, so nothing was sent",
                f"add a {TRACKING_COLUMN} column (yes for each reader who agreed), or set tracking: everyone",
            )
        )
    return at


class Entry(NamedTuple):
    """An eligible subscriber as a send reads them: the values of :class:`Subscriber`
    in a tuple, which is made faster than the model (a send reads one per reader). ``tags`` is empty unless asked for."""

    email: str
    first_name: str
    last_name: str
    fields: Mapping[str, str]
    line: int
    tags: tuple[str, ...] = ()
    tracked: bool = False
    """The reader agreed to click and open tracking (``tracking_consent`` says yes); only
    read when asked for."""


def entries(
    list_path: Path, audience: Audience | None = None, *, require_evidence: bool = False, tracking: bool = False
) -> Iterator[Entry]:
    """:func:`eligible` for a send: the same checks first, then lighter values. With
    ``tracking``, each entry says whether the reader agreed to tracking (the list's
    ``tracking_consent`` column: yes, y, true, 1... mean agreed, anything else not)."""
    figures = _sendable(list_path, audience, False, require_evidence)
    if tracking:
        with open_list(list_path) as reader:
            _tracking_column(reader)  # the refusal before the first reader is read
    return _rows(figures, list_path, tags=False, tracking=tracking)


def _name(value: str) -> str:
    """A name on one line: no line break or tab can reach a message header."""
    if "\n" in value or "\r" in value or "\t" in value:
        return " ".join(value.split())
    return value.strip()
