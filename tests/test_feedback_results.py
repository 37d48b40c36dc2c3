"""``newsletter results``: SendGrid's category statistics into results/<slug>.json and a table."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.feedback_kit import env
from tests.sendgrid_feedback import ApiFault, metrics
from tests.sendgrid_server import SendGridServer

SLUG = "2024-06-june-team-update"


def test_results_by_day_into_a_deterministic_file(project: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.account.stats[SLUG] = [
        (
            "2024-06-14",
            metrics(
                requests=1000,
                delivered=990,
                bounces=10,
                opens=600,
                unique_opens=450,
                clicks=120,
                unique_clicks=80,
                spam_reports=1,
                unsubscribes=3,
            ),
        ),
        ("2024-06-15", metrics(opens=100, unique_opens=60, clicks=20, unique_clicks=15, unsubscribes=1)),
    ]
    result = run_cli("results", EXAMPLE_ISSUE, "--since", "2024-06-14", cwd=project, env=env(sendgrid_server))
    assert result.code == 0, result.output
    assert sendgrid_server.log.invalid == []
    path = project / "results" / f"{SLUG}.json"
    data = json.loads(path.read_text())
    assert data["start_date"] == "2024-06-14" and data["end_date"] == "2024-07-13"
    assert len(data["days"]) == 30
    assert data["days"][0] == {
        "date": "2024-06-14",
        "requests": 1000,
        "delivered": 990,
        "bounces": 10,
        "opens": 600,
        "unique_opens": 450,
        "clicks": 120,
        "unique_clicks": 80,
        "spam_reports": 1,
        "unsubscribes": 3,
    }
    assert data["totals"]["unique_opens"] == 510 and data["totals"]["unsubscribes"] == 4
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["date", "requests", "delivered"]
    assert lines[1].split() == ["2024-06-14", "1000", "990", "10", "600", "450", "120", "80", "1", "3"]
    assert "total" in result.out and "opened by 51.5%" in result.out
    first = path.read_bytes()
    again = run_cli("results", EXAMPLE_ISSUE, "--since", "2024-06-14", cwd=project, env=env(sendgrid_server))
    assert again.code == 0 and path.read_bytes() == first  # same figures, same bytes


def test_the_first_send_day_comes_from_the_journal(project: Path, sendgrid_server: SendGridServer) -> None:
    sent = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project, env=env(sendgrid_server))
    assert sent.code == 0, sent.output
    result = run_cli("results", EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
    assert result.code == 0, result.output
    calls = [p for _, p in sendgrid_server.account.calls if p.startswith("/v3/categories/stats")]
    assert len(calls) == 1 and f"categories={SLUG}" in calls[0] and "aggregated_by=day" in calls[0]
    assert sendgrid_server.log.invalid == []


def test_without_a_send_or_a_date_it_asks_for_one(project: Path, sendgrid_server: SendGridServer) -> None:
    result = run_cli("results", EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
    assert result.code == 2 and "--since YYYY-MM-DD" in result.err
    bad = run_cli("results", EXAMPLE_ISSUE, "--since", "14/06/2024", cwd=project, env=env(sendgrid_server))
    assert bad.code == 2 and "is not a date" in bad.err


def test_sendgrid_errors_leave_the_file_as_it_was(project: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.account.faults.append(ApiFault("notjson"))
    result = run_cli("results", EXAMPLE_ISSUE, "--since", "2024-06-14", cwd=project, env=env(sendgrid_server))
    assert result.code == 2 and "not JSON" in result.err
    assert not (project / "results").exists()
