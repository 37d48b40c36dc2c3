"""A big list tallied on two cores gives exactly the tally of one pass.

The property test cuts generated lists at every kind of place (between rows, inside
a quoted cell, before and after an address's other rows) and joins the two parts'
tallies as the parent does, the second part scanned by the child's own function;
the other tests run the real child process."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience import halves
from newsletter.audience import tally as tallying
from newsletter.audience.csvfile import open_list, rows_from
from newsletter.audience.scan import TAGSET_SHIFT, Scanner, SplitMidRecord, Tally
from newsletter.audience.select import _count
from newsletter.errors import InputError


def one_pass(path: Path, kept: int = 32, *, evidence: bool = False) -> Tally:
    with open_list(path) as reader:
        return Scanner(reader.shown, reader.header, reader.dialect.delimiter, kept=kept, evidence=evidence).scan(reader)


def comparable(t: Tally) -> dict[str, Any]:
    """Every field of a tally, the state's tag-set numbers replaced by the tag sets."""
    fields = {name: getattr(t, name) for name in Tally.__slots__ if name not in ("state", "tagsets")}
    low = (1 << TAGSET_SHIFT) - 1
    fields["state"] = [(key, value & low, t.tagsets[value >> TAGSET_SHIFT]) for key, value in t.state.items()]
    return fields


def boundaries(path: Path) -> set[int]:
    """The lines after which one pass is between two rows."""
    with open_list(path) as reader:
        rows = reader.csv
        found = {rows.line_num}
        while True:
            try:
                for _ in rows:
                    found.add(rows.line_num)
                return found
            except csv.Error:
                found.add(rows.line_num)
            except UnicodeDecodeError:
                return found


def cut_after(path: Path, line_feeds: int) -> halves.Cut:
    data = path.read_bytes()
    offset = -1
    for _ in range(line_feeds):
        offset = data.index(b"\n", offset + 1)
    with open(path, "rb") as fh:
        lines = halves._count_lines(fh, offset + 1)
    assert lines is not None
    return halves.Cut(offset + 1, lines)


def joined(path: Path, cut: halves.Cut, kept: int, child_kept: int, *, evidence: bool = False) -> Tally:
    """The two parts' tallies joined as :func:`halves.tally` joins them (the second part
    scanned in this process, by the function the child runs)."""
    with open_list(path) as reader:
        scanner = halves._scanner(path, reader, kept, evidence=evidence)
        scanner.scan(halves._Source(reader.up_to(cut.lines), reader), part=True)
        st_ = os.stat(path)
        second = halves._scan_part(
            path,
            cut.offset,
            cut.lines,
            reader.dialect.delimiter,
            (st_.st_size, st_.st_mtime_ns, st_.st_ino),
            child_kept,
            evidence=evidence,
        )
        assert second is not None
        done = halves.join(
            scanner.tally,
            second,
            lambda lines: halves._cells_as_written(path, cut, reader, lines),
            kept=kept,
            second_kept=child_kept,
        )
        if not done:  # what the parent does then: read on from the cut itself
            with rows_from(path, cut.offset, cut.lines, reader.dialect.delimiter) as rows:
                scanner.scan(halves._Source(rows, reader))
        return scanner.tally


ADDRESSES = [
    "ann@example.org",
    "Ann@Example.org",
    "ANN@EXAMPLE.ORG",
    "bob@example.org",
    "cé@example.org",
    "zoë@bücher.de",
    "reader@bücher.de",
    "not an address",
    "",
    "'=x@example.org",
    "dan@example.org",
    "a-very-long-local-part-for-the-heaps@example.org",
    " eve@example.org ",
]
STATUSES = ["subscribed", "", "unsubscribed", "bounced", "complained", "weird", "Subscribed"]
NAMES = ["Ann", "", 'Bob "B" O\'Brien, Jr.', "line\nbreak", "ctrl\x07char", "x" * 90, "Zoë 🎉", "=SUM(A1)", "tab\there"]
TAGS = ["", "news", "news;events", "events", "vip"]

