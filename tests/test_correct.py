"""``newsletter correct``: the page, feed and calendar say what changed, and ``--email``
tells exactly the readers of the original send who are still eligible — counted by the
SendGrid-compatible test server, resumed after a stop without anyone getting it twice."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
from pathlib import Path

import feedparser
import icalendar
import lxml.html

from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.sendgrid_server import KEY, SendGridServer
from tests.test_send_cli import ELIGIBLE

AUGUST = "2024-08-06-co-pro-cuppa"
SENT = dt.datetime(2024, 6, 14, 8, 0, tzinfo=dt.timezone.utc)
FIXED = dt.datetime(2024, 6, 18, 10, 0, tzinfo=dt.timezone.utc)


def cli(project: Path, server: SendGridServer | None, *args: str, at: dt.datetime = FIXED) -> CliResult:
    env = {"SOURCE_DATE_EPOCH": str(int(at.timestamp()))}
    if server is not None:
        env |= {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url}
    return run_cli(*args, cwd=project, env=env)


def move_august(project: Path) -> None:
    issue = project / EXAMPLE_ISSUE
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("start: 2024-08-06 15:00", "start: 2024-08-06 16:00"), encoding="utf-8"
    )


def test_a_correction_is_noted_on_the_page_in_the_feed_and_in_calendars(project: Path) -> None:
    assert cli(project, None, "publish", at=SENT).code == 0
    move_august(project)
    result = cli(project, None, "correct", EXAMPLE_ISSUE)
    assert result.code == 0, result.output
    note = "Co-Pro Cuppa on Tuesday 6 August 2024 is now at 16:00 (UK time) (was 15:00 (UK time))."
    assert f"Correction 1 of {EXAMPLE_ISSUE}, 18 June 2024: {note}" in result.out
    assert "--email" in result.out  # nobody was emailed, and the editor is told how
    site = project / "site"
    page = lxml.html.fromstring((site / "2024-06-june-team-update.html").read_bytes())
    assert isinstance(page, lxml.html.HtmlElement)
    (box,) = page.find_class("nl-correction")
    assert " ".join(box.text_content().split()) == f"Corrected 18 June 2024: {note}"
    assert box.getprevious().tag == "h1"
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert dt.datetime(*feed.entries[0].updated_parsed[:6]).replace(tzinfo=dt.timezone.utc) == FIXED
    (event,) = icalendar.Calendar.from_ical((site / "events" / f"{AUGUST}.ics").read_bytes()).walk("VEVENT")
    assert event["sequence"] == 1 and event.decoded("dtstamp") == FIXED
    # correcting again with nothing changed is refused before the first correction... and
    # after it, the last correction is the one meant (its email can still go)
    again = cli(project, None, "correct", EXAMPLE_ISSUE)
    assert again.code == 0 and "Nothing changed since correction 1" in again.out
    assert len(box.getparent().find_class("nl-correction")) == 1


def test_correct_refuses_what_it_cannot_do(project: Path) -> None:
    unpublished = cli(project, None, "correct", EXAMPLE_ISSUE)
    assert unpublished.code == 2 and "has not been published" in unpublished.err
    assert cli(project, None, "publish").code == 0
    unchanged = cli(project, None, "correct", EXAMPLE_ISSUE)
    assert unchanged.code == 2 and "as its readers last saw it" in unchanged.err
    missing = cli(project, None, "correct", "issues/nope.yaml")
    assert missing.code == 2 and "no such issue file" in missing.err
    move_august(project)
    never_sent = cli(project, None, "correct", EXAMPLE_ISSUE, "--email", "--yes")
    assert never_sent.code == 2 and "no recorded send" in never_sent.err
    for result in (unpublished, unchanged, missing, never_sent):
        assert "Traceback" not in result.output


def test_the_correction_email_reaches_exactly_the_original_readers_still_eligible(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "delivery:\n  batch_size: 2\n  retries: 0\n", encoding="utf-8")
    assert cli(project, None, "publish", at=SENT).code == 0
    sent = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", at=SENT)
    assert sent.code == 0, sent.output
    assert set(sendgrid_server.log.accepted) == ELIGIBLE
    # since the send: one reader unsubscribes, one new reader joins
    gone = "amina.okafor@example.org"
    assert cli(project, None, "subscribers", "unsubscribe", gone).code == 0
    with (project / "subscribers.csv").open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with (project / "subscribers.csv").open("a", encoding="utf-8", newline="") as fh:
        row = {"email": "newcomer@example.org", "first_name": "New", "status": "subscribed", "tags": "community"}
        csv.writer(fh).writerow([row.get(column, "") for column in header])
    move_august(project)
    sendgrid_server.log.accepted.clear()
    sendgrid_server.fail_next("ok", "400")  # the second request is refused: the send stops part-way
    stopped = cli(project, sendgrid_server, "correct", EXAMPLE_ISSUE, "--email", "--yes", "--no-sync")
    assert stopped.code == 1, stopped.output
    assert "Traceback" not in stopped.output
    first = list(sendgrid_server.log.accepted)
    assert len(first) == 2
    resumed = cli(project, sendgrid_server, "correct", EXAMPLE_ISSUE, "--email", "--yes", "--no-sync")
    assert resumed.code == 0, resumed.output
    assert "Nothing changed since correction 1" in resumed.out
    counts = sendgrid_server.counts
    assert set(counts) == ELIGIBLE - {gone} and set(counts.values()) == {1}  # each once, nobody else
    subjects = {r["subject"] for r in sendgrid_server.log.requests[-2:]}
    assert subjects == {"Correction: June Team Update: Building on meaningful conversations"}
    # finished: asking again sends nothing
    done = cli(project, sendgrid_server, "correct", EXAMPLE_ISSUE, "--email", "--yes", "--no-sync")
    assert done.code == 0 and sum(sendgrid_server.counts.values()) == 4


def test_a_correction_of_june_after_july_was_sent_is_not_refused_as_older(project: Path, sendgrid_server: SendGridServer) -> None:
    """The June issue's correction email goes out though a later issue was sent since (a
    correction is a send of a sent issue on purpose); it keeps a send record of its own."""
    assert cli(project, None, "publish", at=SENT).code == 0
    assert cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", at=SENT).code == 0
    july = project / "issues" / "2024-07-july-update.yaml"
    text = (project / EXAMPLE_ISSUE).read_text(encoding="utf-8")
    july.write_text(
        text.replace("date: 2024-06-14", "date: 2024-06-28").replace('subject: "June', 'subject: "July'), encoding="utf-8"
    )
    later = cli(project, sendgrid_server, "send", "issues/2024-07-july-update.yaml", "--yes", at=SENT)
    assert later.code == 0, later.output
    move_august(project)
    fixed = cli(project, sendgrid_server, "correct", EXAMPLE_ISSUE, "--email", "--yes", "--no-sync")
    assert fixed.code == 0, fixed.output
    assert "[older-than-sent]" not in fixed.output and "[already-sent]" not in fixed.output
    slug = Path(EXAMPLE_ISSUE).stem
    assert (project / "sends" / f"{slug}-correction-1.json").is_file()
    assert (project / "sends" / f"{slug}.json").is_file()  # the original send's record is its own


def test_a_correction_of_an_issue_in_two_languages_is_noted_on_each_page_in_its_words(project: Path) -> None:
    bilingual = "issues/2024-06-14-bilingual.yaml"
    source = Path(__file__).parent.parent / "issues" / "examples" / "2024-06-june-team-update-bilingual.yaml"
    (project / bilingual).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli(project, None, "publish", at=SENT).code == 0
    issue = project / bilingual
    text = issue.read_text(encoding="utf-8")
    assert "start: 2024-08-06 15:00" in text
    issue.write_text(text.replace("start: 2024-08-06 15:00", "start: 2024-08-06 16:00"), encoding="utf-8")
    result = cli(project, None, "correct", bilingual, "--note", "The August Cuppa starts at 16:00.")
    assert result.code == 0, result.output

    def note(name: str) -> str:
        page = lxml.html.fromstring((project / "site" / name).read_bytes())
        assert isinstance(page, lxml.html.HtmlElement)
        (box,) = page.find_class("nl-correction")
        return " ".join(box.text_content().split())

    assert note("2024-06-14-bilingual.html") == "Corrected 18 June 2024: The August Cuppa starts at 16:00."
    assert note("2024-06-14-bilingual.cy.html") == "Cywirwyd 18 Mehefin 2024: The August Cuppa starts at 16:00."


def test_the_correction_email_of_an_issue_in_two_languages_goes_in_each_readers_language(project: Path) -> None:
    from tests.test_check_languages import TWO
    from tests.test_send_languages import ENGLISH, LIST, WELSH

    issue = project / "issues" / "2024-06-20-two.yaml"
    issue.write_text(TWO, encoding="utf-8")
    (project / "subscribers.csv").write_text(LIST, encoding="utf-8")
    out, later = dt.datetime(2024, 6, 20, 8, 0, tzinfo=dt.timezone.utc), dt.datetime(2024, 6, 25, 10, 0, tzinfo=dt.timezone.utc)
    sent = cli(project, None, "send", "issues/2024-06-20-two.yaml", "--yes", "--provider", "outbox", at=out)
    assert sent.code == 0, sent.output
    assert cli(project, None, "publish", at=out).code == 0
    issue.write_text(TWO.replace("Sharing, cy: Rhannu", "Sharing widely, cy: Rhannu yn eang"), encoding="utf-8")
    result = cli(
        project,
        None,
        "correct",
        "issues/2024-06-20-two.yaml",
        "--note",
        "A word added.",
        "--email",
        "--yes",
        "--provider",
        "outbox",
        at=later,
    )
    assert result.code == 0, result.output
    got: dict[str, tuple[str, str]] = {}
    for path in (project / "outbox" / "2024-06-20-two-correction-1").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        got[msg["To"].addresses[0].addr_spec] = (str(msg["Subject"]), " ".join(text.split()))
    assert set(got) == WELSH | ENGLISH  # each reader of the send once
    for to in WELSH:
        subject, text = got[to]
        assert subject == "Cywiriad: Diweddariad Tîm Mehefin: sgyrsiau"
        assert "Rydym wedi cywiro rhifyn 20 Mehefin 2024, Diweddariad Tîm Mehefin (25 Mehefin 2024): A word added." in text
        assert (
            "Darllen y rhifyn wedi’i gywiro: https://www.coproductioncollective.co.uk/newsletters/2024-06-20-two.cy.html" in text
        )
    for to in ENGLISH:
        subject, text = got[to]
        assert subject == "Correction: June Team Update: conversations"
        assert "We have corrected the 20 June 2024 issue, June Team Update (25 June 2024): A word added." in text
        assert "Read the corrected issue: https://www.coproductioncollective.co.uk/newsletters/2024-06-20-two.html" in text
