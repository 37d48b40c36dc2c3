"""The preview in a real browser: Playwright for Python driving Debian's Chromium.

One browser for the whole run (the ``browser`` fixture of conftest.py); a fresh context (and server, in its own copy of the
example project) per test. The browser never leaves 127.0.0.1: the email's remote
images are answered with a local placeholder, every other outside request is refused.
Screenshots go to ``tests/artifacts/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.feedback_kit import env
from tests.preview_kit import EXAMPLE_SLUG, EXAMPLE_TITLE, Running, serving
from tests.sendgrid_feedback import metrics
from tests.sendgrid_server import SendGridServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Route

pytestmark = pytest.mark.slow  # Chromium

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="320" viewBox="0 0 600 320">'
    '<rect width="600" height="320" fill="#cfc8de"/>'
    '<text x="300" y="170" font-family="sans-serif" font-size="28" text-anchor="middle" '
    'fill="#4b2c82">image (offline test placeholder)</text></svg>'
)


@pytest.fixture
def server(project: Path) -> Iterator[Running]:
    with serving(project) as running:
        yield running


@pytest.fixture
def page(browser: Browser, server: Running) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})

    def offline(route: Route) -> None:
        url = route.request.url
        if url.startswith(server.url) or url.startswith("data:") or url == "about:srcdoc":
            route.continue_()
        elif route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER)
        else:
            route.abort()

    context.route("**/*", offline)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def open_issue(page: Page, server: Running, query: str = "") -> Page:
    page.goto(f"{server.url}issues/{EXAMPLE_SLUG}{query}")
    sync_api.expect(page.locator("#email-view")).to_be_visible()
    return page


def frame_text(page: Page, which: str) -> str:
    return page.frame_locator(f"#frame-{which}").locator("body").inner_text()


def shot(target: Page | Locator, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / name))


def test_index_lists_the_example_issue(page: Page, server: Running) -> None:
    page.goto(server.url)
    row = page.locator(f'#issues tr[data-slug="{EXAMPLE_SLUG}"]')
    sync_api.expect(row).to_be_visible()
    sync_api.expect(row.get_by_role("link")).to_have_text(EXAMPLE_TITLE)
    sync_api.expect(row).to_contain_text("14 June 2024")
    sync_api.expect(row).to_contain_text("builds")
    sync_api.expect(page.locator("#live")).to_have_attribute("data-state", "live")
    shot(page, "index.png")
    row.get_by_role("link").click()
    sync_api.expect(page.locator("#issue-title")).to_have_text(EXAMPLE_TITLE)


def test_issue_page_shows_the_email_on_desktop_and_mobile(page: Page, server: Running) -> None:
    open_issue(page, server)
    sync_api.expect(page.locator("h1#issue-title")).to_have_text(EXAMPLE_TITLE)
    sync_api.expect(page.frame_locator("#frame-desktop").locator("h1")).to_have_text(EXAMPLE_TITLE)
    sync_api.expect(page.frame_locator("#frame-mobile").locator("h1")).to_have_text(EXAMPLE_TITLE)
    sizes = page.evaluate("""() => Object.fromEntries(["desktop", "mobile"].map((which) => {
        const frame = document.getElementById(`frame-${which}`);
        const doc = frame.contentDocument.documentElement;
        return [which, {frame: frame.clientWidth, scroll: doc.scrollWidth, client: doc.clientWidth}];
    }))""")
    assert sizes["desktop"]["frame"] >= 600
    assert sizes["desktop"]["scroll"] <= sizes["desktop"]["frame"]
    assert sizes["mobile"]["frame"] == 375
    assert sizes["mobile"]["scroll"] <= 375  # no horizontal scroll on a phone
    sync_api.expect(page.locator("#size-text")).to_contain_text("KB of 102.0 KB")
    sync_api.expect(page.locator("#findings-summary")).to_have_text("build: no warnings · check: 0 errors, 5 warnings")
    page.locator("#findings summary").click()
    sync_api.expect(page.locator("#checks")).to_contain_text("example-domain")
    sync_api.expect(page.locator("#checks")).to_contain_text("newsletter.yaml:6:10")
    page.wait_for_function("""() => [...document.querySelectorAll('iframe')].every((f) =>
        [...f.contentDocument.images].every((i) => i.complete && i.naturalWidth > 0))""")
    shot(page, "issue-desktop-checks-open.png")
    page.locator("#findings summary").click()
    shot(page, "issue-desktop.png")
    shot(page.locator("figure.mobile"), "issue-mobile.png")
    phone = page.context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    open_issue(phone, server)
    shot(phone, "preview-on-a-phone.png")
    phone.close()


def test_tabs_show_text_source_and_headers(page: Page, server: Running) -> None:
    open_issue(page, server)
    page.get_by_role("tab", name="Plain text").click()
    sync_api.expect(page.locator("#text")).to_contain_text("Dear Sam,")
    sync_api.expect(page.locator("#panel-email")).to_be_hidden()
    page.keyboard.press("ArrowRight")  # the tabs move with the arrow keys
    sync_api.expect(page.get_by_role("tab", name="HTML source")).to_be_focused()
    sync_api.expect(page.locator("#source")).to_contain_text("<!doctype html>")
    page.keyboard.press("End")
    headers = page.locator("#headers")
    sync_api.expect(headers).to_contain_text("From")
    sync_api.expect(headers.locator("tr", has_text="List-Unsubscribe-Post")).to_contain_text("List-Unsubscribe=One-Click")
    sync_api.expect(headers.locator("tr", has_text="Reply-To")).to_contain_text("hello@example.org")
    sync_api.expect(headers.locator("tr", has_text="Preheader")).to_contain_text("Trust, anti-racism")
    shot(page, "issue-headers.png")


def test_view_as_shows_a_subscribers_first_name(page: Page, server: Running) -> None:
    open_issue(page, server)
    sync_api.expect(page.frame_locator("#frame-desktop").locator("body")).to_contain_text("Dear Sam,")
    page.get_by_label("View as").select_option(label="Amina Okafor <amina.okafor@example.org>")
    sync_api.expect(page.frame_locator("#frame-desktop").locator("body")).to_contain_text("Dear Amina,")
    sync_api.expect(page.frame_locator("#frame-mobile").locator("body")).to_contain_text("Dear Amina,")
    assert "?as=line-2" in page.url  # a reload keeps the choice
    page.get_by_role("tab", name="Headers").click()
    sync_api.expect(page.locator("#headers")).to_contain_text("Amina Okafor <amina.okafor@example.org>")
    page.reload()
    sync_api.expect(page.frame_locator("#frame-desktop").locator("body")).to_contain_text("Dear Amina,")


def test_edits_break_and_fixes_show_up_by_themselves(page: Page, server: Running) -> None:
    path = server.root / "issues" / f"{EXAMPLE_SLUG}.yaml"
    good = path.read_text()
    open_issue(page, server)
    index = page.context.new_page()  # every open page follows along
    index.goto(server.url)
    sync_api.expect(index.locator("#issues")).to_contain_text("builds")
    title = page.locator("#issue-title")
    in_email = page.frame_locator("#frame-desktop").locator("h1")

    page.evaluate("document.getElementById('frame-desktop').contentWindow.scrollTo(0, 1500)")
    started = time.monotonic()
    path.write_text(good.replace(EXAMPLE_TITLE, "Edited on disk"))
    sync_api.expect(title).to_have_text("Edited on disk", timeout=2000)
    sync_api.expect(in_email).to_have_text("Edited on disk", timeout=2000)
    assert time.monotonic() - started < 2.0
    # the writer keeps their place in the email: a save does not jump back to the top
    page.wait_for_function("document.getElementById('frame-desktop').contentWindow.scrollY === 1500", timeout=2000)
    sync_api.expect(index.locator("#issues")).to_contain_text("Edited on disk", timeout=2000)

    started = time.monotonic()
    path.write_text(good.replace("date: 2024-06-14", "date: 2024-13-45"))
    panel = page.locator("#error-panel")
    sync_api.expect(panel).to_be_visible(timeout=2000)
    sync_api.expect(panel).to_contain_text(f"issues/{EXAMPLE_SLUG}.yaml:8:7", timeout=2000)
    sync_api.expect(panel).to_contain_text("date")
    assert time.monotonic() - started < 2.0
    sync_api.expect(page.get_by_role("alert")).to_contain_text("This issue does not build")
    sync_api.expect(page.locator("#email-view")).to_be_hidden()  # no stale email beside the error
    assert page.locator("#frame-desktop").get_attribute("srcdoc") is None
    sync_api.expect(index.locator("#issues")).to_contain_text("1 problem", timeout=2000)
    shot(page, "issue-error.png")

    started = time.monotonic()
    path.write_text(good)
    sync_api.expect(page.locator("#email-view")).to_be_visible(timeout=2000)
    sync_api.expect(in_email).to_have_text(EXAMPLE_TITLE, timeout=2000)
    sync_api.expect(panel).to_be_hidden()
    assert time.monotonic() - started < 2.0
    sync_api.expect(index.locator("#issues")).to_contain_text("builds", timeout=2000)
    index.close()


def test_a_check_error_opens_the_findings_beside_the_email(page: Page, server: Running) -> None:
    path = server.root / "issues" / f"{EXAMPLE_SLUG}.yaml"
    good = path.read_text()
    open_issue(page, server)
    findings = page.locator("#findings")
    sync_api.expect(findings).not_to_have_attribute("open", "")
    path.write_text(
        good.replace(
            "[this blog](https://www.coproductioncollective.co.uk/news/meaningful-conversations)", "[this blog](https://TK)"
        )
    )
    sync_api.expect(findings).to_have_attribute("open", "", timeout=2000)
    sync_api.expect(page.locator("#checks li.error")).to_contain_text(f"issues/{EXAMPLE_SLUG}.yaml:21:")
    sync_api.expect(page.locator("#checks li.error")).to_contain_text("link-placeholder")
    sync_api.expect(page.locator("#email-view")).to_be_visible()
    shot(page, "issue-check-error.png")
    index = page.context.new_page()
    index.goto(server.url)
    sync_api.expect(index.locator("#issues")).to_contain_text("1 check error")
    shot(index, "index-check-error.png")
    index.close()


# -- results from SendGrid on the issue page (issue 12) ---------------------------------------


def _write_results(project: Path) -> None:
    with SendGridServer() as sg:
        sg.account.stats[EXAMPLE_SLUG] = [
            ("2024-06-14", metrics(requests=5, delivered=5, unique_opens=4, opens=6, unique_clicks=2, clicks=3)),
            ("2024-06-15", metrics(unique_opens=1, opens=1, unique_clicks=1, clicks=1, unsubscribes=1)),
        ]
        result = run_cli("results", EXAMPLE_ISSUE, "--since", "2024-06-14", cwd=project, env=env(sg))
        assert result.code == 0, result.output


def test_the_issue_page_shows_results_and_a_chart(project: Path, page: Page, server: Running) -> None:
    open_issue(page, server)
    sync_api.expect(page.locator("#results")).to_be_hidden()  # no results yet: nothing shown
    _write_results(project)
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
    heights = page.evaluate(
        "() => [...document.querySelectorAll('#results-chart rect.opens')]"
        ".slice(0, 3).map((r) => Number(r.getAttribute('height')))"
    )
    assert heights[0] == pytest.approx(110) and heights[1] == pytest.approx(27.5) and heights[2] == 0
    shot(box, "issue-results.png")


_OVERFLOW = """() => {
    const scrolledInside = (n) => {  // inside a box that scrolls (or clips) sideways itself
        for (let up = n.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== 'visible') return true;
        }
        return false;
    };
    const wide = [...document.querySelectorAll('body *')].filter((n) => {
        const box = n.getBoundingClientRect();
        return box.width > 0 && (box.right > window.innerWidth + 0.5 || (box.left < -0.5 && box.right > 0))  // the skip link waits off-screen
            && (n.getAttribute('role') === 'tab' || !scrolledInside(n));
    }).map((n) => n.id || n.className || n.tagName);
    return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, wide};
}"""


def test_the_preview_fits_a_390_px_phone(browser: Browser, server: Running) -> None:
    """On a phone 390 px wide nothing sticks out to the side, in every tab: no sideways
    scroll of the page; the tabs and the email frames are whole on the screen. The plain
    text is shown as sent (76 columns, not re-wrapped), scrolled sideways inside its pane."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(server.url) or route.request.url == "about:srcdoc"
            else route.abort()
        ),
    )
    phone = context.new_page()
    try:
        open_issue(phone, server)
        phone.wait_for_function("document.getElementById('frame-mobile').contentDocument.querySelector('h1')")
        for tab in ("Email", "Plain text", "HTML source", "Headers", "Web"):
            phone.get_by_role("tab", name=tab).click()
            sync_api.expect(phone.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
            found = phone.evaluate(_OVERFLOW)
            assert found["scroll"] <= found["inner"] == 390, (tab, found)
            assert found["wide"] == [], (tab, found)
            if tab == "Plain text":
                shown = phone.evaluate("""() => {
                    const pre = document.getElementById('text');
                    const range = document.createRange();
                    range.selectNodeContents(pre);
                    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                    return {white: getComputedStyle(pre).whiteSpace, lines: pre.textContent.split('\\n').length,
                            boxes: tops.size, inside: pre.scrollWidth > pre.clientWidth,
                            overflow: getComputedStyle(pre).overflowX};
                }""")
                assert shown["white"] == "pre", shown
                assert shown["boxes"] <= shown["lines"], shown  # no line of the text was wrapped
                assert shown["inside"] and shown["overflow"] == "auto", shown  # scrolled inside its pane
            shot(phone, f"phone-390-{tab.lower().replace(' ', '-')}.png")
    finally:
        context.close()