row: st.SearchStrategy[list[str]] = st.one_of(
    st.tuples(
        st.sampled_from(ADDRESSES),
        st.sampled_from(NAMES),
        st.sampled_from(NAMES),
        st.sampled_from(STATUSES),
        st.sampled_from(TAGS),
    ).map(list),
    st.just(["short", "row"]),
    st.just([]),  # a blank line
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(row, min_size=1, max_size=40),
    cut_at=st.integers(min_value=1, max_value=80),
    kept=st.integers(min_value=1, max_value=4),
    extra=st.integers(min_value=0, max_value=3),
    crlf=st.booleans(),
)
def test_two_parts_joined_are_the_tally_of_one_pass(
    tmp_path: Path, rows: list[list[str]], cut_at: int, kept: int, extra: int, crlf: bool
) -> None:
    path = tmp_path / "list.csv"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["email", "first_name", "last_name", "status", "tags"])
    for cells in rows:
        writer.writerow(cells)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    feeds = path.read_bytes().count(b"\n")
    cut = cut_after(path, 1 + (cut_at - 1) % feeds)
    if cut.offset >= path.stat().st_size:
        return  # nothing after the cut: the list is read in one pass
    whole = one_pass(path, kept)
    try:
        parts = joined(path, cut, kept, kept + extra)
    except SplitMidRecord:
        assert cut.lines not in boundaries(path), "a cut between two rows was taken for one inside a cell"
        return
    assert cut.lines in boundaries(path), "a cut inside a quoted cell went unnoticed"
    assert comparable(parts) == comparable(whole)


def big_list(path: Path, n: int, *, repeats: int = 0) -> None:
    """``n`` subscribers; then ``repeats`` rows repeating earlier addresses (other case,
    stricter status, long names), as an export with unsubscribes added at the end."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status", "tags"])
        tags = ["news", "events", "", "news;vip"]
        for i in range(n):
            w.writerow([f"reader{i:06d}@example.org", f"Reader{i}" + "x" * (i % 37), "Y", "subscribed", tags[(i * 7) % 4]])
        for j in range(repeats):
            i = (j * 7919) % n
            w.writerow(
                [
                    f"READER{i:06d}@Example.org",
                    "Repeat" + "z" * (j % 90),
                    "Q",
                    ["unsubscribed", "subscribed", "bounced"][j % 3],
                    "vip",
                ]
            )


@pytest.mark.parametrize("repeats", [0, 300])
def test_the_child_process_tallies_the_second_half(tmp_path: Path, repeats: int) -> None:
    path = tmp_path / "list.csv"
    big_list(path, 20_000, repeats=repeats)
    found = halves.tally(path, smallest=0)
    assert found is not None, "a list of plain lines on two cores is read in two parts"
    assert comparable(found[0]) == comparable(one_pass(path))
    assert found[0].duplicates == repeats


def test_figures_are_the_same_whichever_way_the_list_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the tally a send and a check use: the same figures and eligible lines."""
    path = tmp_path / "list.csv"
    big_list(path, 5_000, repeats=60)
    monkeypatch.chdir(tmp_path)
    assert halves.tally(path, smallest=0) is not None
    halved, warnings = tallying.tally(path) if path.stat().st_size >= halves.PARALLEL_FROM else halves.tally(path, smallest=0)  # type: ignore[misc]
    one = one_pass(path)
    assert _count(halved, warnings, None) == _count(one, warnings, None)
    summary = _count(halved, warnings, None)[0]
    assert summary.duplicates == 60
    assert summary.unsubscribed == 20 and summary.bounced == 20
    assert summary.eligible == 5_000 - 40


def test_a_second_half_that_is_not_utf8_is_refused_as_one_pass_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    big_list(path, 2_000)
    data = path.read_bytes()
    path.write_bytes(data[:-200] + b"\xff\xfe" + data[-198:])
    with pytest.raises(InputError) as one:
        with open_list(path) as reader:
            Scanner(reader.shown, reader.header, reader.dialect.delimiter).scan(reader)
    with pytest.raises(InputError) as two:
        halves.tally(path, smallest=0)
    assert str(two.value) == str(one.value)


