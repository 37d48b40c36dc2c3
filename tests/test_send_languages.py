"""The send of an issue in several languages: readers grouped by the list's ``language``
column, each getting exactly one email in their language (or the default one, counted),
through the outbox and through the SendGrid test server."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import lxml.html

from tests.conftest import run_cli
from tests.sendgrid_server import KEY, SendGridServer
from tests.test_check_languages import TWO

ISSUE = "issues/2024-06-20-two.yaml"
SLUG = "2024-06-20-two"
LIST = """\
email,first_name,last_name,status,tags,subscribed_at,source,language
amina.okafor@example.org,Amina,Okafor,subscribed,community,2023-02-11,website,cy
ben.hughes@example.org,Ben,Hughes,subscribed,community,2023-05-02,eventbrite,en
chloe.martin@example.org,Chloé,Martin,subscribed,partners,2023-09-19,website,cy-GB
dev.patel@example.org,Dev,Patel,unsubscribed,community,2022-11-30,website,cy
eilidh.campbell@example.org,Eilidh,Campbell,subscribed,community,2024-01-08,import,fr
farah.haddad@example.org,,Haddad,subscribed,,2024-03-15,website,not a language
george.osei@example.org,George,Osei,subscribed,community,2022-06-01,import,
"""
WELSH = {"amina.okafor@example.org", "chloe.martin@example.org"}
ENGLISH = {"ben.hughes@example.org", "eilidh.campbell@example.org", "farah.haddad@example.org", "george.osei@example.org"}


def _project(project: Path) -> None:
    (project / ISSUE).write_text(TWO, encoding="utf-8")
    (project / "subscribers.csv").write_text(LIST, encoding="utf-8")


def _summary_holds(output: str) -> None:
    assert "Languages: en 4, cy 2" in output
    assert "2 reader(s) whose language the issue lacks get en: fr 1; 1 not a language tag" in output


def test_outbox_each_reader_one_email_in_their_language(project: Path) -> None:
    _project(project)
    result = run_cli("send", ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.output
    _summary_holds(result.output)
    files = sorted((project / "outbox" / SLUG).glob("*.eml"))
    got: dict[str, tuple[str, str | None]] = {}
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        to = msg["To"].addresses[0].addr_spec
        assert to not in got  # exactly one email each
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        lang = lxml.html.document_fromstring(html).get("lang")
        got[to] = (str(msg["Subject"]), lang)
        if to in WELSH:
            assert "Ein mis" in html and "20 Mehefin 2024" in text and "Our month" not in html
        else:
            assert "Our month" in html and "20 June 2024" in text and "Ein mis" not in html
    assert got == {
        **{to: ("Diweddariad Tîm Mehefin: sgyrsiau", "cy") for to in WELSH},
        **{to: ("June Team Update: conversations", "en") for to in ENGLISH},
    }


def test_sendgrid_each_request_in_one_language(project: Path, sendgrid_server: SendGridServer) -> None:
    _project(project)
    result = run_cli("send", ISSUE, "--yes", cwd=project, env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url})
    assert result.code == 0, result.output
    _summary_holds(result.output)
    assert sorted(sendgrid_server.log.accepted) == sorted(WELSH | ENGLISH)  # one each
    by_subject: dict[str, set[str]] = {}
    for body in sendgrid_server.log.requests:
        to = {p["to"][0]["email"] for p in body["personalizations"]}
        html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
        by_subject.setdefault(body["subject"], set()).update(to)
        if body["subject"].startswith("Diweddariad"):
            assert 'lang="cy"' in html and "Ein mis" in html and "Our month" not in html
        else:
            assert 'lang="en"' in html and "Our month" in html and "Ein mis" not in html
    assert by_subject == {"Diweddariad Tîm Mehefin: sgyrsiau": WELSH, "June Team Update: conversations": ENGLISH}
    assert sendgrid_server.log.invalid == []


def _one_language_each(server: SendGridServer) -> dict[str, set[str]]:
    by_subject: dict[str, set[str]] = {}
    for body in server.log.requests:
        to = {p["to"][0]["email"] for p in body["personalizations"]}
        html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
        assert ("Ein mis" in html) == body["subject"].startswith("Diweddariad"), body["subject"]
        by_subject.setdefault(body["subject"], set()).update(to)
    return by_subject


def test_a_resumed_send_keeps_each_readers_language(project: Path, sendgrid_server: SendGridServer) -> None:
    """Pending readers of two languages, side by side in the journal, are resumed in one
    request per language (here in a bigger batch than they were written in)."""
    _project(project)
    settings = project / "newsletter.yaml"
    plain = settings.read_text()
    settings.write_text(plain + "delivery:\n  batch_size: 2\n  retries: 0\n  max_failed_requests: 2\n")
    env = {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url}
    sendgrid_server.fail_next("500", "500")
    first = run_cli("send", ISSUE, "--yes", cwd=project, env=env)
    assert first.code == 1 and "paused" in first.err, first.output
    assert sendgrid_server.log.accepted == []
    settings.write_text(plain + "delivery:\n  batch_size: 10\n")
    again = run_cli("send", ISSUE, "--yes", cwd=project, env=env)
    assert again.code == 0, again.output
    assert sorted(sendgrid_server.log.accepted) == sorted(WELSH | ENGLISH)  # one each
    assert _one_language_each(sendgrid_server) == {
        "Diweddariad Tîm Mehefin: sgyrsiau": WELSH,
        "June Team Update: conversations": ENGLISH,
    }


def test_dry_run_counts_languages_and_samples_each_readers_language(project: Path) -> None:
    _project(project)
    result = run_cli("send", ISSUE, "--dry-run", "--provider", "outbox", cwd=project)
    _summary_holds(result.output)
    assert "payload and 3 sample message(s)" in result.out
    folder = project / "build" / "dry-run" / SLUG
    subjects = {}
    for path in sorted(folder.glob("sample-*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        subjects[msg["To"].addresses[0].addr_spec] = str(msg["Subject"])
    assert subjects == {  # the list's first three eligible readers
        "amina.okafor@example.org": "Diweddariad Tîm Mehefin: sgyrsiau",
        "ben.hughes@example.org": "June Team Update: conversations",
        "chloe.martin@example.org": "Diweddariad Tîm Mehefin: sgyrsiau",
    }
    payload = (folder / "request-1.json").read_text(encoding="utf-8")
    assert '"subject":"Diweddariad' in payload.replace(" ", "") and "ben.hughes" not in payload


def test_test_send_in_the_language_of_the_reader_it_is_personalised_as(project: Path) -> None:
    _project(project)
    for who, subject in (
        ("amina.okafor@example.org", "[TEST] Diweddariad Tîm Mehefin: sgyrsiau"),
        ("eilidh.campbell@example.org", "[TEST] June Team Update: conversations"),
    ):
        result = run_cli("send", ISSUE, "--test-to", "me@example.com", "--as", who, "--provider", "outbox", cwd=project)
        assert f"Test send of “{subject}”" in result.out, result.output


def test_validate_sends_one_language_per_request(project: Path, sendgrid_server: SendGridServer) -> None:
    _project(project)
    result = run_cli(
        "send", ISSUE, "--validate", cwd=project, env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url}
    )
    assert "sandbox accepted all 2 request(s) for 6 recipient(s)" in result.out, result.output
    assert sendgrid_server.log.invalid == []


def test_an_approval_covers_every_language(project: Path) -> None:
    """Approved, then only the Welsh changed: no longer the email approved (``approval:
    required``), the check names it; approved again, it is."""
    _project(project)
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("approval: required\n")
    approved = run_cli("approve", ISSUE, "--by", "reviewer@example.org", cwd=project)
    assert approved.code == 0, approved.output
    assert "[not-approved]" not in run_cli("check", ISSUE, cwd=project).out
    issue = project / ISSUE
    issue.write_text(issue.read_text(encoding="utf-8").replace("cy: Ein mis", "cy: Ein mis ni"), encoding="utf-8")
    changed = run_cli("check", ISSUE, cwd=project)
    assert "[not-approved]" in changed.out, changed.output
    assert run_cli("approve", ISSUE, "--by", "reviewer@example.org", cwd=project).code == 0
    assert "[not-approved]" not in run_cli("check", ISSUE, cwd=project).out
