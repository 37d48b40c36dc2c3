"""Never the same issue twice by mistake (issue 15, point 3): a subject or date equal to
another issue file's, or to an issue already sent from this project, is an error of
``check`` and of the send's gate; ``--force`` accepts it and says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newsletter.issue.catalogue import summary
from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.test_check import _in_project, check  # noqa: F401  (the autouse fixture: paths as shown)

JUNE_SUBJECT = "June Team Update: Building on meaningful conversations"
OTHER = "issues/2024-05-other.yaml"


def issue(subject: str, date: str) -> str:
    return (
        f'title: Test issue\nsubject: "{subject}"\n'
        "preheader: A short summary of this small test issue, long enough for inboxes.\n"
        f"date: {date}\nblocks:\n  - type: heading\n    text: News\n"
    )


# (case, the issue checked, other issue files (name → text), findings as (rule, field))
CASES = [
    ("a fresh issue", issue("July news", "2024-07-12"), {}, []),
    ("the subject of the example", issue(JUNE_SUBJECT, "2024-07-12"), {}, [("subject-repeated", "subject")]),
    (
        "the subject, spaced and capitalised otherwise",
        issue("june team update:  building on MEANINGFUL conversations", "2024-07-12"),
        {},
        [("subject-repeated", "subject")],
    ),
    ("the date of the example", issue("July news", "2024-06-14"), {}, [("date-repeated", "date")]),
    (
        "both: last month's file copied",
        issue(JUNE_SUBJECT, "2024-06-14"),
        {},
        [("subject-repeated", "subject"), ("date-repeated", "date")],
    ),
    (
        "another file of the same date",
        issue("July news", "2024-05-10"),
        {OTHER: issue("May news", "2024-05-10")},
        [("date-repeated", "date")],
    ),
    (
        "another file that does not parse is left out",
        issue("July news", "2024-07-12"),
        {OTHER: "subject: [July news\ndate: 2024-07-12\n"},
        [],
    ),
    (
        "a .yml file counts too",
        issue("May news", "2024-07-12"),
        {"issues/2024-05-other.yml": issue("May news", "2024-05-10")},
        [("subject-repeated", "subject")],
    ),
]


@pytest.mark.parametrize(("text", "others", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_repeats_of_other_issue_files(project: Path, text: str, others: dict[str, str], expected: list[tuple[str, str]]) -> None:
    found = [f for f in check(project, text, files=others) if f.rule in ("subject-repeated", "date-repeated")]
    assert [(f.rule, f.field) for f in found] == expected, "\n".join(map(str, found))
    for f in found:
        assert f.severity == "error" and f.file == "issues/t.yaml"
        assert f.line == next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(f"{f.field}:"))
        assert "use --force" in f.hint


def test_an_issue_already_sent_whose_copy_is_checked(project: Path) -> None:
    sent = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert sent.code == 0, sent.output
    copy = project / "issues" / "2024-07-july.yaml"
    copy.write_text((project / EXAMPLE_ISSUE).read_text(encoding="utf-8"), encoding="utf-8")

    result = run_cli("check", "issues/2024-07-july.yaml", cwd=project)
    assert result.code == 1, result.output
    assert (
        f"issues/2024-07-july.yaml:6:10: subject: the subject '{JUNE_SUBJECT}' is the same as in "
        f"{EXAMPLE_ISSUE}, already sent with outbox  [subject-repeated]" in result.out
    )
    assert "issues/2024-07-july.yaml:8:7: date: the date 14 June 2024 is the same as in" in result.out

    # the issue sent first is not the copy: its send can still be resumed or shown again
    original = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert original.code == 0 and "repeated" not in original.out, original.output
    again = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert again.code == 0 and "already sent" in again.out, again.output

    # the send's gate refuses the copy, and sends nothing
    refused = run_cli("send", "issues/2024-07-july.yaml", "--yes", cwd=project)
    assert refused.code == 1 and "[subject-repeated]" in refused.err and "nothing was sent" in refused.err
    assert not (project / "outbox" / "2024-07-july").exists()

    forced = run_cli("check", "issues/2024-07-july.yaml", "--force", cwd=project)
    assert forced.code == 0, forced.output
    assert "(accepted with --force)  [subject-repeated]" in forced.out
    assert "--force: 2 repeat(s) of another issue's subject or date accepted" in forced.out


def test_a_sent_issue_counts_even_when_its_file_is_renamed_later(project: Path) -> None:
    """The journal names the sent slug; the file under that name is what is compared."""
    sent = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert sent.code == 0, sent.output
    # checking the sent file itself finds no repeat of itself
    assert "repeated" not in run_cli("check", EXAMPLE_ISSUE, cwd=project).out
    # a second file with the sent one's date is a repeat of a sent issue
    (project / "issues" / "2024-06-extra.yaml").write_text(issue("An extra", "2024-06-14"), encoding="utf-8")
    result = run_cli("check", "issues/2024-06-extra.yaml", cwd=project, env={})
    assert "already sent with outbox  [date-repeated]" in result.out, result.output
    # the journal was only read: no file of SQLite's beside it
    assert sorted(p.name for p in (project / ".newsletter").glob("journal*")) == ["journal.lock", "journal.sqlite3"]


# (case, YAML, the subject and date read from it)
SUMMARIES = [
    ("plain", "subject: News\ndate: 2024-06-14\n", ("News", dt.date(2024, 6, 14))),
    (
        "after the blocks",
        "blocks:\n  - type: text\n    subject: Inner\n    date: 2020-01-01\nsubject: 'Outer'\ndate: 2024-06-14\n",
        ("Outer", dt.date(2024, 6, 14)),
    ),
    ("nested values are not the issue's", "hero:\n  subject: Inner\n  date: 2020-01-01\n", (None, None)),
    ("a bad date", "subject: News\ndate: 2024-13-01\n", ("News", None)),
    ("not a mapping", "- subject: News\n", None),
    ("a syntax error before them", "title: [open\nsubject: News\n", None),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SUMMARIES], ids=[c[0] for c in SUMMARIES])
def test_issue_summary(tmp_path: Path, text: str, expected: tuple[str | None, dt.date | None] | None) -> None:
    path = tmp_path / "2024-06-x.yaml"
    path.write_text(text, encoding="utf-8")
    found = summary(path)
    assert (None if found is None else (found.subject, found.date)) == expected


def _record(project: Path, slug: str, date: str, state: str = "finished", accepted: int = 5) -> None:
    from newsletter.delivery import records

    records.write(
        project,
        records.Record(
            slug=slug,
            issue_file=f"issues/{slug}.yaml",
            issue_sha256="0" * 64,
            subject=f"{slug} news",
            date=date,
            email_sha256="1" * 64,
            provider="sendgrid",
            category="newsletter-send-000000000000",
            list_file="subscribers.csv",
            list_sha256="2" * 64,
            list_rows=7,
            secret_id="3" * 16,
            started=1718352000.0,
            updated=1718352000.0,
            state=state,
            counts={"accepted": accepted, "eligible": 5},
        ),
    )


# (case, the issue checked (its slug is "t"), records in sends/ (slug, date, state, accepted), findings)
SHARED = [
    ("no records", "2024-07-12", [], []),
    ("this issue sent from another clone", "2024-07-12", [("t", "2024-07-12", "finished", 5)], [("already-sent", "subject")]),
    (
        "this issue stopped part-way on another clone: send resumes it",
        "2024-07-12",
        [("t", "2024-07-12", "stopped", 2)],
        [("begun-elsewhere", "subject")],
    ),
    ("this issue's scheduled send was cancelled", "2024-07-12", [("t", "2024-07-12", "cancelled", 0)], []),
    ("a later issue was sent", "2024-07-12", [("2024-08-x", "2024-08-09", "finished", 5)], [("older-than-sent", "date")]),
    ("an earlier issue was sent", "2024-07-12", [("2024-05-x", "2024-05-10", "finished", 5)], []),
    ("a later issue's send was cancelled", "2024-07-12", [("2024-08-x", "2024-08-09", "cancelled", 0)], []),
]


@pytest.mark.parametrize(("date", "sent", "expected"), [c[1:] for c in SHARED], ids=[c[0] for c in SHARED])
def test_the_send_records_of_every_clone(
    project: Path, date: str, sent: list[tuple[str, str, str, int]], expected: list[tuple[str, str]]
) -> None:
    for slug, when, state, accepted in sent:
        _record(project, slug, when, state, accepted)
    found = [
        f
        for f in check(project, issue("Fresh news", date))
        if f.rule in ("already-sent", "older-than-sent", "begun-elsewhere", "record-not-committed")
    ]
    assert [(f.rule, f.field) for f in found] == expected, "\n".join(map(str, found))
    for f in found:
        if f.rule == "begun-elsewhere":
            assert f.severity == "warning" and "`newsletter send` resumes it" in f.hint
        else:
            assert f.severity == "error" and "--force" in f.hint


def test_a_record_not_committed_is_a_warning(project: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=project, check=True, timeout=60)
    _record(project, "2024-05-x", "2024-05-10")
    found = [f for f in check(project, issue("Fresh news", "2024-07-12")) if f.rule == "record-not-committed"]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "sends/2024-05-x.json" in found[0].message and "git add sends/2024-05-x.json" in found[0].hint