def test_a_cut_inside_a_quoted_cell_falls_back_to_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    big_list(path, 3_000)  # the first 64 KB: plain lines
    with path.open("a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for i in range(3_000):
            w.writerow([f"late{i}@example.org", "two\nlines\n" * 3, "Z", "subscribed", "news"])
    size = path.stat().st_size
    third = path.read_bytes().index(b"two\nlines", int(size * 0.8))
    assert halves.tally(path, smallest=0, at=(third + 1) / size) is None
    assert comparable(tallying.tally(path)[0]) == comparable(one_pass(path))


def test_the_child_hands_over_its_part(tmp_path: Path) -> None:
    """The real child process's tally of the second part, as the parent loads it."""
    path = tmp_path / "list.csv"
    big_list(path, 2_000, repeats=10)
    st_ = os.stat(path)
    with open_list(path) as reader:
        cut = halves.plan(path, reader, smallest=0)
        assert cut is not None
        child = halves._Child(path, cut, reader.dialect.delimiter, (st_.st_size, st_.st_mtime_ns, st_.st_ino))
        try:
            part = child.result(reader, 0.0)
        finally:
            child.stop()
        here = halves._scan_part(
            path, cut.offset, cut.lines, reader.dialect.delimiter, (st_.st_size, st_.st_mtime_ns, st_.st_ino)
        )
    assert isinstance(part, halves.Part) and here is not None
    assert part.addresses[0] == here.addresses[0] and list(part.addresses[1]) == list(here.addresses[1])
    assert len(part.addresses[0]) > 500 and part.last_line == here.last_line == 2_011
    assert part.warnings == here.warnings and part.longest == here.longest


def test_a_child_that_finds_the_list_changed_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    big_list(path, 2_000)
    with open_list(path) as reader:
        cut = halves.plan(path, reader, smallest=0)
        assert cut is not None
        child = halves._Child(path, cut, reader.dialect.delimiter, (1, 2, 3))
        try:
            assert child.result(reader, 0.0) is None
        finally:
            child.stop()


def test_no_temporary_folder_means_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the child could not hand its part over, the list is read in one pass."""
    path = tmp_path / "list.csv"
    big_list(path, 2_000)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    assert halves.tally(path, smallest=0) is None
    assert comparable(tallying.tally(path)[0]) == comparable(one_pass(path))


def test_lists_read_in_one_pass(tmp_path: Path) -> None:
    """Small lists, quoted line breaks or lone carriage returns near the top: no cut."""
    small = tmp_path / "small.csv"
    big_list(small, 100)
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('email,first_name\nann@example.org,"two\nlines"\n' + "bob@example.org,Bob\n" * 5000)
    lone_cr = tmp_path / "cr.csv"
    lone_cr.write_bytes(b"email,first_name\nann@example.org,A\rnn\n" + b"bob@example.org,Bob\n" * 5000)
    for path, smallest in ((small, halves.PARALLEL_FROM), (quoted, 0), (lone_cr, 0)):
        with open_list(path) as reader:
            assert halves.plan(path, reader, smallest=smallest) is None, path.name


EVIDENCE = [
    ("website", "2024-06-03", "signup/form.md@3f2a1c9"),
    ("", "", ""),
    ("fair", "not a date", "x@3f2a1c9"),
    ("website", "2024-06-03", "form.md"),
    ("sheet", "2024-02-30", "a/b.md@abcdef0"),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(row, st.sampled_from(EVIDENCE)), min_size=1, max_size=40),
    cut_at=st.integers(min_value=1, max_value=80),
)
def test_two_parts_joined_hold_back_who_one_pass_holds_back(
    tmp_path: Path, rows: list[tuple[list[str], tuple[str, ...]]], cut_at: int
) -> None:
    """With evidence of consent required, the join finds the same rows without it as one
    pass (an address whose first row turns out to be in the first part keeps that row's verdict)."""
    path = tmp_path / "list.csv"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "first_name", "last_name", "status", "tags", "consent_source", "consent_at", "consent_wording"])
    for cells, proof in rows:
        writer.writerow(cells + list(proof) if len(cells) == 5 else cells)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    feeds = path.read_bytes().count(b"\n")
    cut = cut_after(path, 1 + (cut_at - 1) % feeds)
    if cut.offset >= path.stat().st_size:
        return
    whole = one_pass(path, 2, evidence=True)
    try:
        parts = joined(path, cut, 2, 3, evidence=True)
    except SplitMidRecord:
        return
    assert comparable(parts) == comparable(whole)
