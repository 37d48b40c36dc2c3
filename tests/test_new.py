"""``newsletter new`` (issue 15, point 1): the next issue from the latest (or a named) one,
with its structure and standing sections, the new date, the events still to come, and
placeholders that ``check`` reports until they are written. Never over an existing file."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from newsletter.issue.successor import month_after, next_slug
from newsletter.project import open_issue
from tests.conftest import EXAMPLE_ISSUE, run_cli

JULY = "issues/2024-07-july-team-update.yaml"


def findings(project: Path, issue: str) -> tuple[int, list[dict[str, object]]]:
    result = run_cli("check", issue, "--format", "json", cwd=project)
    assert result.code in (0, 1), result.output
    return result.code, json.loads(result.out)["findings"]


def test_new_starts_july_from_june(project: Path) -> None:
    result = run_cli("new", cwd=project)
    assert result.code == 0, result.output
    assert f"Started {JULY} (14 July 2024) from {EXAMPLE_ISSUE}" in result.out
    assert f"newsletter check {JULY}" in result.out and f"newsletter send {JULY} --test-to" in result.out
    assert "newsletter preview" in result.out

    june = open_issue(project / EXAMPLE_ISSUE)[1].issue
    july_file = open_issue(project / JULY)[1]  # loads and validates
    july = july_file.issue
    assert july.date == dt.date(2024, 7, 14)
    # the structure: the same blocks in the same order
    assert [b.type for b in july.blocks] == [b.type for b in june.blocks]
    # standing sections as they were: headings, buttons, contact blocks, the divider
    for old, new in zip(june.blocks, july.blocks):
        if old.type in ("heading", "button", "contact", "divider"):
            assert new == old
    # only the events still to come on 14 July (1 July is over)
    events = [b for b in july.blocks if b.type == "events"][0]
    assert [e.start.date() for e in events.items] == [dt.date(2024, 8, 6), dt.date(2024, 9, 6)]
    assert "2 event(s) still to come carried over; 1 over by then left out" in result.out
    # the block marked "# keep" is carried as it is, and stays marked
    kept = [b for b in june.blocks if b.type == "text" and "You can sign up" in b.text]
    assert kept and kept[0] in july.blocks
    assert "  # keep\n  - type: text\n    text: |\n      You can sign up" in (project / JULY).read_text()
    # the month's words are placeholders
    assert july.title.startswith("TK:") and july.subject.startswith("TK:")
    assert all(b.text.startswith("TK:") for b in july.blocks if b.type == "text" and b not in kept)


def test_check_reports_every_placeholder_and_nothing_else(project: Path) -> None:
    assert run_cli("new", cwd=project).code == 0
    text = (project / JULY).read_text(encoding="utf-8")
    written = sum(line.count("TK:") for line in text.splitlines() if not line.lstrip().startswith("#"))
    code, found = findings(project, JULY)
    assert code == 1
    errors = [f for f in found if f["severity"] == "error"]
    assert {f["rule"] for f in errors} == {"placeholder", "link-placeholder"}
    assert len([f for f in errors if f["rule"] == "placeholder"]) == written
    for f in errors:  # each at the line that holds it
        assert "TK" in text.splitlines()[int(str(f["line"])) - 1], f

    # words written in place of each placeholder: last month's photo is still there
    n = iter(range(1000))
    filled = re.sub(r"(?<!# )TK: [^'\n]*", lambda _: f"Words number {next(n)} for the July issue, long enough", text)
    filled = filled.replace("https://TK", "https://www.coproductioncollective.co.uk/news/july")
    (project / JULY).write_text(filled, encoding="utf-8")
    code, found = findings(project, JULY)
    errors = [f for f in found if f["severity"] == "error"]
    assert code == 1 and [(f["rule"], f["line"]) for f in errors] == [("placeholder", 9)], errors
    assert "june-2024-conversations-mug.jpg" in str(errors[0]["message"])
    assert "last issue's photo" in str(errors[0]["message"])
    # the new photo's address given and the comment removed: the issue is ready (warnings at most)
    ready = re.sub(r"june-2024-conversations-mug\.jpg  # TK: .*", "july-2024-new-photo.jpg", filled)
    (project / JULY).write_text(ready, encoding="utf-8")
    code, found = findings(project, JULY)
    assert code == 0, [f for f in found if f["severity"] == "error"]


def test_a_placeholder_events_made_up_time_is_reported_until_set(project: Path) -> None:
    """Issue 27 item 18: the time ``new`` gives a placeholder event is reported by ``check``
    after its words are written, until the comment that says it was made up is removed."""
    assert run_cli("new", "autumn-special", "--from", EXAMPLE_ISSUE, "--date", "2024-10-01", cwd=project).code == 0
    issue = project / "issues/autumn-special.yaml"
    text = issue.read_text(encoding="utf-8")
    start = next(i for i, line in enumerate(text.splitlines(), 1) if "start: 2024-10-01 12:00" in line)
    filled = re.sub(r"(?<!# )TK: [^'\n]*", "Words for the autumn special, written in full", text)
    filled = filled.replace("https://TK", "https://www.coproductioncollective.co.uk/news/autumn")
    issue.write_text(filled, encoding="utf-8")
    code, found = findings(project, "issues/autumn-special.yaml")
    errors = [(f["rule"], f["line"]) for f in found if f["severity"] == "error"]
    assert code == 1 and ("placeholder", start) in errors, errors
    assert "made this time up" in str(found)


def test_never_over_an_existing_file(project: Path) -> None:
    assert run_cli("new", cwd=project).code == 0
    before = (project / JULY).read_bytes()
    again = run_cli("new", "--from", EXAMPLE_ISSUE, cwd=project)
    assert again.code == 2 and f"{JULY} already exists: nothing was written" in again.err
    assert "Traceback" not in again.output
    assert (project / JULY).read_bytes() == before


def test_from_the_latest_issue_by_date(project: Path) -> None:
    assert run_cli("new", cwd=project).code == 0
    august = run_cli("new", cwd=project)  # from July, the latest now
    assert august.code == 0, august.output
    assert f"Started issues/2024-08-august-team-update.yaml (14 August 2024) from {JULY}" in august.out
    issue = open_issue(project / "issues/2024-08-august-team-update.yaml")[1].issue
    events = [b for b in issue.blocks if b.type == "events"][0]
    assert [e.start.date() for e in events.items] == [dt.date(2024, 9, 6)]
    assert "  # keep\n  - type: text" in (project / "issues/2024-08-august-team-update.yaml").read_text()


def test_named_slug_source_and_date_and_no_event_left(project: Path) -> None:
    result = run_cli("new", "autumn-special", "--from", EXAMPLE_ISSUE, "--date", "2024-10-01", cwd=project)
    assert result.code == 0, result.output
    issue = open_issue(project / "issues/autumn-special.yaml")[1].issue
    assert issue.date == dt.date(2024, 10, 1)
    events = [b for b in issue.blocks if b.type == "events"][0]
    assert len(events.items) == 1 and events.items[0].title.startswith("TK:")
    assert "0 event(s) still to come carried over; 3 over by then left out" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad Slug"], "'Bad Slug' does not make a good slug"),
        (["--date", "2024-13-01"], "'2024-13-01' does not match the format '%Y-%m-%d'"),
        (["--from", "issues/missing.yaml"], "does not exist"),
    ],
)
def test_bad_arguments(project: Path, args: list[str], message: str) -> None:
    result = run_cli("new", *args, cwd=project)
    assert result.code == 2 and message in result.err, result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in (project / "issues").iterdir()) == [Path(EXAMPLE_ISSUE).name]


def test_no_issue_to_start_from(project: Path) -> None:
    (project / EXAMPLE_ISSUE).unlink()
    result = run_cli("new", cwd=project)
    assert result.code == 2 and "no issue in issues/ to start from" in result.err


@pytest.mark.parametrize(
    ("day", "after"),
    [
        (dt.date(2024, 6, 14), dt.date(2024, 7, 14)),
        (dt.date(2024, 1, 31), dt.date(2024, 2, 29)),
        (dt.date(2023, 1, 31), dt.date(2023, 2, 28)),
        (dt.date(2024, 12, 5), dt.date(2025, 1, 5)),
    ],
)
def test_month_after(day: dt.date, after: dt.date) -> None:
    assert month_after(day) == after


@pytest.mark.parametrize(
    ("slug", "old", "new", "expected"),
    [
        ("2024-06-june-team-update", dt.date(2024, 6, 14), dt.date(2024, 7, 14), "2024-07-july-team-update"),
        ("2024-12-dec-news", dt.date(2024, 12, 5), dt.date(2025, 1, 5), "2025-01-jan-news"),
        ("team-update", dt.date(2024, 6, 14), dt.date(2024, 7, 14), "2024-07-team-update"),
        ("june", dt.date(2024, 6, 14), dt.date(2024, 7, 14), "2024-07-july"),
    ],
)
def test_next_slug(slug: str, old: dt.date, new: dt.date, expected: str) -> None:
    assert next_slug(slug, old, new) == expected


def test_guide_shows_what_new_prints(project: Path) -> None:
    from tests.conftest import REPO

    result = run_cli("new", cwd=project)
    assert result.code == 0, result.output
    guide = (REPO / "docs" / "editors-guide.md").read_text(encoding="utf-8")
    assert f"```\n{result.out}```\n" in guide, "update the example of `newsletter new` in docs/editors-guide.md"


def test_a_keep_mark_in_capitals_keeps_its_block(project: Path) -> None:
    june = project / EXAMPLE_ISSUE
    text = june.read_text(encoding="utf-8")
    assert "  - type: text  # keep:" in text
    june.write_text(text.replace("  - type: text  # keep:", "  - type: text  # Keep:"), encoding="utf-8")
    assert run_cli("new", cwd=project).code == 0
    july = (project / JULY).read_text(encoding="utf-8")
    assert "  # keep\n  - type: text" in july and "You can sign up to our upcoming Co-Pro Cuppas" in july


def test_never_beside_an_existing_yml_of_the_same_name(project: Path) -> None:
    (project / "issues" / "2024-07-july-team-update.yml").write_text("title: mine\n", encoding="utf-8")
    result = run_cli("new", cwd=project)
    assert result.code == 2 and "already exists: nothing was written" in result.err, result.output
    assert not (project / JULY).exists()
