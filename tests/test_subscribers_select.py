"""Who is eligible: compared with a plain reference model on generated lists, and the
figures reused from the cache only while the list's bytes are unchanged."""

from __future__ import annotations

import csv
import io
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience import AudienceSummary, Subscriber, eligible, entries, longest_values, summarize
from newsletter.audience.select import _from_candidates, _sendable
from newsletter.audience.tally import CACHE_DIR
from newsletter.errors import InputError
from newsletter.issue.model import Audience

STRICTNESS = ["subscribed", "bounced", "unsubscribed", "complained"]


def reference(rows: list[dict[str, str]], audience: Audience) -> list[str]:
    """Eligible addresses, computed the obvious way with email-validator and no shortcuts."""

    def normal(raw: str) -> str | None:
        if "\n" in raw or "\r" in raw:
            return None
        try:
            return validate_email(raw.strip(), check_deliverability=False).normalized
        except EmailNotValidError:
            return None

    def status(raw: str) -> str | None:
        value = raw.strip().lower() or "subscribed"
        return value if value in STRICTNESS else None

    strictest: dict[str, str] = {}
    held: set[str] = set()
    first: dict[str, tuple[str, list[str]]] = {}
    for row in rows:
        email, st_ = normal(row["email"]), status(row["status"])
        if email is None:
            if st_ != "subscribed":
                held.add("".join(row["email"].split()).casefold())
            continue
        key = email.casefold()
        if st_ is None:
            held.add(key)
            continue
        tags = [t.strip().lower() for t in row["tags"].split(";") if t.strip()]
        first.setdefault(key, (email, tags))
        old = strictest.get(key, "subscribed")
        strictest[key] = max(old, st_, key=STRICTNESS.index)
    include = {t.lower() for t in audience.tags}
    exclude = {t.lower() for t in audience.exclude_tags}
    return [
        email
        for key, (email, tags) in first.items()
        if strictest[key] == "subscribed" and key not in held and (not include or include & set(tags)) and not exclude & set(tags)
    ]


names = st.sampled_from(["amy", "Amy", "AMY", "bo", "b.o", "cy+x", "d..e", "ed ", " ed", "fé", "info", "INFO"])
domains = st.sampled_from(
    ["example.org", "Example.ORG", "bücher.example", "xn--bcher-kva.example", "x", "localhost", "ex ample.org"]
)
emails = st.one_of(st.builds(lambda n, d: f"{n}@{d}", names, domains), st.sampled_from(["", "@", "a@@b.org", "x\n@example.org"]))
statuses = st.sampled_from(["", "subscribed", "Unsubscribed", "BOUNCED", "complained", "unsubscirbed", " subscribed "])
tagsets = st.sampled_from(["", "a", "A;b", "b", " c ; a ", ";"])
row = st.fixed_dictionaries(
    {
        "email": emails,
        "status": statuses,
        "tags": tagsets,
        "first_name": st.sampled_from(["", "=x", "'=y", "Zoë", "a,b", " Ann\n Lee ", "Bob"]),
    }
)
audiences = st.builds(
    Audience,
    tags=st.lists(st.sampled_from(["a", "B", "c"]), max_size=2),
    exclude_tags=st.lists(st.sampled_from(["a", "b", "C"]), max_size=1),
)


def longest_by_reduction(people: Iterable[Subscriber]) -> dict[str, str]:
    best: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for p in people:
        for name, value in (("email", p.email), ("first_name", p.first_name), *p.fields.items()):
            size = len(value.encode("utf-8"))
            if size > sizes.get(name, -1):
                best[name], sizes[name] = value, size
    return best


def write(path: Path, rows: list[dict[str, str]], delimiter: str) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["email", "first_name", "status", "tags"], delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=12), audience=audiences, delimiter=st.sampled_from([",", ";", "\t"]))
def test_eligible_matches_the_reference_model(
    tmp_path: Path, rows: list[dict[str, str]], audience: Audience, delimiter: str
) -> None:
    path = tmp_path / "list.csv"
    write(path, rows, delimiter)
    got = [s.email for s in eligible(path, audience)]
    assert got == reference(rows, audience)
    # what a send reads: the same people with the same values, tags left out
    assert [(e.email, e.first_name, e.last_name, dict(e.fields), e.line, e.tags) for e in entries(path, audience)] == [
        (s.email, s.first_name, s.last_name, dict(s.fields), s.line, ()) for s in eligible(path, audience)
    ]
    s = summarize(path, audience)
    assert s.eligible == len(got)
    # what `newsletter check` personalises with: the same people, reduced to the longest values
    longest = longest_values(path, audience)
    assert longest.eligible == len(got)
    assert longest.values == longest_by_reduction(eligible(path, audience))
    assert s.total == s.invalid + s.duplicates + s.subscribed + s.unsubscribed + s.bounced + s.complained
    assert s.subscribed == s.eligible + s.excluded_by_tags + s.held


