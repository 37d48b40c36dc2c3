"""The published site in a real browser: Chromium (Playwright) at a phone's and a desktop's width.

The site is served from a local HTTP server; the browser never leaves 127.0.0.1 (remote
images get a local placeholder, anything else outside is refused and would show as a
console error). Screenshots go to ``tests/artifacts/`` for a person to look at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.test_preview_browser import PLACEHOLDER, shot
from tests.test_publish import EXAMPLE_SLUG, WINTER_SLUG, project3, served, site  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

pytestmark = pytest.mark.slow  # Chromium

sync_api = pytest.importorskip("playwright.sync_api")

WIDTHS = (375, 1280)


def _look(browser: Browser, served: str, name: str, width: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": width, "height": 900})

    def offline(route: Route) -> None:
        url = route.request.url
        if url.startswith(served):
            route.continue_()
        elif route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER)
        else:
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    try:
        response = page.goto(served + name, wait_until="load")
        assert response is not None and response.status == 200
        shot(page, f"site-{name.removesuffix('.html')}-{width}.png")
        sizes = page.evaluate("""() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
            title: document.title,
            h1: document.querySelector('h1') && document.querySelector('h1').innerText,
        })""")
    finally:
        context.close()
    return {**sizes, "problems": problems}


@pytest.mark.parametrize("width", WIDTHS)
def test_index_and_issue_pages_fit_the_screen_without_errors(browser: Browser, served: str, width: int) -> None:
    index = _look(browser, served, "index.html", width)
    assert index["problems"] == []
    assert index["scroll"] <= index["client"] == width  # no horizontal scroll
    assert index["h1"] == "Newsletter archive"

    for slug, title in ((EXAMPLE_SLUG, "June Team Update: Building on meaningful conversations"), (WINTER_SLUG, "Winter update")):
        issue = _look(browser, served, f"{slug}.html", width)
        assert issue["problems"] == []
        assert issue["scroll"] <= issue["client"] == width, slug
        assert issue["title"] == f"{title} · Co-Production Collective"
        assert issue["h1"] == title


def test_the_index_follows_dark_mode_like_the_pages(browser: Browser, served: str) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 800, "height": 900}, color_scheme=scheme)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(served) else route.abort())
        page = context.new_page()
        page.goto(served + "index.html", wait_until="load")
        colours[scheme] = page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.querySelector('main')).backgroundColor]"
        )
        context.close()
    assert colours["light"] == ["rgb(243, 241, 247)", "rgb(255, 255, 255)"]
    assert colours["dark"] == ["rgb(18, 18, 18)", "rgb(30, 30, 30)"]  # dark_colours of newsletter.yaml


def test_a_browser_shows_the_feed_as_a_page(browser: Browser, served: str) -> None:
    context = browser.new_context(viewport={"width": 800, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(served) else route.abort())
    page = context.new_page()
    page.goto(served + "feed.xml", wait_until="load")
    shown = page.evaluate(
        "() => ({h1: document.querySelector('h1') && document.querySelector('h1').innerText,"
        " links: [...document.querySelectorAll('li h2 a')].map(a => a.innerText)})"
    )
    shot(page, "site-feed-800.png")
    context.close()
    assert shown["h1"] == "Co-Production Collective"
    assert shown["links"] == ["Winter update", "June Team Update: Building on meaningful conversations"]
