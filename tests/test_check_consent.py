"""``consent: required``: a subscriber whose row lacks evidence of consent is a finding of
``subscribers check`` and of ``newsletter check`` (rule ``consent-evidence``), at their line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.test_consent_evidence import PEOPLE, require_consent, write


def test_rows_without_evidence_are_findings_at_their_line(project: Path) -> None:
    write(project / "subscribers.csv", PEOPLE)
    r = run_cli("subscribers", "check", cwd=project)
    assert r.code == 0, r.output  # optional: evidence is not asked for
    require_consent(project)

    r = run_cli("subscribers", "check", "--report", "fix.csv", cwd=project)
    assert r.code == 1, r.output
    assert "subscribers.csv:6: consent_source: no evidence of consent" in r.output
    assert "subscribers.csv:7: consent_at: consent_at '2024-02-30' is not a date that exists" in r.output
    assert "subscribers.csv:8: consent_wording:" in r.output
    assert "3 subscribers without evidence of consent" in r.output
    report = list(csv.reader((project / "fix.csv").read_text(encoding="utf-8").splitlines()))
    assert [row[:2] for row in report[1:]] == [
        ["6", "eilidh.campbell@example.org"],
        ["7", "farah.haddad@example.org"],
        ["8", "george.osei@example.org"],
    ]

    r = run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=project)
    findings = [f for f in json.loads(r.out)["findings"] if f["rule"] == "consent-evidence"]
    assert [(f["line"], f["field"], f["severity"]) for f in findings] == [
        (6, "consent_source", "warning"),
        (7, "consent_at", "warning"),
        (8, "consent_wording", "warning"),
    ]
    assert all(f["file"].endswith("subscribers.csv") for f in findings)


def test_a_list_without_evidence_columns_is_one_finding(project: Path) -> None:
    """Switching ``consent: required`` on for a list that never recorded evidence holds
    everyone back, and says so once (at the header), not once per row."""
    require_consent(project)
    r = run_cli("subscribers", "check", "--report", "fix.csv", cwd=project)
    assert r.code == 1, r.output
    assert "subscribers.csv:1: consent_source: no evidence of consent: the list has no consent_source" in r.output
    assert "all 5 subscribed addresses are held back" in r.output and r.output.count("✗") == 1
    assert "more without evidence" not in r.output
    assert (project / "fix.csv").read_text(encoding="utf-8").splitlines() == ["line,email,problem"]
    r = run_cli("check", EXAMPLE_ISSUE, "--format", "json", cwd=project)
    findings = [f for f in json.loads(r.out)["findings"] if f["rule"] == "consent-evidence"]
    assert [(f["line"], f["field"]) for f in findings] == [(1, "consent_source")]
    r = run_cli("subscribers", "stats", "--format", "json", cwd=project)
    assert {k: json.loads(r.out)[k] for k in ("eligible", "unproven")} == {"eligible": 0, "unproven": 5}


def test_held_back_counts_only_the_issues_audience(project: Path) -> None:
    """With audience tags, a subscriber the tags leave out is excluded by them, not held back."""
    from newsletter.audience import summarize
    from newsletter.issue.model import Audience

    write(project / "subscribers.csv", PEOPLE)  # Eilidh (no evidence) has no tag; Chloé is a partner
    s = summarize(project / "subscribers.csv", Audience(tags=["partners"]), require_evidence=True)
    assert (s.eligible, s.unproven, s.excluded_by_tags) == (1, 0, 5)
    s = summarize(project / "subscribers.csv", require_evidence=True)
    assert (s.eligible, s.unproven, s.excluded_by_tags) == (3, 3, 0)
