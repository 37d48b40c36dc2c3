"""The email in real Chromium (Playwright driving Debian's chromium), as a reader sees it:
light mode, dark mode (``prefers-color-scheme: dark`` emulated), Outlook.com's dark mode
(its ``data-ogsc``/``data-ogsb`` marks put on the page as Outlook.com does) and full
inversion (``filter: invert(1)`` on the page, the colours the filter gives computed from
the computed ones). Every piece of visible text, links included, is measured against the
background behind it: WCAG AA, 4.5:1 (3:1 for large text). Images are blocked, so the
logo's alt text is measured on the brand band too. No request leaves the page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from newsletter.project import Project
from newsletter.render.personalize import Greeting, recipient_values
from tests.conftest import EXAMPLE_ISSUE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.slow  # Chromium

Scheme = Literal["light", "dark"]
OpenPage = Callable[[Scheme], "tuple[Page, Project]"]

pytest.importorskip("playwright.sync_api")

# For each visible element with text of its own: its colour, the background behind it
# (the nearest ancestor with an opaque background colour) and whether the text is large.
MEASURE = """(mode) => {
  const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const filter = getComputedStyle(document.documentElement).filter;
  const shown = (c) => filter.startsWith('invert(1)') ? {r: 255 - c.r, g: 255 - c.g, b: 255 - c.b, a: c.a} : c;
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                       return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.a > 0.5) return c;
    }
    return parse(getComputedStyle(document.documentElement).backgroundColor || 'rgb(255,255,255)');
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    const alt = el.tagName === 'IMG' && !el.complete || (el.tagName === 'IMG' && el.naturalWidth === 0) ? (el.alt || '') : '';
    const text = own || alt;
    if (!text) continue;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || el.closest('.nl-preheader')) continue;
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const fg = shown(parse(s.color)), bg = shown(background(el));
    out.push({text: text.slice(0, 40), tag: el.tagName, ratio: ratio(fg, bg), large: size >= 24 || (bold && size >= 18.66),
              fg: [fg.r, fg.g, fg.b], bg: [bg.r, bg.g, bg.b], alt: !!alt});
  }
  return {filter, items: out};
}"""

OUTLOOK_COM = """() => { for (const el of document.querySelectorAll('body, body *')) { el.setAttribute('data-ogsc', ''); el.setAttribute('data-ogsb', ''); } }"""


def _html(project: Path) -> tuple[str, Project]:
    p = Project.find(project / EXAMPLE_ISSUE)
    rendered = p.render(p.load(project / EXAMPLE_ISSUE))
    html, _ = rendered.fill(
        recipient_values(
            email="amina@coproductioncollective.co.uk",
            first_name="Amina",
            unsubscribe_url="https://www.coproductioncollective.co.uk/unsubscribe?token=t",
            fallback_first_name="friend",
            greeting=Greeting.of(p.settings),
        )
    )
    return html, p


@pytest.fixture
def email_page(browser: Browser, project: Path) -> Iterator[OpenPage]:
    """A page factory: the example email in the given colour scheme, images blocked."""
    contexts: list[BrowserContext] = []

    def open_page(scheme: Scheme) -> tuple[Page, Project]:
        context = browser.new_context(viewport={"width": 800, "height": 900}, color_scheme=scheme)
        context.route("**/*", lambda route: route.abort())  # images blocked, nothing leaves
        contexts.append(context)
        page = context.new_page()
        html, settings = _html(project)
        page.set_content(html, wait_until="load")
        return page, settings

    yield open_page
    for context in contexts:
        context.close()


def _failures(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in result["items"] if i["ratio"] + 1e-9 < (3.0 if i["large"] else 4.5)]


@pytest.mark.parametrize("mode", ["light", "dark", "outlook.com", "inverted"])
def test_text_and_links_keep_wcag_aa_contrast(email_page: OpenPage, mode: str) -> None:
    page, p = email_page("dark" if mode == "dark" else "light")
    if mode == "outlook.com":
        page.evaluate(OUTLOOK_COM)
    if mode == "inverted":
        page.add_style_tag(content="html { filter: invert(1) !important; }")
    result = page.evaluate(MEASURE, mode)
    assert result["filter"].startswith("invert(1)") == (mode == "inverted")
    items = result["items"]
    assert len(items) > 50 and any(i["tag"] == "A" for i in items)
    assert _failures(result) == []
    dark = p.settings.dark_colours
    body = next(i for i in items if i["text"].startswith("Later this month"))
    expected_bg = {
        "light": "#ffffff",
        "dark": dark.content_background,
        "outlook.com": dark.content_background,
        "inverted": "#000000",
    }[mode]
    assert "#%02x%02x%02x" % tuple(round(v) for v in body["bg"]) == expected_bg, body
    alt = [i for i in items if i["alt"]]
    logo = p.settings.logo
    assert logo is not None  # the example has one
    assert [i["text"] for i in alt][:1] == [logo.alt], "the logo's alt text is shown"
    assert alt[0]["ratio"] >= 4.5, alt[0]


def test_dark_mode_changes_the_colours_that_need_it(email_page: OpenPage) -> None:
    light, _ = email_page("light")
    dark, p = email_page("dark")
    colours = [page.evaluate(MEASURE, "x")["items"] for page in (light, dark)]
    link = [next(i for i in items if i["tag"] == "A" and i["text"] == "this blog") for items in colours]
    assert "#%02x%02x%02x" % tuple(link[0]["fg"]) == p.settings.colours.link
    assert "#%02x%02x%02x" % tuple(link[1]["fg"]) == p.settings.dark_colours.link
    button = [next(i for i in items if i["text"] == "Sign up to a Co-Pro Cuppa") for items in colours]
    assert button[0]["fg"] == button[1]["fg"] and button[0]["bg"] == button[1]["bg"]  # the brand stays


def test_dark_logo_shown_in_dark_mode_only(browser: Browser, project: Path) -> None:
    settings = project / "newsletter.yaml"
    dark_src = "https://www.coproductioncollective.co.uk/images/logo-dark.png"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("  width: 180", f"  width: 180\n  dark_src: {dark_src}"), encoding="utf-8"
    )
    html, _ = _html(project)
    shown = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            context.route("**/*", lambda route: route.abort())
            page = context.new_page()
            page.set_content(html, wait_until="load")
            shown[scheme] = page.evaluate("""() => [...document.querySelectorAll('img')]
                .filter(i => i.getBoundingClientRect().height > 0).map(i => i.getAttribute('src'))""")
        finally:
            context.close()
    assert dark_src not in shown["light"] and dark_src in shown["dark"]
    assert sum("logo" in s for s in shown["light"]) == sum("logo" in s for s in shown["dark"]) == 1


def test_preheader_is_not_shown(email_page: OpenPage) -> None:
    page, _ = email_page("light")
    box = page.evaluate("() => document.querySelector('.nl-preheader').getBoundingClientRect().height")
    assert box == 0
    first = page.evaluate("() => document.body.innerText.trim().split('\\n')[0]")
    assert first == "View this email in your browser"
