"""The web edition over months: stable calendar entries, announced changes, an archive
that never shrinks, and a second publish that redoes nothing.

Everything runs the real command (a subprocess); calendar files are read with icalendar
and, as a second opinion, vobject; the feed with feedparser.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import feedparser
import icalendar
import vobject

from tests.conftest import EXAMPLE_ISSUE, REPO, CliResult, run_cli

ARCHIVE = "https://www.coproductioncollective.co.uk/newsletters/"
HOST = "www.coproductioncollective.co.uk"
UTC = dt.timezone.utc
JULY, AUGUST, SEPTEMBER = "2024-07-01-co-pro-cuppa", "2024-08-06-co-pro-cuppa", "2024-09-06-co-pro-cuppa"
FIRST = dt.datetime(2024, 6, 20, 9, 0, tzinfo=UTC)
SECOND = dt.datetime(2024, 6, 25, 17, 30, tzinfo=UTC)


def publish(root: Path, *args: str, at: dt.datetime = FIRST) -> CliResult:
    result = run_cli("publish", *args, cwd=root, env={"SOURCE_DATE_EPOCH": str(int(at.timestamp()))})
    return result


def events_in(path: Path) -> list[icalendar.Component]:
    return list(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def second_opinion(path: Path) -> list[tuple[str, int, dt.datetime]]:
    """(UID, SEQUENCE, DTSTART) of every event, as vobject reads the file."""
    cal = vobject.readOne(path.read_text(encoding="utf-8"))
    return [(e.uid.value, int(e.sequence.value), e.dtstart.value) for e in cal.vevent_list]


def edit(path: Path, *pairs: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


SIGNUP = "        place: online\n        signup: https://www.eventbrite.co.uk/o/co-production-collective-30409438213\n"
ITEMS = "".join(
    f"      - title: Co-Pro Cuppa\n        start: {start}\n" + SIGNUP
    for start in ("2024-07-01 12:00", "2024-08-06 15:00", "2024-09-06 14:00")
)


def test_removing_reordering_and_editing_events_keeps_every_uid_and_file(project: Path) -> None:
    site, issue = project / "site", project / EXAMPLE_ISSUE
    assert publish(project).code == 0
    first = {p.name: p.read_bytes() for p in (site / "events").iterdir()}
    assert sorted(first) == [f"{e}.ics" for e in (JULY, AUGUST, SEPTEMBER)]
    for name in first:
        (event,) = events_in(site / "events" / name)
        assert str(event["uid"]) == f"{name.removesuffix('.ics')}@{HOST}"
        assert event["sequence"] == 0
    # the July Cuppa goes, August and September swap places, September's time moves
    edit(
        issue,
        (
            ITEMS,
            "".join(
                f"      - title: Co-Pro Cuppa\n        start: {start}\n" + SIGNUP
                for start in ("2024-09-06 14:30", "2024-08-06 15:00")
            ),
        ),
    )

    result = publish(project, at=SECOND)
    assert result.code == 0, result.output
    # the July file stays where it was (emails link to it); the others keep their names
    assert sorted(p.name for p in (site / "events").iterdir()) == sorted(first)
    assert (site / "events" / f"{AUGUST}.ics").read_bytes() == first[f"{AUGUST}.ics"]  # untouched
    (changed,) = events_in(site / "events" / f"{SEPTEMBER}.ics")
    assert str(changed["uid"]) == f"{SEPTEMBER}@{HOST}"
    assert changed["sequence"] == 1
    assert changed.decoded("dtstamp") == SECOND.replace(second=0)
    assert changed.decoded("last-modified") == SECOND.replace(second=0)
    assert changed.decoded("dtstart").astimezone(UTC) == dt.datetime(2024, 9, 6, 13, 30, tzinfo=UTC)
    (kept,) = events_in(site / "events" / f"{AUGUST}.ics")
    assert kept["sequence"] == 0 and "last-modified" not in kept
    # a second parser agrees
    assert second_opinion(site / "events" / f"{SEPTEMBER}.ics")[0][:2] == (f"{SEPTEMBER}@{HOST}", 1)
    assert second_opinion(site / "events" / f"{AUGUST}.ics")[0][:2] == (f"{AUGUST}@{HOST}", 0)
    # the email's links follow the identity, not the position
    built = run_cli("build", EXAMPLE_ISSUE, cwd=project)
    assert built.code == 0, built.output
    html = (project / "build" / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    assert html.index(f"events/{SEPTEMBER}.ics") < html.index(f"events/{AUGUST}.ics")
    assert f"events/{JULY}.ics" not in html
    # the page changed: its feed entry says when
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert dt.datetime(*feed.entries[0].updated_parsed[:6]).replace(tzinfo=UTC) == SECOND.replace(second=0)
    assert feed.entries[0].published_parsed[:3] == (2024, 6, 13)
    # published.json is what makes it so on any machine: another clone gives the same bytes
    state = json.loads((project / "published.json").read_text(encoding="utf-8"))
    assert state["events"][SEPTEMBER]["sequence"] == 1 and state["events"][AUGUST]["sequence"] == 0
    again = publish(project, "-o", "elsewhere", at=dt.datetime(2024, 7, 30, tzinfo=UTC))
    assert again.code == 0
    other = project / "elsewhere"
    assert {p.name for p in other.rglob("*.ics")} == {p.name for p in site.rglob("*.ics")} - {f"{JULY}.ics"}
    for path in other.rglob("*.ics"):
        assert (site / path.relative_to(other)).read_bytes() == path.read_bytes(), path.name


def test_an_event_carried_into_the_next_issue_is_one_calendar_entry(project: Path) -> None:
    made = run_cli("new", "--from", EXAMPLE_ISSUE, "--date", "2024-07-14", cwd=project)
    assert made.code == 0, made.output
    assert publish(project, at=dt.datetime(2024, 7, 20, tzinfo=UTC)).code == 0
    site = project / "site"
    uids = [str(e["uid"]) for e in events_in(site / "calendar.ics")]
    assert uids == [f"{e}@{HOST}" for e in (JULY, AUGUST, SEPTEMBER)]  # once each, July's past one kept
    assert [u for u, _, _ in second_opinion(site / "calendar.ics")] == uids
    july = run_cli("build", "issues/2024-07-july-team-update.yaml", cwd=project)
    assert july.code == 0, july.output
    june = run_cli("build", EXAMPLE_ISSUE, cwd=project)
    assert june.code == 0
    july_html = (project / "build" / "2024-07-july-team-update.html").read_text(encoding="utf-8")
    june_html = (project / "build" / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    for event in (AUGUST, SEPTEMBER):  # both emails link to the same file
        assert ARCHIVE + f"events/{event}.ics" in july_html and ARCHIVE + f"events/{event}.ics" in june_html
    assert (site / "2024-07-july-team-update.ics").is_file()
    assert [str(e["uid"]) for e in events_in(site / "2024-07-july-team-update.ics")] == uids[1:]


def test_a_named_future_issue_joins_the_archive_and_stays(project: Path) -> None:
    future = project / "issues" / "2024-07-july-preview.yaml"
    future.write_text(
        "title: July preview\nsubject: July preview\ndate: 2024-07-14\nblocks:\n  - type: text\n    text: Soon.\n",
        encoding="utf-8",
    )
    result = publish(project, "issues/2024-07-july-preview.yaml")
    assert result.code == 0, result.output
    site = project / "site"
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert [e.title for e in feed.entries] == ["July preview", "June Team Update: Building on meaningful conversations"]
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "2024-06-june-team-update.html" in index and "2024-07-july-preview.html" in index
    assert "Upload to https://www.coproductioncollective.co.uk/newsletters/ these" in result.out
    # publishing again without naming it keeps it: the archive never shrinks
    again = publish(project)
    assert again.code == 0 and "not yet" not in again.out
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert len(feed.entries) == 2


def test_an_event_without_an_end_lasts_the_default_length_or_all_day(project: Path) -> None:
    assert publish(project).code == 0  # the example's events have no end
    (event,) = events_in(project / "site" / "events" / f"{JULY}.ics")
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=60)
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "event_length: 0\n", encoding="utf-8")
    assert publish(project).code == 0
    (event,) = events_in(project / "site" / "events" / f"{JULY}.ics")
    assert event.decoded("dtstart") == dt.date(2024, 7, 1) and event.decoded("dtend") == dt.date(2024, 7, 2)
    assert second_opinion(project / "site" / "events" / f"{JULY}.ics")[0][2] == dt.date(2024, 7, 1)


def test_check_warns_before_a_published_event_changes_identity(project: Path) -> None:
    assert publish(project).code == 0
    issue = project / EXAMPLE_ISSUE
    edit(issue, ("start: 2024-07-01 12:00", "start: 2024-07-02 12:00"))
    found = run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=project)
    warnings = [f for f in json.loads(found.out)["findings"] if f["rule"] == "event-identity-changed"]
    assert len(warnings) == 1, found.out
    assert f"`id: {JULY}`" in warnings[0]["hint"]
    assert warnings[0]["line"] == issue.read_text(encoding="utf-8").splitlines().index("      - title: Co-Pro Cuppa") + 1
    # with the id the editor is told to add, the calendar entry is updated instead
    edit(
        issue,
        (
            "      - title: Co-Pro Cuppa\n        start: 2024-07-02",
            f"      - title: Co-Pro Cuppa\n        id: {JULY}\n        start: 2024-07-02",
        ),
    )
    found = run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=project)
    assert not [f for f in json.loads(found.out)["findings"] if f["rule"] == "event-identity-changed"]
    assert publish(project, at=SECOND).code == 0
    (event,) = events_in(project / "site" / "events" / f"{JULY}.ics")
    assert event["sequence"] == 1 and event.decoded("dtstart").day == 2


def test_a_bad_event_id_and_a_damaged_published_json_are_clear_errors(project: Path) -> None:
    issue = project / EXAMPLE_ISSUE
    edit(
        issue,
        (
            "      - title: Co-Pro Cuppa\n        start: 2024-07-01",
            "      - title: Co-Pro Cuppa\n        id: July Cuppa!\n        start: 2024-07-01",
        ),
    )
    result = publish(project)
    assert result.code == 1 and "Traceback" not in result.output
    assert "id: 'July Cuppa!' is not an event id" in result.err
    edit(issue, ("        id: July Cuppa!\n", ""))
    (project / "published.json").write_text('{"version": 1, "events": {"x": {"sequence": -1}}}\n', encoding="utf-8")
    result = publish(project)
    assert result.code == 2 and "Traceback" not in result.output
    assert "published.json:1:" in result.err and "events.x" in result.err


def test_published_json_is_read_as_json_and_its_problems_pointed_at(project: Path) -> None:
    """Read as JSON (fast); anything JSON would take silently or not take at all goes to the
    YAML reader, which says where: a key given twice, a value refused, a hand edit in YAML."""
    assert publish(project).code == 0
    state = project / "published.json"
    written = state.read_text(encoding="utf-8")
    data = json.loads(written)
    assert publish(project).code == 0 and state.read_text(encoding="utf-8") == written  # read back, unchanged
    lines = written.splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if '"sequence": 0' in line)
    state.write_text("".join([*lines[:at], '      "sequence": 5,\n', *lines[at:]]), encoding="utf-8")
    result = publish(project)
    assert result.code == 2 and "Traceback" not in result.output
    assert f"published.json:{at + 2}:" in result.err and "duplicate key" in result.err
    state.write_text(written.replace('"sequence": 0', '"sequence": "first"', 1), encoding="utf-8")
    result = publish(project)
    assert result.code == 2 and f"published.json:{at + 1}:" in result.err and "sequence" in result.err
    state.write_text(f"# edited by hand\n{json.dumps(data)}\n", encoding="utf-8")  # YAML, not JSON: still read
    result = publish(project)
    assert result.code == 0 and " 0 written" in result.out


def test_published_json_of_a_long_archive_is_read_beyond_the_yaml_bound(project: Path) -> None:
    """``published.json`` grows by about 2 KB an issue: past 1 MB (some 550 issues), the bound
    of a YAML file, it is still read (as JSON, up to 64 MB); damaged, it is a clear error
    naming where; larger than that, refused before it is read."""
    from newsletter.web.state import STATE_MAX_BYTES

    assert publish(project).code == 0
    state = project / "published.json"
    data = json.loads(state.read_text(encoding="utf-8"))
    ((slug, record),) = data["issues"].items()
    for n in range(1000):  # the issues of 83 years, long gone from issues/ (their pages kept)
        data["issues"][f"1960-{n:04d}-update"] = record
    written = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert len(written.encode("utf-8")) > 1_000_000
    state.write_text(written, encoding="utf-8")
    result = publish(project)
    assert result.code == 0 and "Traceback" not in result.output, result.err
    assert "1960-0999-update.html  kept as published" in result.out
    state.write_text(written.replace('"sequence": 0', '"sequence": "first"', 1), encoding="utf-8")
    result = publish(project)
    assert result.code == 2 and "Traceback" not in result.output
    assert "published.json: " in result.err and "sequence" in result.err and "restore it from git" in result.err
    state.write_text(written[:-200] + "\n", encoding="utf-8")  # cut short
    result = publish(project)
    line = written[:-200].count("\n") + 1
    assert result.code == 2 and f"published.json:{line}:" in result.err and "not the file publish writes" in result.err
    with state.open("r+b") as fh:
        fh.truncate(STATE_MAX_BYTES + 1)
    result = publish(project)
    assert result.code == 2 and "Traceback" not in result.output
    assert f"at most {STATE_MAX_BYTES:,} are read" in result.err and "restore it from git" in result.err


# --- publish only what changed ------------------------------------------------------------------

WATCH = """\
import json, os, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(os.fsdecode(args[0])) if event == "open" and isinstance(args[0], (str, bytes)) else None)
sys.argv = ["newsletter", "publish"]
from newsletter.cli import cli
try:
    cli(prog_name="newsletter")
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("jinja2", "lxml", "icalendar", "mjml", "pydantic", "yaml") if m in sys.modules)
print(json.dumps({"code": code, "opened": opened, "heavy": heavy}), file=sys.stderr)
"""


def watched(root: Path, at: dt.datetime = FIRST) -> dict[str, object]:
    env = {"SOURCE_DATE_EPOCH": str(int(at.timestamp())), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", WATCH],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, **env},
    )
    data: dict[str, object] = json.loads(proc.stderr.strip().splitlines()[-1])
    return data


def test_a_publish_with_nothing_changed_writes_nothing_and_reads_no_template_twice(project: Path) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "footer.mjml.j2").write_text(
        (REPO / "newsletter" / "templates" / "footer.mjml.j2").read_text(encoding="utf-8"), encoding="utf-8"
    )
    cold = watched(project)
    assert cold["code"] == 0
    site = project / "site"
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in [*site.rglob("*"), project / "published.json"]}
    warm = watched(project)
    assert warm["code"] == 0
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in [*site.rglob("*"), project / "published.json"]}
    assert after == before  # nothing written
    opened = warm["opened"]
    assert isinstance(opened, list), opened
    templates = [p for p in opened if "templates" in Path(p).parts]
    assert templates and len(templates) == len(set(templates)), templates  # each read once, to hash it
    assert warm["heavy"] == []  # no YAML, no pydantic, no Jinja, no lxml, no icalendar: nothing made again
    assert "jinja2" in cold["heavy"]  # type: ignore[operator]
    # a template that changes is seen: the page is made again from it
    footer = project / "templates" / "footer.mjml.j2"
    footer.write_text(
        footer.read_text(encoding="utf-8").replace("</mj-section>", "</mj-section>\n<!-- v2 -->", 1), encoding="utf-8"
    )
    edit(footer, ("{{ settings.postal_address }}", "{{ settings.postal_address }} (changed)"))
    changed = publish(project)
    assert changed.code == 0 and "(changed)" in (site / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    # and a file changed by hand in site/ is made right again
    (site / "index.html").write_text("damaged", encoding="utf-8")
    assert publish(project).code == 0
    assert "Newsletter archive" in (site / "index.html").read_text(encoding="utf-8")
