"""Consent columns of other tools' exports: what an import makes of each, and the question
it asks when it cannot tell; ``subscribers check`` of the export says the same first."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from newsletter.audience import ConsentAnswer, import_list, summarize
from newsletter.audience.consent import PENDING, UNSUBSCRIBED, read_value
from newsletter.audience.validate import SUBSCRIBED
from newsletter.errors import InputError
from tests.conftest import run_cli

LIST_HEADER = "email,first_name,last_name,status,tags,subscribed_at,source\n"


@dataclass(frozen=True)
class Export:
    name: str
    text: str
    statuses: dict[str, str] = field(default_factory=dict)
    """Address → the status the import gives it (absent: not added)."""
    question: str = ""
    """Words of the question the import asks instead (then nothing is imported)."""
    answer: ConsentAnswer = ConsentAnswer()
    bom_crlf: bool = False


EXPORTS = [
    Export(
        "mailchimp subscribed",
        (
            '"Email Address","First Name","Last Name","MEMBER_RATING","OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","LEID"\n'
            '"ann@example.org","Ann","A",2,"2024-05-01 10:11:12","","2024-05-01 10:12:00",1\n'
        ),
        {"ann@example.org": "subscribed"},
    ),
    Export(
        "mailchimp unsubscribed",
        (
            '"Email Address","First Name","MEMBER_RATING","OPTIN_TIME","UNSUB_TIME","UNSUB_CAMPAIGN_TITLE",'
            '"UNSUB_REASON","LEID"\n"bob@example.org","Bob",2,"2023-05-02","2024-04-01 12:00:00","April","No",1\n'
        ),
        {"bob@example.org": "unsubscribed"},
    ),
    Export(
        "mailchimp cleaned",
        (
            '"Email Address","MEMBER_RATING","OPTIN_TIME","CLEAN_TIME","CLEAN_CAMPAIGN_TITLE","LEID"\n'
            '"cat@example.org",1,"2023-01-01","2024-02-02 10:00:00","Feb",3\n'
        ),
        {"cat@example.org": "bounced"},
    ),
    Export(
        "mailchimp contacts with Email Marketing",
        (
            "Email Address,First Name,Email Marketing,TAGS\n"
            "a@example.org,A,Subscribed,\nb@example.org,B,Unsubscribed,\nc@example.org,C,Non-Subscribed,\n"
            "d@example.org,D,Cleaned,\ne@example.org,E,Pending,\n"
        ),
        {
            "a@example.org": "subscribed",
            "b@example.org": "unsubscribed",
            "c@example.org": "unsubscribed",
            "d@example.org": "bounced",
        },
    ),
    Export(
        "substack",
        (
            "email,active_subscription,expiry,plan,email_disabled,created_at,first_payment_at\n"
            "s1@example.org,true,,free,false,2024-01-02T10:00:00.000Z,\n"
            "s2@example.org,true,,free,true,2024-01-03T10:00:00.000Z,\n"
            "s3@example.org,false,2024-03-01,paid,false,2023-01-03T10:00:00.000Z,2023-01-03\n"
        ),
        {"s1@example.org": "subscribed", "s2@example.org": "unsubscribed", "s3@example.org": "unsubscribed"},
    ),
    Export(
        "crm with Subscribed? (BOM, semicolons, CRLF)",
        (
            "Email Address;First Name;Last Name;Subscribed?;Date Joined;Phone\n"
            "ann@example.org;Ann;A;yes;12/03/2023;0123\nbob@example.org;Bob;B;no;12/03/2023;0123\n"
            "cat@example.org;Cat;C;n;12/03/2023;0123\ndan@example.org;Dan;D;Y;12/03/2023;0123\n"
        ),
        {
            "ann@example.org": "subscribed",
            "bob@example.org": "unsubscribed",
            "cat@example.org": "unsubscribed",
            "dan@example.org": "subscribed",
        },
        bom_crlf=True,
    ),
    Export(
        "sheet with Opt-in TRUE/FALSE",
        ("Email,Name,Opt-in\nt@example.org,T,TRUE\nf@example.org,F,FALSE\none@example.org,O,1\nzero@example.org,Z,0\n"),
        {
            "t@example.org": "subscribed",
            "f@example.org": "unsubscribed",
            "one@example.org": "subscribed",
            "zero@example.org": "unsubscribed",
        },
    ),
    Export(
        "unsubscribed column, and do-not-email",
        ("email,Unsubscribed,Do Not Email\nu1@example.org,no,\nu2@example.org,yes,\nu3@example.org,,yes\n"),
        {"u1@example.org": "subscribed", "u2@example.org": "unsubscribed", "u3@example.org": "unsubscribed"},
    ),
    Export(
        "our own columns with other tools' words",
        ("email,status\nw1@example.org,Active\nw2@example.org,spam\nw3@example.org,\nw4@example.org,opted out\n"),
        {
            "w1@example.org": "subscribed",
            "w2@example.org": "complained",
            "w3@example.org": "subscribed",
            "w4@example.org": "unsubscribed",
        },
    ),
    Export(
        "unreadable values",
        ("email,Consent\nq1@example.org,yes\nq2@example.org,maybe\nq3@example.org,\nq4@example.org,maybe\n"),
        question="3 rows do not say clearly whether the person agreed",
    ),
    Export(
        "unreadable values answered with --yes-means",
        ("email,Consent\nq1@example.org,yes\nq2@example.org,maybe\nq3@example.org,\nq4@example.org,Agreed by phone\n"),
        {
            "q1@example.org": "subscribed",
            "q2@example.org": "unsubscribed",
            "q3@example.org": "unsubscribed",
            "q4@example.org": "subscribed",
        },
        answer=ConsentAnswer(yes_means=("agreed by phone",)),
    ),
    Export(
        "a column that looks like consent",
        ("email,Marketing Permission Given\nm1@example.org,Y\nm2@example.org,N\n"),
        question="which column says whether each person agreed?",
    ),
    Export(
        "the look-alike named with --status-column",
        ("email,Marketing Permission Given\nm1@example.org,Y\nm2@example.org,N\n"),
        {"m1@example.org": "subscribed", "m2@example.org": "unsubscribed"},
        answer=ConsentAnswer(status_column="marketing permission given"),
    ),
]


def write_export(path: Path, export: Export) -> None:
    text = export.text.replace("\n", "\r\n") if export.bom_crlf else export.text
    path.write_bytes((b"\xef\xbb\xbf" if export.bom_crlf else b"") + text.encode("utf-8"))


def statuses(list_path: Path) -> dict[str, str]:
    with open(list_path, encoding="utf-8-sig", newline="") as fh:
        return {row["email"]: row["status"] or "subscribed" for row in csv.DictReader(fh)}


@pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])
def test_an_export_gets_the_statuses_it_says_or_the_import_asks(tmp_path: Path, export: Export) -> None:
    source = tmp_path / "export.csv"
    write_export(source, export)
    list_path = tmp_path / "subscribers.csv"
    list_path.write_text(LIST_HEADER)
    if export.question:
        before = list_path.read_bytes()
        with pytest.raises(InputError) as raised:
            import_list(list_path, source, answer=export.answer)
        assert export.question in str(raised.value)
        assert list_path.read_bytes() == before
        checked = summarize(source)  # `subscribers check` of the export says so too
        assert checked.questions or checked.invalid
        return
    import_list(list_path, source, answer=export.answer)
    assert statuses(list_path) == export.statuses
    if export.answer == ConsentAnswer():  # `subscribers check` of the export counts the same readers
        checked = summarize(source)
        subscribed = sum(1 for s in export.statuses.values() if s == "subscribed")
        assert (checked.eligible, checked.invalid, checked.questions) == (subscribed, 0, [])


def test_the_question_is_asked_in_words_with_the_option_that_answers_it(project: Path) -> None:
    write_export(project / "crm.csv", EXPORTS[9])
    before = hashlib.sha256((project / "subscribers.csv").read_bytes()).hexdigest()
    r = run_cli("subscribers", "import", "crm.csv", cwd=project)
    assert r.code == 2 and "Traceback" not in r.output
    assert "crm.csv:3: Consent: 'maybe' (and 1 more row): did this person agree to get email?" in r.err
    assert "crm.csv:4: Consent: empty: did this person agree to get email?" in r.err
    assert "--yes-means VALUE" in r.err
    assert hashlib.sha256((project / "subscribers.csv").read_bytes()).hexdigest() == before
    (project / "sheet.csv").write_text("email,GDPR OK\nm1@example.org,Y\n")
    r = run_cli("subscribers", "import", "sheet.csv", cwd=project)
    assert r.code == 2
    assert "sheet.csv:1:2: GDPR OK: this column looks like it says whether people agreed" in r.err
    assert "--status-column 'GDPR OK'" in r.err
    r = run_cli("subscribers", "import", "sheet.csv", "--status-column", "GDPR OK", cwd=project)
    assert r.code == 0, r.output
    assert "added    sheet.csv:2: m1@example.org: new address" in r.out
    r = run_cli("subscribers", "import", "sheet.csv", "--status-column", "Nope", cwd=project)
    assert r.code == 2 and "no column named 'Nope'" in r.err
    r = run_cli("subscribers", "check", "--list", "crm.csv", cwd=project)
    assert r.code == 1 and "crm.csv:3: Consent: 'maybe' does not say whether this person agreed" in r.out


def test_a_no_is_kept_so_a_later_import_never_resubscribes(tmp_path: Path) -> None:
    list_path = tmp_path / "subscribers.csv"
    list_path.write_text(LIST_HEADER)
    first = tmp_path / "first.csv"
    first.write_text("Email Address,Subscribed?\nbob@example.org,no\n")
    import_list(list_path, first)
    again = tmp_path / "again.csv"
    again.write_text("Email Address,Subscribed?\nbob@example.org,yes\n")
    result = import_list(list_path, again)
    assert statuses(list_path) == {"bob@example.org": "unsubscribed"}
    assert "an import never resubscribes anyone" in result.outcomes[0].reason


@pytest.mark.parametrize(
    ("kind", "value", "rank"),
    [
        ("yes", "Yes", SUBSCRIBED),
        ("yes", " n ", UNSUBSCRIBED),
        ("yes", "TRUE", SUBSCRIBED),
        ("yes", "0", UNSUBSCRIBED),
        ("yes", "", None),
        ("no", "", SUBSCRIBED),
        ("no", "true", UNSUBSCRIBED),
        ("no", "Unsubscribed", UNSUBSCRIBED),
        ("state", "Non-Subscribed", UNSUBSCRIBED),
        ("state", "pending", PENDING),
        ("status", "", SUBSCRIBED),
        ("yes", "perhaps", None),
        ("unsub_time", "2024-01-01", UNSUBSCRIBED),
        ("clean_time", "", SUBSCRIBED),
    ],
)
def test_values_read_as_people_write_them(kind: str, value: str, rank: int | None) -> None:
    assert read_value(kind, value) == rank
