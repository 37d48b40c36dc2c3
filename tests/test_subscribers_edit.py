"""Changing the list: unsubscribe and import through the real command line, atomic
writes that survive a SIGKILL, spreadsheet-safe cells, and nothing lost on bad input."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newsletter.audience import eligible, summarize
from newsletter.audience.atomic import locked
from newsletter.audience.csvfile import neutralize, unneutralize
from tests.conftest import REPO, run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "subscribers"
TODAY = dt.date.today().isoformat()


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        return list(csv.DictReader(fh, delimiter=delimiter))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- unsubscribe


def test_unsubscribe_in_another_case_records_date_and_reason(project: Path) -> None:
    r = run_cli("subscribers", "unsubscribe", "AMINA.Okafor@Example.org", "--reason", "moved away", cwd=project)
    assert r.code == 0, r.output
    assert "subscribers.csv: AMINA.Okafor@example.org: unsubscribed (line 2)" in r.out
    amina = rows(project / "subscribers.csv")[0]
    assert (amina["status"], amina["unsubscribed_at"], amina["unsubscribe_reason"]) == ("unsubscribed", TODAY, "moved away")
    assert "amina.okafor@example.org" not in [p.email for p in eligible(project / "subscribers.csv")]
    before = digest(project / "subscribers.csv")
    again = run_cli("subscribers", "unsubscribe", "amina.okafor@example.org", cwd=project)
    assert again.code == 0 and "already unsubscribed (line 2)" in again.out
    assert digest(project / "subscribers.csv") == before  # nothing to change: not rewritten


def test_unsubscribe_of_an_unknown_address_adds_it_so_no_import_resubscribes_it(project: Path) -> None:
    r = run_cli("subscribers", "unsubscribe", "stranger@example.net", cwd=project)
    assert r.code == 0 and "stranger@example.net: not in the list: added as unsubscribed" in r.out
    last = rows(project / "subscribers.csv")[-1]
    assert (last["email"], last["status"], last["source"]) == ("stranger@example.net", "unsubscribed", "unsubscribe")
    (project / "back.csv").write_text("email,first_name\nStranger@Example.net,Stranger\n")
    imp = run_cli("subscribers", "import", "back.csv", cwd=project)
    assert imp.code == 0, imp.output
    assert "skipped  back.csv:2: Stranger@example.net: unsubscribed on line 9: an import never resubscribes anyone" in imp.out


def test_unsubscribe_every_row_of_an_address_but_complained_stays(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.csv"
    path.write_text("email,status\nsam@example.org,subscribed\nSAM@example.org,\nsam@EXAMPLE.org,complained\nkim@example.org,\n")
    r = run_cli("subscribers", "unsubscribe", "sam@example.org", cwd=tmp_path)
    assert r.code == 0 and "sam@example.org: unsubscribed (lines 2, 3)" in r.out
    assert [row["status"] for row in rows(path)] == ["unsubscribed", "unsubscribed", "complained", ""]
    s = summarize(path)
    assert (s.complained, s.unsubscribed, s.eligible) == (1, 0, 1)


def test_unsubscribe_bad_input_changes_nothing(project: Path) -> None:
    before = digest(project / "subscribers.csv")
    r = run_cli("subscribers", "unsubscribe", "ben.hughes@example.org", "bad@@x", "a@b", cwd=project)
    assert r.code == 2 and "Traceback" not in r.output
    assert "command line: EMAIL: 'bad@@x': The part after the @-sign contains invalid characters" in r.err
    assert "command line: EMAIL: 'a@b':" in r.err
    r = run_cli("subscribers", "unsubscribe", "ben.hughes@example.org", "--reason", "two\nlines", cwd=project)
    assert r.code == 2 and "--reason: the reason must be one line" in r.err
    r = run_cli("subscribers", "unsubscribe", "ben.hughes@example.org", "--list", "missing.csv", cwd=project)
    assert r.code == 2 and "missing.csv: no such file" in r.err
    assert digest(project / "subscribers.csv") == before


def test_a_list_with_unreadable_rows_is_never_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.csv"
    path.write_text('email,first_name\nok@example.org,Ok\nx@example.org,"Sm"ith\nlast@example.org,Last\n')
    before = digest(path)
    r = run_cli("subscribers", "unsubscribe", "ok@example.org", cwd=tmp_path)
    assert r.code == 2, r.output
    assert "subscribers.csv: rows that cannot be read; the list was not changed" in r.err
    assert "subscribers.csv:3: not valid CSV" in r.err
    assert digest(path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_writes_keep_bom_delimiter_line_endings_unknown_columns_and_order(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.csv"
    shutil.copy(FIXTURES / "excel_semicolon_bom.csv", path)
    r = run_cli("subscribers", "unsubscribe", "chloe.martin@example.org", cwd=tmp_path)
    assert r.code == 0, r.output
    data = path.read_bytes()
    assert data.startswith(
        b"\xef\xbb\xbfEmail ; First_Name;last_name;Status;tags;subscribed_at;source;company;unsubscribed_at\r\n"
    )
    assert data.count(b"\r\n") == 7 and b"\n" not in data.replace(b"\r\n", b"")
    written = rows(path)
    assert [row["source"] for row in written] == ["website", "eventbrite", "website", "website", "import", "website"]
    assert written[0]["company"] == "Okafor; Sons"
    assert written[3]["Status"] == "unsubscribed" and written[3]["company"] == "Café Ltd"


def test_formula_like_cells_are_neutralised_when_written_and_read_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.csv"
    shutil.copy(FIXTURES / "hand_edited.csv", path)
    before = summarize(path)
    r = run_cli("subscribers", "unsubscribe", "good.one@example.org", cwd=tmp_path)
    assert r.code == 0, r.output
    text = path.read_text(encoding="utf-8")
    assert "formula.name@example.org,'=1+2,'@SUM(A1)," in text
    assert "plus.name@example.org,'+44 20 7946 0000,'-minus," in text
    assert "\n\"'=HYPERLINK(" in text
    for line in text.splitlines():
        for cell in next(csv.reader([line])):
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), line
    after = summarize(path)
    assert (after.invalid, after.duplicates, after.total) == (before.invalid, before.duplicates, before.total)
    assert after.eligible == before.eligible - 1
    people = {p.email: p for p in eligible(path)}
    assert people["formula.name@example.org"].first_name == "=1+2"
    assert people["plus.name@example.org"].last_name == "-minus"
    assert [p.message for p in after.problems if p.line == 13] == [
        '\'=HYPERLINK(""http://evil.example/"")\': An email address must have an @-sign.'
    ]


@pytest.mark.parametrize("value", ["=1+2", "+1", "-1", "@x", "\tx", "\rx", "'=x", "''+x", "'plain", "plain", "", "'", "a=b"])
def test_neutralise_round_trips(value: str) -> None:
    written = neutralize(value)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralize(written) == value


# ---------------------------------------------------------------- import


def test_import_a_mailchimp_export(project: Path) -> None:
    shutil.copy(FIXTURES / "mailchimp_subscribed.csv", project)
    r = run_cli("subscribers", "import", "mailchimp_subscribed.csv", cwd=project)
    assert r.code == 0, r.output
    out = r.out
    assert "mailchimp_subscribed.csv (Mailchimp export) → subscribers.csv" in out
    assert "added 1   updated 1   skipped 4" in out
    assert "added    mailchimp_subscribed.csv:2: new.person@example.org: new address" in out
    assert "updated  mailchimp_subscribed.csv:5: farah.haddad@example.org: line 7: first name filled" in out
    assert "skipped  mailchimp_subscribed.csv:3: Amina.Okafor@example.org: already in the list (line 2), nothing new" in out
    assert (
        "skipped  mailchimp_subscribed.csv:4: dev.patel@example.org: unsubscribed on line 5: "
        "an import never resubscribes anyone" in out
    )
    assert (
        "skipped  mailchimp_subscribed.csv:6: not-an-address: not a valid address: An email address must have an @-sign." in out
    )
    assert "skipped  mailchimp_subscribed.csv:7: NEW.PERSON@example.org: same address as line 2 of this file" in out
    assert "columns not imported: MEMBER_RATING, OPTIN_IP, CONFIRM_TIME, LEID, EUID" in out
    written = rows(project / "subscribers.csv")
    assert written[-1] == {
        "email": "new.person@example.org",
        "first_name": "New",
        "last_name": "Person",
        "status": "subscribed",
        "tags": "events;community",
        "subscribed_at": "2024-05-01",
        "source": "import:mailchimp_subscribed.csv",
    }
    assert written[5]["first_name"] == "Farah"
    assert written[3]["status"] == "unsubscribed"  # Dev stays unsubscribed


def test_import_with_a_tag_updates_existing_subscribers(project: Path) -> None:
    shutil.copy(FIXTURES / "eventbrite_attendees.csv", project)
    r = run_cli("subscribers", "import", "eventbrite_attendees.csv", "--tag", "Summer Cuppa", cwd=project)
    assert r.code == 0, r.output
    assert "(Eventbrite attendee export)" in r.out
    assert "added    eventbrite_attendees.csv:2: priya.shah@example.org: new address" in r.out
    assert (
        "skipped  eventbrite_attendees.csv:3: george.osei@example.org: bounced on line 8: an import never resubscribes anyone"
        in r.out
    )
    assert "updated  eventbrite_attendees.csv:4: ben.hughes@example.org: line 3: tag summer cuppa added" in r.out
    written = rows(project / "subscribers.csv")
    assert written[1]["tags"] == "community;summer cuppa"
    assert (written[-1]["email"], written[-1]["subscribed_at"], written[-1]["tags"]) == (
        "priya.shah@example.org",
        "2024-06-20",
        "summer cuppa",
    )
    s = summarize(project / "subscribers.csv")
    assert s.by_tag["summer cuppa"] == 2 and s.bounced == 1


def test_import_a_mailchimp_unsubscribed_export_records_the_unsubscribes(project: Path) -> None:
    shutil.copy(FIXTURES / "mailchimp_unsubscribed.csv", project)
    r = run_cli("subscribers", "import", "mailchimp_unsubscribed.csv", cwd=project)
    assert r.code == 0, r.output
    assert "updated  mailchimp_unsubscribed.csv:2: ben.hughes@example.org: now unsubscribed (was subscribed, line 3)" in r.out
    assert "added    mailchimp_unsubscribed.csv:3: gone.before@example.org: new address, recorded as unsubscribed" in r.out
    emails = [p.email for p in eligible(project / "subscribers.csv")]
    assert "ben.hughes@example.org" not in emails and "gone.before@example.org" not in emails


def test_import_bad_files_change_nothing(project: Path) -> None:
    before = digest(project / "subscribers.csv")
    (project / "nomail.csv").write_text("name,phone\nx,1\n")
    r = run_cli("subscribers", "import", "nomail.csv", cwd=project)
    assert r.code == 2 and "nomail.csv:1: no email column in the header" in r.err
    (project / "broken.csv").write_text('Email Address,First Name\na@example.org,"A"x\n')
    r = run_cli("subscribers", "import", "broken.csv", cwd=project)
    assert r.code == 2 and "broken.csv: rows that cannot be read; nothing was imported" in r.err
    r = run_cli("subscribers", "import", "absent.csv", cwd=project)
    assert r.code == 2 and "absent.csv: no such file" in r.err
    assert "Traceback" not in r.output
    assert digest(project / "subscribers.csv") == before


# ---------------------------------------------------------------- atomic writes


def big_list(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("email,first_name,last_name,status,tags,subscribed_at,source\n")
        fh.writelines(f"person{i}@example.org,First{i},Last{i},subscribed,community,2024-01-01,website\n" for i in range(n))


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_process_killed_in_the_middle_of_a_write_leaves_the_list_intact(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.csv"
    big_list(path, 200_000)
    before = digest(path)
    env = {k: v for k, v in os.environ.items()} | {"PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "subscribers", "unsubscribe", "person199999@example.org"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    partial = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        temporaries = [p for p in tmp_path.iterdir() if p.name.startswith(".subscribers.csv.") and p.name.endswith(".tmp")]
        if temporaries and temporaries[0].stat().st_size > 500_000:
            partial = temporaries[0].stat().st_size
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    assert proc.wait() == -signal.SIGKILL, "the write finished before it could be interrupted"
    assert 500_000 < partial < path.stat().st_size
    assert digest(path) == before  # the old list, byte for byte
    assert summarize(path).eligible == 200_000

    # The next write cleans up what the killed one left and completes.
    r = run_cli("subscribers", "unsubscribe", "person199999@example.org", cwd=tmp_path)
    assert r.code == 0, r.output
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    s = summarize(path)
    assert (s.eligible, s.unsubscribed) == (199_999, 1)


def test_writers_wait_for_each_other(project: Path) -> None:
    path = project / "subscribers.csv"
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with locked(path):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    env = dict(os.environ) | {"PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "subscribers", "unsubscribe", "ben.hughes@example.org"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    assert proc.poll() is None  # waiting for the lock
    release.set()
    holder.join()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "ben.hughes@example.org: unsubscribed (line 3)" in out
