"""The preview's issue page shows the issue's results (results/<slug>.json) with a small chart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.feedback_kit import env
from tests.preview_kit import EXAMPLE_SLUG, Running
from tests.sendgrid_feedback import metrics
from tests.sendgrid_server import SendGridServer
from tests.test_preview_browser import browser, open_issue, page, server, shot, sync_api  # noqa: F401

pytestmark = pytest.mark.usefixtures("browser")


def _results(project: Path) -> None:
    with SendGridServer() as sg:
        sg.account.stats[EXAMPLE_SLUG] = [
            ("2024-06-14", metrics(requests=5, delivered=5, unique_opens=4, opens=6, unique_clicks=2, clicks=3)),
            ("2024-06-15", metrics(unique_opens=1, opens=1, unique_clicks=1, clicks=1, unsubscribes=1)),
        ]
        result = run_cli("results", EXAMPLE_ISSUE, "--since", "2024-06-14", cwd=project, env=env(sg))
        assert result.code == 0, result.output


def test_the_issue_page_shows_results_and_a_chart(project: Path, page, server: Running) -> None:  # noqa: F811
    open_issue(page, server)
    sync_api.expect(page.locator("#results")).to_be_hidden()  # no results yet: nothing shown
    _results(project)
    page.reload()
    sync_api.expect(page.locator("#email-view")).to_be_visible()
    box = page.locator("#results")
    sync_api.expect(box).to_be_visible()
    sync_api.expect(page.locator("#results-summary")).to_have_text("5 delivered · opened by 100.0% · clicked by 60.0%")
    page.locator("#results summary").click()
    rows = page.locator("#results-body tr")
    sync_api.expect(rows).to_have_count(3)  # two days with figures and the total
    sync_api.expect(rows.nth(0)).to_contain_text("2024-06-14")
    sync_api.expect(rows.nth(2)).to_contain_text("total")
    bars = page.locator("#results-chart rect")
    sync_api.expect(bars).to_have_count(60)  # 30 days, opens and clicks
    heights = page.evaluate("() => [...document.querySelectorAll('#results-chart rect.opens')]"
                            ".slice(0, 3).map((r) => Number(r.getAttribute('height')))")
    assert heights[0] == pytest.approx(110) and heights[1] == pytest.approx(27.5) and heights[2] == 0
    shot(box, "issue-results.png")
