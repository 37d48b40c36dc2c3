"""Evidence of consent: where, when and which sign-up wording, in three list columns.

The cells survive every rewrite of the list the tool does, byte for byte; ``consent:
required`` makes a row without them a finding of ``subscribers check`` and ``newsletter
check`` at its line, and a send leaves them out (counted as held back, with the reason),
checked here against the SendGrid-compatible server.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience import ConsentAnswer, import_list, summarize, unsubscribe
from newsletter.audience.csvfile import neutralize
from newsletter.audience.evidence import COLUMNS
from newsletter.errors import InputError
from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.feedback_kit import env, sync
from tests.sendgrid_server import SendGridServer

HEADER = ["email", "first_name", "last_name", "status", "tags", *COLUMNS]
WORDING = "signup/form.md@3f2a1c9"
PEOPLE = [
    [
        "amina.okafor@example.org",
        "Amina",
        "Okafor",
        "subscribed",
        "community",
        '=HYPERLINK("https://example.org/join","Join")',
        "2023-02-11T10:15:00Z",
        WORDING,
    ],
    [
        "ben.hughes@example.org",
        "Ben",
        "Hughes",
        "subscribed",
        "",
        'Fair, "stand 4"; Zoë ✓',
        " 2023-05-02 ",
        "signup/fair sheet.md@0123456789abcdef0123456789abcdef01234567",
    ],
    ["chloe.martin@example.org", "Chloé", "Martin", "subscribed", "partners", "  -paper form  ", "2023-09-19", WORDING],
    ["dev.patel@example.org", "Dev", "Patel", "unsubscribed", "", "+44 phone call", "2022-11-30", WORDING],
    ["eilidh.campbell@example.org", "Eilidh", "Campbell", "subscribed", "", "", "", ""],
    ["farah.haddad@example.org", "", "Haddad", "subscribed", "", "website", "2024-02-30", WORDING],
    ["george.osei@example.org", "George", "Osei", "subscribed", "", "website", "2024-03-01", "form.md"],
]
"""Amina, Ben and Chloé have evidence; Eilidh none, Farah a date that does not exist,
George a wording with no commit (lines 6, 7 and 8 of the list)."""


def write(path: Path, rows: list[list[str]], *, delimiter: str = ",", crlf: bool = False, bom: bool = False) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(HEADER)
    for row in rows:  # as the tool writes a cell a spreadsheet would run (see csvfile.neutralize)
        writer.writerow([("'" + c) if c[:1] and c[:1] in "=+-@" else c for c in row])
    path.write_bytes(("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8"))


def raw_rows(path: Path, delimiter: str = ",") -> dict[str, list[str]]:
    """Every row's cells exactly as in the file (apostrophes and spaces kept), by address."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader)
        return {row[header.index("email")].lower(): row for row in reader}


def evidence_of(path: Path, delimiter: str = ",") -> dict[str, list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter))
    at = [header.index(name) for name in COLUMNS]
    return {email: [row[i] for i in at] for email, row in raw_rows(path, delimiter).items()}


