"""The preview's "Web" tab: the issue's web page as ``newsletter publish`` writes it, live."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import run_cli
from tests.preview_kit import EXAMPLE_SLUG, EXAMPLE_TITLE, Running, serving
from tests.test_preview_browser import open_issue, page, server, shot, sync_api  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from playwright.sync_api import Page

ISSUE_API = f"/api/issues/{EXAMPLE_SLUG}"


def test_the_issue_api_carries_the_web_page(project: Path) -> None:
    with serving(project) as running:
        data = running.json(ISSUE_API)
        web = data["web"]
        assert web["problem"] == ""
        html = web["html"]
        assert f"<title>{EXAMPLE_TITLE} · Co-Production Collective</title>" in html
        assert "__nl_" not in html and "Unsubscribe" not in html and "Dear " not in html
        assert 'href="events/2024-07-01-co-pro-cuppa.ics"' in html
        # the same page publish writes
        assert run_cli("publish", cwd=project).code == 0
        assert (project / "site" / f"{EXAMPLE_SLUG}.html").read_text(encoding="utf-8") == html


@pytest.mark.slow  # Chromium
def test_the_web_tab_shows_the_page_and_follows_the_file(page: Page, server: Running) -> None:
    open_issue(page, server)
    page.get_by_role("tab", name="Web").click()
    sync_api.expect(page.locator("#panel-web")).to_be_visible()
    web = page.frame_locator("#frame-web")
    sync_api.expect(web.locator("h1")).to_have_text(EXAMPLE_TITLE)
    sync_api.expect(web.locator("body")).to_contain_text("All issues")
    sync_api.expect(web.locator("body")).not_to_contain_text("Unsubscribe")
    sync_api.expect(page.frame_locator("#frame-web-mobile").locator("h1")).to_have_text(EXAMPLE_TITLE)
    shot(page, "preview-web.png")
    path = server.root / "issues" / f"{EXAMPLE_SLUG}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f'title: "{EXAMPLE_TITLE}"', 'title: "Retitled for the web"'), encoding="utf-8")
    sync_api.expect(web.locator("h1")).to_have_text("Retitled for the web", timeout=10_000)
    sync_api.expect(page.locator("#panel-web")).to_be_visible()  # the tab stays chosen


def test_publishing_clears_the_web_warning_in_the_open_preview(project: Path) -> None:
    def unpublished(data: dict[str, Any]) -> bool:
        return any(f["rule"] == "web-not-published" for f in data["checks"]["findings"])

    with serving(project) as running:
        assert unpublished(running.json(ISSUE_API))
        assert run_cli("publish", cwd=project).code == 0
        running.wait_for(ISSUE_API, lambda d: not unpublished(d), timeout=15)
        (project / "site" / f"{EXAMPLE_SLUG}.html").unlink()
        running.wait_for(ISSUE_API, unpublished, timeout=15)
