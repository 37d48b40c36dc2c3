"""The issue page's views of the email in real Chromium: light, dark (the email's own
prefers-color-scheme styles), inverted (as apps that flip colours show it), the width
presets from 320 to 800 px, and the send's state on the index and the issue page.

Uses the ``server`` and ``page`` fixtures of test_preview_browser.py (a server in a copy
of the example project, a browser context that never leaves 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from newsletter.settings import load_settings
from tests.conftest import EXAMPLE_ISSUE
from tests.preview_kit import EXAMPLE_SLUG, Running, stopped_send
from tests.test_preview_browser import open_issue, page, server, shot, sync_api  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow  # Chromium

INVERT = "invert(1) hue-rotate(180deg)"
WIDTHS = (320, 375, 414, 600, 800)


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_dark_view_shows_the_emails_dark_styles(page: Page, server: Running, project: Path) -> None:  # noqa: F811
    dark = load_settings(project).dark_colours
    open_issue(page, server)
    frames = [page.frame_locator(f"#frame-{which}") for which in ("desktop", "mobile")]
    sync_api.expect(frames[0].locator("h1")).to_be_visible()
    for frame in frames:  # light: as most inboxes show it
        sync_api.expect(frame.locator("body")).not_to_have_css("background-color", rgb(dark.background))
    sync_api.expect(page.locator("#scheme-note")).to_be_hidden()

    page.get_by_label("Dark").check()
    for frame in frames:
        sync_api.expect(frame.locator("body")).to_have_css("background-color", rgb(dark.background))
        sync_api.expect(frame.locator(".nl-credit").first).to_have_css("color", rgb(dark.muted))
        sync_api.expect(frame.locator(".nl-content h1").first).to_have_css("color", rgb(dark.heading))
    sync_api.expect(page.locator("#scheme-note")).to_contain_text("prefers-color-scheme")
    assert (
        page.evaluate(
            "() => document.getElementById('frame-desktop').contentWindow"
            ".getComputedStyle(document.getElementById('frame-desktop').contentDocument"
            ".documentElement).colorScheme"
        )
        == "dark"
    )
    assert "colours=dark" in page.url
    shot(page, "issue-dark.png")

    page.reload()  # the choice is kept in the address
    sync_api.expect(page.get_by_label("Dark")).to_be_checked()
    sync_api.expect(frames[0].locator("body")).to_have_css("background-color", rgb(dark.background))

    page.get_by_label("Light").check()
    sync_api.expect(frames[0].locator("body")).not_to_have_css("background-color", rgb(dark.background))
    assert "colours" not in page.url


def test_inverted_view_flips_the_frame_and_keeps_images(page: Page, server: Running, project: Path) -> None:  # noqa: F811
    dark = load_settings(project).dark_colours
    open_issue(page, server, "?colours=inverted")
    sync_api.expect(page.get_by_label("Inverted")).to_be_checked()
    for which in ("desktop", "mobile"):
        sync_api.expect(page.locator(f"#frame-{which}")).to_have_css("filter", INVERT)
        frame = page.frame_locator(f"#frame-{which}")
        sync_api.expect(frame.locator("img").first).to_have_css("filter", INVERT)  # inverted back
        # the light email, flipped: its own dark styles do not apply
        sync_api.expect(frame.locator("body")).not_to_have_css("background-color", rgb(dark.background))
    sync_api.expect(page.locator("#scheme-note")).to_contain_text("colours flipped")
    shot(page, "issue-inverted.png")
    page.get_by_label("Light").check()
    sync_api.expect(page.locator("#frame-desktop")).to_have_css("filter", "none")
    sync_api.expect(page.frame_locator("#frame-desktop").locator("img").first).to_have_css("filter", "none")


def _inner(page: Page) -> list[int]:  # noqa: F811
    sizes: list[int] = page.evaluate("""() => { const d = document.getElementById('frame-mobile').contentDocument.documentElement;
        return [d.clientWidth, d.scrollWidth]; }""")
    return sizes


def test_width_presets_from_320_to_800(page: Page, server: Running) -> None:  # noqa: F811
    open_issue(page, server)
    sync_api.expect(page.locator("#device-desktop")).to_be_visible()
    sync_api.expect(page.locator("#frame-mobile")).to_have_css("width", "375px")
    for width in WIDTHS:
        page.locator("#width").select_option(str(width))
        sync_api.expect(page.locator("#frame-mobile")).to_have_css("width", f"{width}px")
        sync_api.expect(page.locator("#mobile-caption")).to_have_text(f"Width · {width} px")
        sync_api.expect(page.locator("#device-desktop")).to_be_hidden()
        client, scroll = _inner(page)
        assert client == width
        assert scroll <= width, f"the email needs {scroll} px at {width} px"  # it fits: no sideways scrolling
        shot(page.locator("#device-mobile"), f"issue-width-{width}.png")
    assert "width=800" in page.url
    page.reload()
    sync_api.expect(page.locator("#width")).to_have_value("800")
    sync_api.expect(page.locator("#frame-mobile")).to_have_css("width", "800px")
    page.locator("#width").select_option("")  # back to desktop and phone
    sync_api.expect(page.locator("#device-desktop")).to_be_visible()
    sync_api.expect(page.locator("#frame-mobile")).to_have_css("width", "375px")
    assert "width" not in page.url


def test_the_send_state_on_the_index_and_the_issue_page(page: Page, server: Running, project: Path) -> None:  # noqa: F811
    page.goto(server.url)
    cell = page.locator(f'#issues tr[data-slug="{EXAMPLE_SLUG}"] .send')
    sync_api.expect(cell).to_have_text("not sent yet")
    open_issue(page, server)
    sync_api.expect(page.locator("#send-state")).to_have_text("Send: not sent yet")

    stopped_send(project)  # a send that stopped with three people still to go
    expected = f"stopped: 3 pending (0 accepted, 0 failed, 3 pending) — resume with newsletter send {EXAMPLE_ISSUE} --yes --provider smtp"
    page.goto(server.url)
    sync_api.expect(cell).to_have_text(expected)
    sync_api.expect(cell).to_have_attribute("data-state", "stopped")
    shot(page, "index-send-state.png")
    open_issue(page, server)
    sync_api.expect(page.locator("#send-state")).to_have_text(f"Send: {expected}")
    sync_api.expect(page.locator("#send-state")).to_have_attribute("data-state", "stopped")