def lines(path: Path) -> dict[str, bytes]:
    """Each row's bytes, by address (the rows here are one line each)."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    return {line.split(b",")[0].split(b";")[0].decode().lower(): line for line in data.splitlines(keepends=True)[1:]}


def require_consent(project: Path) -> None:
    settings_file = project / "newsletter.yaml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8") + "consent: required\n", encoding="utf-8")


# -- the cells survive every rewrite -----------------------------------------------------


def test_evidence_survives_every_rewrite_byte_for_byte(project: Path, sendgrid_server: SendGridServer) -> None:
    """Unsubscribe, import, sync and forget each rewrite the list (here saved by Excel:
    BOM, semicolons, CRLF): every evidence cell stays as it was, and every row a rewrite
    does not change keeps its bytes (followed by the empty cells of any column added)."""
    path = project / "subscribers.csv"
    write(path, PEOPLE, delimiter=";", crlf=True, bom=True)
    before = evidence_of(path, ";")
    original = lines(path)

    def unchanged(*changed: str) -> None:
        now_evidence = evidence_of(path, ";")
        assert {e: now_evidence[e] for e in before if e in now_evidence} == {e: before[e] for e in before if e in now_evidence}
        now = lines(path)
        for email, line in now.items():
            if email in original and email not in changed:  # the same bytes, then any column added, empty
                old, new = original[email].removesuffix(b"\r\n"), line.removesuffix(b"\r\n")
                assert new.startswith(old) and not new[len(old) :].strip(b";"), email

    r = run_cli("subscribers", "unsubscribe", "ben.hughes@example.org", cwd=project)
    assert r.code == 0, r.output
    unchanged("ben.hughes@example.org")
    original = lines(path)

    export = project / "export.csv"
    export.write_text(
        "email,first_name,consent_source,consent_at,consent_wording\n"
        'new.reader@example.org,New,"Stall at the fair, 2024",2024-06-01T09:00:00+01:00,'
        f"{WORDING}\n",
        encoding="utf-8",
    )
    r = run_cli("subscribers", "import", "export.csv", cwd=project)
    assert r.code == 0, r.output
    unchanged()
    assert evidence_of(path, ";")["new.reader@example.org"] == ["Stall at the fair, 2024", "2024-06-01T09:00:00+01:00", WORDING]
    before["new.reader@example.org"] = evidence_of(path, ";")["new.reader@example.org"]
    original = lines(path)

    sendgrid_server.account.add("bounces", "chloe.martin@example.org", 1_717_200_000, reason="550 5.1.1 unknown", status="5.1.1")
    r = sync(project, sendgrid_server)
    assert r.code == 0, r.output
    assert raw_rows(path, ";")["chloe.martin@example.org"][3] == "bounced"
    unchanged("chloe.martin@example.org")

    original = lines(path)
    r = run_cli("subscribers", "forget", "amina.okafor@example.org", cwd=project)
    assert r.code in (0, 1), r.output
    assert "amina.okafor@example.org" not in raw_rows(path, ";")
    unchanged()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    # and the export to send the person holds them too
    r = run_cli("subscribers", "show", "ben.hughes@example.org", "--format", "json", cwd=project)
    cells = json.loads(r.out)["rows"][0]["cells"]
    assert [cells[name] for name in COLUMNS] == before["ben.hughes@example.org"]


SOURCE = st.sampled_from(["'=", "=SUM(A1)", "+44 call", " -form ", "@fair", '"quoted", too', "ü ✓ 例"]) | st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")
WHEN = st.sampled_from(["2024-06-03", " 2024-06-03", "2024-06-03T14:05:00Z", "2024-06-03 14:05", "2023-12-31T23:59:59.5+05:30"])
WORDINGS = st.sampled_from([WORDING, "a/b c/ü.md@abcdef0", "x@0123456789abcdef0123456789abcdef01234567"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(evidence=st.lists(st.tuples(SOURCE, WHEN, WORDINGS), min_size=1, max_size=5))
def test_imported_evidence_reads_back_as_it_was_written(
    tmp_path_factory: pytest.TempPathFactory, evidence: list[tuple[str, str, str]]
) -> None:
    """Any evidence an export holds (quotes, commas, formula-like text, spaces, any
    script) is what the list holds after the import, and after another rewrite."""
    folder = tmp_path_factory.mktemp("evidence")
    path, export = folder / "subscribers.csv", folder / "export.csv"
    path.write_text("email,first_name\nfirst@example.org,First\n", encoding="utf-8")
    with export.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["email", *COLUMNS])
        for i, cells in enumerate(evidence):  # spreadsheet-safe, as the tool writes (and reads) a cell
            w.writerow([f"p{i}@example.org", *map(neutralize, cells)])
    result = import_list(path, export, answer=ConsentAnswer())
    assert result.count("added") == len(evidence)

    def read_back() -> dict[str, tuple[str, ...]]:
        from newsletter.audience.csvfile import open_list, unneutralize

        with open_list(path) as reader:
            at = [reader.header.roles[name] for name in COLUMNS]
            email_at = reader.header.roles["email"]
            return {cells[email_at]: tuple(unneutralize(cells[i]) for i in at) for _, cells, _ in reader.records()}

    expected = {f"p{i}@example.org": cells for i, cells in enumerate(evidence)}
    assert {k: v for k, v in read_back().items() if k != "first@example.org"} == expected
    unsubscribe(path, ["first@example.org"])
    assert {k: v for k, v in read_back().items() if k != "first@example.org"} == expected


def test_an_import_fills_evidence_only_where_the_list_has_none(project: Path) -> None:
    path = project / "subscribers.csv"
    write(path, PEOPLE)
    export = project / "export.csv"
    export.write_text(
        "email,consent_source,consent_at,consent_wording\n"
        f"eilidh.campbell@example.org,website,2024-01-08,{WORDING}\n"
        f"amina.okafor@example.org,another form,2024-01-08,{WORDING}\n",
        encoding="utf-8",
    )
    result = import_list(path, export)
    reasons = {o.email: o.reason for o in result.outcomes}
    assert reasons["eilidh.campbell@example.org"].endswith("evidence of consent added")
    assert "nothing new" in reasons["amina.okafor@example.org"]
    after = evidence_of(path)
    assert after["eilidh.campbell@example.org"] == ["website", "2024-01-08", WORDING]
    assert after["amina.okafor@example.org"] == evidence_of(path)["amina.okafor@example.org"]
    assert after["amina.okafor@example.org"][0] == "'" + PEOPLE[0][5]


@pytest.mark.parametrize(
    "cells,column,words",
    [
        (("website", "03/06/2024", WORDING), "consent_at", "is not a date"),
        (("website", "2999-01-01", WORDING), "consent_at", "in the future"),
        (("website", "2024-06-03", "signup/form.md"), "consent_wording", "PATH@COMMIT"),
        (("website", "2024-06-03", "../outside.md@abcdef0"), "consent_wording", "inside the repository"),
        (("", "2024-06-03", WORDING), "consent_source", "where did this person sign up"),
    ],
)
def test_an_import_with_evidence_not_as_described_stops(
    project: Path, cells: tuple[str, str, str], column: str, words: str
) -> None:
    before = (project / "subscribers.csv").read_bytes()
    export = project / "export.csv"
    with export.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["email", *COLUMNS])
        w.writerow(["ok@example.org", "website", "2024-06-03", WORDING])
        w.writerow(["new@example.org", *cells])
    r = run_cli("subscribers", "import", "export.csv", cwd=project)
    assert r.code == 2 and "Traceback" not in r.output
    assert f"export.csv:3: {column}:" in r.output and words in r.output and "nothing was imported" in r.output
    assert (project / "subscribers.csv").read_bytes() == before
    with pytest.raises(InputError):
        import_list(project / "subscribers.csv", export)


# -- consent: required --------------------------------------------------------------------


def test_the_cached_figures_follow_the_setting(project: Path) -> None:
    """Switching ``consent: required`` on and off never gives the other setting's figures."""
    write(project / "subscribers.csv", PEOPLE)

    def stats() -> dict[str, int]:
        r = run_cli("subscribers", "stats", "--format", "json", cwd=project)
        assert r.code == 0, r.output
        return {k: v for k, v in json.loads(r.out).items() if k in ("eligible", "unproven")}

    assert stats() == {"eligible": 6, "unproven": 0}
    settings_file = project / "newsletter.yaml"
    plain = settings_file.read_bytes()
    require_consent(project)
    assert stats() == {"eligible": 3, "unproven": 3}
    assert stats() == {"eligible": 3, "unproven": 3}  # from the cache
    settings_file.write_bytes(plain)
    assert stats() == {"eligible": 6, "unproven": 0}
    assert len(list((project / ".newsletter" / "cache").iterdir())) == 2
    assert summarize(project / "subscribers.csv", require_evidence=True).eligible == 3