def _long_list(path: Path, seed: int) -> None:
    """150 rows whose longest names mostly belong to people not mailed, with ties,
    padding, tabs, formula-guard quotes, multi-byte letters and a merge field."""
    rng = random.Random(seed)
    letters = ["a", "é", "名", "𝒜", " ", "\t"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status", "team"])
        for i in range(150):
            size = rng.choice([3, 8, 8, 20, 30, 30])
            name = "".join(rng.choice(letters) for _ in range(size))
            if rng.random() < 0.1:
                name = "'=" + name
            status = "unsubscribed" if size >= 20 and rng.random() < 0.97 else rng.choice(["", "", "bounced"])
            email = f"{'x' * rng.choice([1, 5, 5])}{i}@Example.org" if rng.random() < 0.95 else "not an address"
            w.writerow([email, name, name[: rng.randrange(1, 6)], status, "t" * rng.randrange(0, 12)])


@pytest.mark.parametrize("seed", range(12))
def test_longest_values_match_every_eligible_row_read(tmp_path: Path, seed: int) -> None:
    """The tally keeps the longest values of each column; when those belong to people not
    mailed, the list is read again. Either way the answer is the longest eligible value
    (the first of equals), as reading every eligible subscriber gives it."""
    path = tmp_path / "list.csv"
    _long_list(path, seed)
    longest = longest_values(path)
    assert longest.eligible == len(list(eligible(path)))
    people = list(eligible(path))
    expected = longest_by_reduction(people)
    expected["last_name"] = max((p.last_name for p in people), key=lambda v: len(v.encode("utf-8")))
    assert longest.values == expected


def test_longest_values_are_read_from_the_tally_when_they_can_be(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    rows = [f"al{i}@example.org,Al,Y,subscribed" for i in range(10)]
    rows += [f"gone{i}@example.org,Bartholomew-Maximilian {i},X,unsubscribed" for i in range(40)]
    path.write_text("email,first_name,last_name,status\n" + "\n".join(rows) + "\n", encoding="utf-8")
    figures = _sendable(path, None, False)
    # first names: every one of the longest kept belongs to an unsubscribed person, so
    # one left out might be longer: the list must be read
    assert _from_candidates({"first_name": figures.longest["first_name"]}, figures.bitmap) is None
    # last names: all one letter; the first rows are kept, and the first eligible wins
    assert _from_candidates({"last_name": figures.longest["last_name"]}, figures.bitmap) == {"last_name": "Y"}
    assert longest_values(path).values == {"email": "al0@example.org", "first_name": "Al", "last_name": "Y"}


def test_figures_are_reused_only_while_the_bytes_are_unchanged(project: Path) -> None:
    path = project / "subscribers.csv"
    first = summarize(path)
    cache_files = list((project / CACHE_DIR).glob("subscribers.csv.*.json"))
    assert len(cache_files) == 1
    stored = json.loads(cache_files[0].read_text(encoding="utf-8"))
    assert stored["key"]["size"] == path.stat().st_size
    assert AudienceSummary.from_dict(stored["summary"]) == first
    assert summarize(path) == first

    # Same size, same modification time, one byte different: the hash tells, and it is tallied again.
    stat = path.stat()
    data = path.read_bytes().replace(
        b"dev.patel@example.org,Dev,Patel,unsubscribed", b"dev.patel@example.org,Dev,Patel,subscribed  "
    )
    assert len(data) == stat.st_size
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = summarize(path)
    assert (second.subscribed, second.eligible) == (first.subscribed + 1, first.eligible + 1)


def test_a_broken_cache_is_ignored(project: Path) -> None:
    path = project / "subscribers.csv"
    first = summarize(path)
    for cache in (project / CACHE_DIR).glob("*.json"):
        cache.write_text("{not json", encoding="utf-8")
    assert summarize(path) == first


def test_no_cache_folder_no_problem(project: Path) -> None:
    (project / ".newsletter").write_text("a file where the cache folder would go", encoding="utf-8")
    assert summarize(project / "subscribers.csv").eligible == 5


def test_a_list_replaced_between_the_check_and_the_read_is_refused(project: Path) -> None:
    path = project / "subscribers.csv"
    people = eligible(path)
    replacement = path.with_name("other.csv")
    replacement.write_text(path.read_text(encoding="utf-8") + "new.one@example.org,New,One,subscribed,,,\n", encoding="utf-8")
    os.replace(replacement, path)
    with pytest.raises(InputError, match="the list changed while it was read; run again"):
        list(people)


def test_a_lists_hash_is_reused_only_for_a_file_changed_well_before_it_was_taken(tmp_path: Path) -> None:
    """A send asks for the list's fingerprint several times; the content hash is taken
    again unless the file was last modified well before the hash was (git's "racily
    clean" rule), so a change that keeps the size, and even the modification time, of a
    file just written is still seen."""
    import os

    from newsletter.audience import tally as tallying

    path = tmp_path / "list.csv"
    path.write_text("email\nann@example.org\n", encoding="utf-8")
    first = tallying.fingerprint(path)
    stat = path.stat()
    path.write_text("email\nbob@example.org\n", encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same modification time
    assert tallying.fingerprint(path).sha256 != first.sha256
    old = stat.st_mtime_ns - 3_600_000_000_000
    os.utime(path, ns=(old, old))  # a list last changed an hour ago
    settled = tallying.fingerprint(path)
    assert tallying.fingerprint(path) == settled and path.resolve() in tallying._HASHED
    path.write_text("email\ncat@example.org\n", encoding="utf-8")  # changed now: a new identity
    assert tallying.fingerprint(path).sha256 not in (settled.sha256, first.sha256)
