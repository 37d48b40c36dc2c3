"""Reading messy lists: Excel's BOM and semicolons, quoted commas, mixed-case duplicates,
invalid addresses, line breaks inside cells, repeated unsubscribes, formula-like names —
and bad files, each with a clear ``file:line: message``, exit code 2 and no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from newsletter.audience import eligible, summarize
from newsletter.errors import InputError
from newsletter.issue.model import Audience
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "subscribers"


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    """The fixture lists copied to a temporary folder (reading leaves a cache beside them)."""
    folder = tmp_path / "lists"
    shutil.copytree(FIXTURES, folder)
    return folder


def test_excel_export_with_bom_semicolons_crlf_and_spaced_headers(lists: Path) -> None:
    s = summarize(lists / "excel_semicolon_bom.csv")
    assert (s.total, s.subscribed, s.unsubscribed, s.bounced, s.invalid, s.duplicates, s.eligible) == (6, 3, 1, 1, 0, 1, 3)
    header_warnings = [str(w) for w in s.warnings if w.line == 1]
    assert len(header_warnings) == 2
    assert header_warnings[0].endswith(
        "excel_semicolon_bom.csv:1:1: Email: header 'Email ' has spaces around it; read as 'Email'"
    )
    assert header_warnings[1].endswith(
        "excel_semicolon_bom.csv:1:2: First_Name: header ' First_Name' has spaces around it; read as 'First_Name'"
    )
    people = {p.email: p for p in eligible(lists / "excel_semicolon_bom.csv")}
    # BEN.HUGHES@Example.org is subscribed on line 3 but unsubscribed on line 4: the unsubscribe wins.
    assert sorted(people) == ["amina.okafor@example.org", "chloe.martin@example.org", "zoë@bücher.example"]
    amina = people["amina.okafor@example.org"]
    assert amina.fields == {"subscribed_at": "2023-02-11", "source": "website", "company": "Okafor; Sons"}
    assert amina.line == 2 and amina.tags == ("community",)
    assert people["chloe.martin@example.org"].first_name == "Chloé"


def test_hand_edited_list_counts_every_row_once(lists: Path) -> None:
    s = summarize(lists / "hand_edited.csv")
    assert s.total == s.invalid + s.duplicates + s.subscribed + s.unsubscribed + s.bounced + s.complained
    assert s.subscribed == s.eligible + s.excluded_by_tags + s.held
    assert (s.total, s.invalid, s.duplicates, s.subscribed, s.unsubscribed, s.held, s.eligible) == (17, 8, 3, 5, 1, 2, 3)
    assert s.by_tag == {"cuppas": 2, "community": 1}


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (4, "email: 'bad@@x': The part after the @-sign contains invalid characters: '@'."),
        (5, "email: 'a@b': The part after the @-sign is not valid. It should have a period."),
        (6, "email: 'user@localhost': The part after the @-sign is not valid. It should have a period."),
        (7, "email: 'john..doe@example.com': An email address cannot have two periods in a row."),
        (8, "email: 'line@exam\\nple.org': the address contains a line break"),
        (13, 'email: \'=HYPERLINK(""http://evil.example/"")\': An email address must have an @-sign.'),
        (17, "status: unknown status 'unsubscirbed'; this address is not mailed until it is fixed"),
        (18, "email: 'broken.unsub @example.org': The email address contains invalid characters before the @-sign"),
    ],
)
def test_each_invalid_row_is_reported_at_its_line(lists: Path, line: int, text: str) -> None:
    s = summarize(lists / "hand_edited.csv")
    found = [str(p) for p in s.problems if p.line == line]
    assert len(found) == 1
    assert found[0].startswith(f"{lists / 'hand_edited.csv'}:{line}: {text}")


def test_unsubscribes_in_any_case_win_and_broken_rows_hold_their_address(lists: Path) -> None:
    emails = [p.email for p in eligible(lists / "hand_edited.csv")]
    assert emails == ["good.one@example.org", "formula.name@example.org", "plus.name@example.org"]
    # left.us is subscribed on line 9, unsubscribed on lines 10 and 11 in other cases;
    # held.back has a misspelt status on another row; broken.unsub has an unsubscribe on
    # a row whose address has a stray space. None of them is mailed.


def test_formula_like_names_are_read_as_written(lists: Path) -> None:
    people = {p.email: p for p in eligible(lists / "hand_edited.csv")}
    assert people["formula.name@example.org"].first_name == "=1+2"
    assert people["formula.name@example.org"].last_name == "@SUM(A1)"
    assert people["plus.name@example.org"].first_name == "+44 20 7946 0000"


def test_audience_tags_and_exclusions(lists: Path) -> None:
    path = lists / "hand_edited.csv"
    only_cuppas = [p.email for p in eligible(path, Audience(tags=["Cuppas"]))]
    assert only_cuppas == ["formula.name@example.org", "plus.name@example.org"]
    not_cuppas = [p.email for p in eligible(path, Audience(exclude_tags=["cuppas"]))]
    assert not_cuppas == ["good.one@example.org"]
    s = summarize(path, Audience(tags=["cuppas"]))
    assert (s.eligible, s.excluded_by_tags) == (2, 1)


def test_check_command_reports_and_exits_1(lists: Path) -> None:
    report = lists / "report.csv"
    r = run_cli("subscribers", "check", "--list", "hand_edited.csv", "--report", "report.csv", cwd=lists)
    assert r.code == 1, r.output
    assert "Traceback" not in r.output
    assert "hand_edited.csv:4: email: 'bad@@x'" in r.out
    assert "hand_edited.csv: 8 invalid rows" in r.err
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,email,problem"
    assert lines[1] == "3,Good.One@EXAMPLE.org,duplicate of line 2"
    assert "4,bad@@x,The part after the @-sign contains invalid characters: '@'." in lines
    # The formula-like address is neutralised in the report, so a spreadsheet shows it as text.
    assert any(line.startswith("13,\"'=HYPERLINK(") for line in lines)


def test_check_command_passes_a_clean_list(project: Path) -> None:
    r = run_cli("subscribers", "check", cwd=project)
    assert r.code == 0, r.output
    assert "subscribers.csv: 7 rows, ok, 0 duplicates, 5 eligible" in r.out


def test_stats_json_has_the_agreed_keys(lists: Path) -> None:
    r = run_cli("subscribers", "stats", "--list", "hand_edited.csv", "--format", "json", cwd=lists)
    assert r.code == 0, r.output
    data = json.loads(r.out)
    expected = {
        "total": 17,
        "subscribed": 5,
        "unsubscribed": 1,
        "bounced": 0,
        "complained": 0,
        "invalid": 8,
        "duplicates": 3,
        "eligible": 3,
    }
    assert {k: data[k] for k in expected} == expected
    assert data["by_tag"] == {"cuppas": 2, "community": 1}


def test_stats_text(project: Path) -> None:
    r = run_cli("subscribers", "stats", cwd=project)
    assert r.code == 0, r.output
    assert "subscribers.csv: 7 rows" in r.out
    assert "eligible               5" in r.out
    assert "by tag (subscribed): community 3 · cuppas 2 · partners 1" in r.out


# ---------------------------------------------------------------- bad files: exit 2, file:line


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "no email column": (b"name,first_name\nx,y\n", "bad.csv:1: no email column in the header"),
    "empty file": (b"", "bad.csv:1: the file is empty"),
    "not UTF-8": (
        "email,first_name\nchloe@example.org,Chloé\n".encode("latin-1"),
        "bad.csv:2: not UTF-8 text (byte 0xe9 at column 23) (save the file as 'CSV UTF-8' in Excel",
    ),
    "two email columns": (
        b"email,Email Address\nx@example.org,y@example.org\n",
        "bad.csv:1:2: Email Address: 'Email Address' and 'email' both name the email column",
    ),
    "a column twice": (b"email,tags,Tags\nx@example.org,a,b\n", "bad.csv:1:3: Tags: column 'Tags' appears twice"),
    "old Mac line endings": (b"email,first_name\rok@example.org,Ok\r", "bad.csv:1: lines end with CR only (old Mac format)"),
    "header with an open quote": (b'"email,first_name\nok@example.org,Ok\n', "bad.csv:1: no email column in the header"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_list_files_exit_2_with_file_and_line(tmp_path: Path, case: str) -> None:
    content, expected = BAD_FILES[case]
    (tmp_path / "bad.csv").write_bytes(content)
    for command in ("stats", "check"):
        r = run_cli("subscribers", command, "--list", "bad.csv", cwd=tmp_path)
        assert r.code == 2, r.output
        assert expected in r.err
        assert "Traceback" not in r.output
    with pytest.raises(InputError):
        list(eligible(tmp_path / "bad.csv"))


def test_missing_list_and_folder_exit_2(tmp_path: Path) -> None:
    r = run_cli("subscribers", "stats", "--list", "nope.csv", cwd=tmp_path)
    assert (r.code, "nope.csv: no such file (give the list with --list PATH)" in r.err) == (2, True)
    (tmp_path / "folder.csv").mkdir()
    r = run_cli("subscribers", "stats", "--list", "folder.csv", cwd=tmp_path)
    assert r.code == 2 and "'folder.csv' is a directory" in r.err
    with pytest.raises(InputError, match="folder.csv: is a folder, not a CSV file"):
        summarize(tmp_path / "folder.csv")


UNREADABLE = (
    "email,first_name,status\n"
    "ok@example.org,Ok,subscribed\n"
    'x@example.org,"Smith" Jr,subscribed\n'
    "Smith, John <john@example.org>,John,subscribed\n"
    "late@example.org,Late,unsubscribed\n"
)


def test_unreadable_rows_are_invalid_and_stop_a_send(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(UNREADABLE, encoding="utf-8")
    s = summarize(path)
    assert [(p.line, p.message.split(" (")[0]) for p in s.problems] == [
        (3, "not valid CSV: ',' expected after '\"'"),
        (4, "row has 4 fields but the header has 3"),
    ]
    assert (s.total, s.invalid, s.eligible, s.unsubscribed) == (4, 2, 1, 1)
    with pytest.raises(InputError) as caught:
        eligible(path)
    assert "2 row(s) cannot be read; fix them before sending" in str(caught.value)
    r = run_cli("subscribers", "check", "--list", "list.csv", cwd=tmp_path)
    assert r.code == 1 and "list.csv:4: row has 4 fields but the header has 3 (a comma inside a value" in r.out


def test_unclosed_quote_is_reported_where_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text('email,first_name\nok@example.org,Ok\n"open@example.org,Open\nlast@example.org,Last\n')
    s = summarize(path)
    assert [str(p).split(": ", 1)[1] for p in s.problems] == ["a quoted value is not closed before the end of the file"]
    assert s.problems[0].line == 3


def test_blank_lines_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("email,first_name\n\nok@example.org,Ok\n,\n\n")
    s = summarize(path)
    assert (s.total, s.invalid, s.eligible) == (1, 0, 1)


def test_tab_separated_and_single_column_lists(tmp_path: Path) -> None:
    (tmp_path / "tabs.tsv").write_text("email\tfirst_name\ttags\na@example.org\tA\tx;y\n")
    assert [(p.email, p.tags) for p in eligible(tmp_path / "tabs.tsv")] == [("a@example.org", ("x", "y"))]
    (tmp_path / "one.csv").write_text("Email\nA@Example.ORG\nb@example.org\n")
    assert [p.email for p in eligible(tmp_path / "one.csv")] == ["A@example.org", "b@example.org"]


def test_international_and_role_addresses_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "email\nINFO@Example.org\nx@xn--bcher-kva.example\nX@BÜCHER.example\nuser@ｅｘａｍｐｌｅ.org\n", encoding="utf-8"
    )
    s = summarize(path)
    assert (s.total, s.duplicates, s.invalid) == (4, 1, 0)
    assert [p.email for p in eligible(path)] == ["info@example.org", "x@bücher.example", "user@example.org"]


def test_names_with_line_breaks_come_out_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        'email,first_name,last_name,note\nx@example.org,"Bob\r\nBcc: a@b.org"," Smith\t",line one\n', encoding="utf-8"
    )
    (person,) = list(eligible(path))
    assert (person.first_name, person.last_name) == ("Bob Bcc: a@b.org", "Smith")
    assert person.fields == {"note": "line one"}


def test_cells_cannot_restyle_the_terminal(tmp_path: Path) -> None:
    (tmp_path / "subscribers.csv").write_text(
        "email,tags\nok@example.org,[/b]\n[red]x@example.org,\nbell@example.org,\x1b[31mred\n"
    )
    stats = run_cli("subscribers", "stats", cwd=tmp_path)
    assert stats.code == 0, stats.output
    assert "by tag (subscribed): '\\x1b[31mred' 1 · [/b] 1" in stats.out
    check = run_cli("subscribers", "check", cwd=tmp_path)
    assert check.code == 1, check.output
    assert "✗ subscribers.csv:3: email: '[red]x@example.org': The email address contains invalid characters" in check.out
    assert "\x1b" not in check.out + stats.out


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_a_line_break_of_any_kind_inside_an_address_is_refused(tmp_path: Path, newline: str) -> None:
    """CR alone (old Mac exports), CRLF or LF inside a quoted address cell: reported at the
    row's first line, never sent (it would become a header injection)."""
    path = tmp_path / "list.csv"
    path.write_bytes((f'email,first_name\nok@example.org,Ok\n"cr@exam{newline}ple.org",Cr\nafter@example.org,After\n').encode())
    s = summarize(path)
    assert (s.eligible, s.invalid) == (2, 1)
    assert [(p.line, p.field) for p in s.problems] == [(3, "email")]
    assert "the address contains a line break" in s.problems[0].message
    assert [p.email for p in eligible(path)] == ["ok@example.org", "after@example.org"]