def test_a_send_leaves_out_rows_without_evidence(project: Path, sendgrid_server: SendGridServer) -> None:
    write(project / "subscribers.csv", PEOPLE)
    require_consent(project)
    dry = run_cli("send", EXAMPLE_ISSUE, "--dry-run", cwd=project)
    assert "held back   3: no evidence of consent (consent: required)" in dry.out, dry.output

    r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env(sendgrid_server))
    assert r.code == 0, r.output
    assert sendgrid_server.log.invalid == []
    assert sorted(sendgrid_server.log.accepted) == [
        "amina.okafor@example.org",
        "ben.hughes@example.org",
        "chloe.martin@example.org",
    ]
    assert "Sending “" in r.out and "to 3 recipient(s)" in r.out
    held = [line for line in r.out.splitlines() if "held back" in line]
    assert len(held) == 2 and all("3: no evidence of consent" in line and "subscribers.csv:6" in line for line in held)


def test_evidence_is_optional_by_default(project: Path, sendgrid_server: SendGridServer) -> None:
    """Without ``consent: required`` the same list is sent to everyone subscribed."""
    write(project / "subscribers.csv", PEOPLE)
    r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env(sendgrid_server))
    assert r.code == 0, r.output
    assert len(sendgrid_server.log.accepted) == 6 and "held back" not in r.out


def test_a_date_of_consent_today_is_not_in_the_future(project: Path) -> None:
    rows = [["a@example.org", "A", "", "", "", "website", dt.date.today().isoformat(), WORDING]]
    write(project / "subscribers.csv", rows)
    assert summarize(project / "subscribers.csv", require_evidence=True).eligible == 1


def test_subscribers_check_names_a_sign_up_wording_git_cannot_show(tmp_path: Path) -> None:
    """A ``consent_wording`` is shown with ``git show COMMIT:PATH``: each one git has no
    such file for (a wrong path, an unknown commit) is named at its first line, exit 1."""
    import subprocess

    root = tmp_path / "project"
    (root / "signup").mkdir(parents=True)
    (root / "signup" / "form.md").write_text("Yes, send me the monthly update.\n", encoding="utf-8")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.email=editor@example.org", "-c", "user.name=Editor", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "the sign-up wording")
    sha = git("rev-parse", "--short", "HEAD")
    rows = [
        ["email", "status", *COLUMNS],
        ["a@example.org", "subscribed", "website", "2024-01-02", f"signup/form.md@{sha}"],
        ["b@example.org", "subscribed", "website", "2024-01-03", f"signup/form.md@{sha}"],
        ["c@example.org", "subscribed", "website", "2024-01-04", f"signup/other.md@{sha}"],
        ["d@example.org", "subscribed", "website", "2024-01-05", "signup/form.md@0123456"],
    ]
    listed = root / "people.csv"
    with listed.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    optional = run_cli("subscribers", "check", "--list", str(listed), cwd=root)
    assert optional.code == 0, optional.output  # evidence optional: warnings
    assert f"! people.csv:4: consent_wording: consent_wording 'signup/other.md@{sha}': git has no such file" in optional.out
    (root / "newsletter.yaml").write_bytes((REPO / "newsletter.yaml").read_bytes() + b"consent: required\n")
    found = run_cli("subscribers", "check", "--list", str(listed), cwd=root)
    assert found.code == 1, found.output
    assert f"x people.csv:4: consent_wording: consent_wording 'signup/other.md@{sha}': git has no such file" in found.out
    assert "x people.csv:5: consent_wording: consent_wording 'signup/form.md@0123456'" in found.out
    assert "people.csv:2" not in found.out and "people.csv:3" not in found.out
    assert "2 sign-up wording(s) git cannot show" in found.err
    with listed.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows[:3])
    fine = run_cli("subscribers", "check", "--list", str(listed), cwd=root)
    assert fine.code == 0, fine.output
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "people.csv").write_bytes(listed.read_bytes())
    unknown = run_cli("subscribers", "check", "--list", str(outside / "people.csv"), cwd=outside)
    assert (
        unknown.code == 0
        and "! people.csv:2: consent_wording (not checked): the sign-up wordings could not be looked up in git" in unknown.out
    ), unknown.output
