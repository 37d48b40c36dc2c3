"""Email quality as the field's tools measure it: the plain-text part's lines and links,
image widths against their column, the preheader, dark-mode markup, Outlook-safe inline
styles and the logo's alt text. One stress issue carries every block type and 30 links.
(Dark mode in a real browser: tests/test_email_browser.py; SpamAssassin:
tests/test_spamassassin.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from lxml.html import HtmlElement

from newsletter.checks import html as H
from newsletter.project import Project
from newsletter.render.personalize import Greeting, recipient_values
from newsletter.render.pipeline import Rendered
from newsletter.wrap import LIMIT, over_limit, split_url, wrap
from tests.conftest import EXAMPLE_ISSUE
from tests.html_kit import xpath

EMAIL_WIDTH = 600  # the email's width; MJML 5 sizes images from the box inside it
GUTTER = 24  # left and right padding of every block but the hero
LONG = "https://www.coproductioncollective.co.uk/news/2024/06/a-long-article-slug-about-co-production-and-trust?utm_source=newsletter&utm_medium=email"

STRESS = f"""\
title: "A stress test with a title long enough to need wrapping in the plain-text part of the email"
subject: Every block type at once
preheader: Every block type, thirty links and long addresses, to test the layout rules.
date: 2024-06-14
hero:
  src: https://www.coproductioncollective.co.uk/images/hero.jpg
  alt: A hero photo without a credit, linked to the full story
  link: https://www.coproductioncollective.co.uk/news/hero-story
  width: 600
intro: |
  An intro with [a link whose address is far too long for one line of text]({LONG}) and
  [a short one](https://www.coproductioncollective.co.uk/a).
blocks:
  - type: heading
    text: A level-two heading that is much longer than seventy-eight characters, to wrap it
  - type: heading
    level: 3
    text: A level-three heading that is also much longer than seventy-eight characters, to wrap
  - type: text
    text: |
      A paragraph with [link one](https://www.coproductioncollective.co.uk/1),
      [link two](https://www.coproductioncollective.co.uk/2) and an address written out:
      {LONG}

      - a bullet with [link three](https://www.coproductioncollective.co.uk/3) and enough words to wrap over the line
        - a nested bullet with [link four]({LONG}) inside it, long enough to need a wrap too

      > A quoted paragraph with [link five](https://www.coproductioncollective.co.uk/5), long enough to wrap.

      ![A photo in the text](https://www.coproductioncollective.co.uk/images/inline.jpg)
      [![A linked photo in the text](https://www.coproductioncollective.co.uk/images/l.jpg)](https://www.coproductioncollective.co.uk/6)
  - type: quote
    text: A long quotation that goes on and on, with [link seven](https://www.coproductioncollective.co.uk/7) in it, until it has to wrap
    by: Somebody with a long description of who they are and which project they belong to, wrapped
  - type: list
    ordered: true
    items:
      - An ordered item with [link eight](https://www.coproductioncollective.co.uk/8) and words enough to wrap the line
      - "An ordered item with [a link with a long address]({LONG})"
  - type: image
    src: https://www.coproductioncollective.co.uk/images/wide.jpg
    alt: A photo as wide as the email, linked
    width: 600
    link: https://www.coproductioncollective.co.uk/9
    caption: A caption that is long enough to wrap, with [link ten](https://www.coproductioncollective.co.uk/10) in it, and more words
    credit: "A photographer with a long name from [Unsplash](https://unsplash.com/)"
  - type: image
    src: https://www.coproductioncollective.co.uk/images/divider.png
    alt: ""
    decorative: true
    link: https://www.coproductioncollective.co.uk/11
  - type: image
    src: https://www.coproductioncollective.co.uk/images/decorative.png
    alt: ""
    decorative: true
  - type: image
    src: https://www.coproductioncollective.co.uk/images/no-width.jpg
    alt: A photo with no width given
  - type: image
    src: https://www.coproductioncollective.co.uk/images/narrow.jpg
    alt: A narrow photo
    width: 300
  - type: button
    label: A button label long enough to take most of a line by itself, really
    url: {LONG}
  - type: button
    label: Write to us
    url: mailto:a.very.long.address.for.the.programme.team@coproductioncollective.co.uk
  - type: events
    title: Events with a title long enough to wrap when it is written out in plain text
    intro: "Events intro with [link twelve](https://www.coproductioncollective.co.uk/12)."
    items:
      - title: An event with a title long enough that it has to be wrapped in the text part
        start: 2024-07-01 12:00
        place: A place with a very long name, Gower Street, London WC1E 6BT, United Kingdom
        signup: {LONG}
      - title: Short event
        start: 2024-07-02 12:00
        signup: https://www.coproductioncollective.co.uk/13
  - type: contact
    text: A contact line long enough to wrap, asking readers to get in touch by emailing us on
    email: a.very.long.address.for.the.programme.team@coproductioncollective.co.uk
  - type: divider
  - type: links
    title: A links block with a title long enough to wrap when written in plain text, really
    items:
"""
STRESS += "".join(
    f"      - title: Further reading number {i} with a title long enough to wrap on its own line\n"
    f"        url: https://www.coproductioncollective.co.uk/further-reading/{i}/an-article-with-a-long-slug-{i}\n"
    + (
        f"        summary: A summary of item {i}, long enough to wrap, with [link](https://www.coproductioncollective.co.uk/s{i}).\n"
        if i % 3 == 0
        else ""
    )
    for i in range(14, 30)
)


def _render(root: Path, relative: str) -> tuple[Project, Rendered]:
    project = Project.find(root / relative)
    return project, project.render(project.load(root / relative))


def _filled(project: Project, rendered: Rendered) -> tuple[str, str]:
    values = recipient_values(
        email="maximiliana.featherstonehaugh-okafor@coproductioncollective.co.uk",
        first_name="Maximiliana",
        unsubscribe_url=project.settings.unsubscribe_url.replace("{token}", "a" * 43),
        fallback_first_name=project.settings.fallback_first_name,
        greeting=Greeting.of(project.settings),
    )
    return rendered.fill(values)


@pytest.fixture
def stress(project: Path) -> Path:
    (project / "issues" / "stress.yaml").write_text(STRESS, encoding="utf-8")
    return project


# --- 1. plain text -------------------------------------------------------------------


def test_wrap_keeps_urls_whole_on_a_line_of_their_own() -> None:
    text = "You will find more in this blog (" + LONG + "). Then more words follow here."
    out = wrap(text, width=76)
    assert out.splitlines() == [
        "You will find more in this blog.",
        LONG,
        "Then more words follow here.",
    ]
    assert split_url("(https://en.wikipedia.org/wiki/Foo_(bar)).") == ("(", "https://en.wikipedia.org/wiki/Foo_(bar)", ").")
    assert wrap("* " + "word " * 30, "  ").count("\n") >= 1
    assert over_limit("x" * 79) == ["x" * 79] and over_limit("  " + LONG) == []


@pytest.mark.parametrize("relative", [EXAMPLE_ISSUE, "issues/stress.yaml"])
def test_text_lines_fit_78_columns(stress: Path, relative: str) -> None:
    project, rendered = _render(stress, relative)
    _, text = _filled(project, rendered)
    assert over_limit(text) == [], "\n".join(over_limit(text))
    assert max(len(line) for line in text.splitlines() if not re.match(r"\s*https?://", line)) <= LIMIT


def test_stress_issue_has_thirty_links(stress: Path) -> None:
    _, rendered = _render(stress, "issues/stress.yaml")
    assert len(set(rendered.links)) >= 30


@pytest.mark.parametrize("relative", [EXAMPLE_ISSUE, "issues/stress.yaml"])
def test_every_link_keeps_its_address_in_the_text(stress: Path, relative: str) -> None:
    project, rendered = _render(stress, relative)
    html, text = _filled(project, rendered)
    words = set(text.split())
    for a in lxml.html.document_fromstring(html).iter("a"):
        href = a.get("href")
        assert href is not None, a
        address = href[len("mailto:") :] if href.startswith("mailto:") else href
        assert any(address in word for word in words), href


@pytest.mark.parametrize("relative", [EXAMPLE_ISSUE, "issues/stress.yaml"])
def test_nothing_the_html_shows_is_lost(stress: Path, relative: str) -> None:
    """Every word a reader sees in the HTML (text, and the alt text of images that carry
    meaning) is in the text part."""
    project, rendered = _render(stress, relative)
    html, text = _filled(project, rendered)
    root = H.parse(html)
    shown = [t for el, t in H.text_nodes(root) if not H.is_hidden(el)]
    shown += [img.get("alt") or "" for img in root.iter("img") if not H.is_hidden(img)]
    seen = set(re.findall(r"\w+", " ".join(shown).lower()))
    written = set(re.findall(r"\w+", text.lower()))
    assert seen - written == set()


def test_images_in_the_text_part(stress: Path) -> None:
    _, rendered = _render(stress, "issues/stress.yaml")
    text = rendered.text
    flat = " ".join(text.split())
    # a hero with a link and no credit keeps both
    assert (
        "[Image: A hero photo without a credit, linked to the full story] (https://www.coproductioncollective.co.uk/news/hero-story)"
        in flat
    )
    assert "[Image: A photo as wide as the email, linked] (https://www.coproductioncollective.co.uk/9)" in flat
    assert "[A linked photo in the text] (https://www.coproductioncollective.co.uk/6)" in flat
    # a decorative image says nothing; its link, if any, is kept
    assert "decorative" not in text.lower() and "[Image: ]" not in text
    assert "\nhttps://www.coproductioncollective.co.uk/11\n" in text


# --- 2. image widths -----------------------------------------------------------------


def _padding(style: dict[str, str]) -> tuple[int, int]:
    parts = [int(p.rstrip("px") or 0) for p in style.get("padding", "0").split()]
    if len(parts) < 4:  # CSS shorthand: "a" → a a a a, "a b" → a b a b, "a b c" → a b c b
        parts = (parts * 4)[:4] if len(parts) < 3 else [*parts, parts[1]]
    return parts[1], parts[3]


@pytest.mark.parametrize("engine", ["css-inline", "premailer"])
def test_no_image_is_wider_than_its_column_box(stress: Path, engine: str) -> None:
    settings = stress / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8")
        .replace("  width: 180", "  width: 600\n  dark_src: https://www.coproductioncollective.co.uk/images/logo-dark.png")
        .replace("inliner: css-inline", f"inliner: {engine}"),
        encoding="utf-8",
    )
    _, rendered = _render(stress, "issues/stress.yaml")
    widths = {}
    for img in H.parse(rendered.html).iter("img"):
        width_attribute, src = img.get("width"), img.get("src")
        if width_attribute is None:
            continue  # a Markdown image in a text block: no width attribute, CSS keeps it in
        assert src is not None, img
        wrapper = next(td for td in img.iterancestors("td") if "padding" in H.style(td))
        right, left = _padding(H.style(wrapper))
        box = EMAIL_WIDTH - left - right
        width = int(width_attribute)
        assert width <= box, (img.get("src"), width, box)
        assert H.style(next(img.iterancestors("td"))).get("width") == f"{width}px"  # Outlook's cell
        widths[src.rsplit("/", 1)[1]] = width
    # what official MJML 5 (5.4.1) writes for the same layout
    assert widths == {
        "logo-white.png": 552,
        "logo-dark.png": 552,
        "hero.jpg": 600,
        "wide.jpg": 552,
        "divider.png": 552,
        "decorative.png": 552,
        "no-width.jpg": 552,
        "narrow.jpg": 300,
    }


# --- 3/4/5. head, preheader, inline styles, logo --------------------------------------


def test_head_declares_dark_mode_and_stops_apple_reformatting(project: Path) -> None:
    _, rendered = _render(project, EXAMPLE_ISSUE)
    head = H.parse(rendered.html).find("head")
    assert head is not None
    metas = {m.get("name"): m.get("content") for m in head.iter("meta") if m.get("name")}
    assert metas["color-scheme"] == "light dark"
    assert metas["supported-color-schemes"] == "light dark"
    assert "x-apple-disable-message-reformatting" in metas
    css = " ".join(s.text or "" for s in head.iter("style"))
    assert "@media (prefers-color-scheme: dark)" in css
    assert "[data-ogsc] .nl-content a" in css and "[data-ogsb] .nl-content" in css  # Outlook.com


def test_preheader_is_hidden_everywhere_and_padded(project: Path) -> None:
    _, rendered = _render(project, EXAMPLE_ISSUE)
    body = H.parse(rendered.html).find("body")
    assert isinstance(body, HtmlElement)
    pre = xpath(body, ".//div[@class='nl-preheader']")[0]
    assert pre is next(el for el in body.iter() if (el.text or "").strip())  # the first text
    style = H.style(pre)
    for name, value in {
        "display": "none",
        "mso-hide": "all",
        "max-height": "0",
        "opacity": "0",
        "overflow": "hidden",
        "visibility": "hidden",
    }.items():
        assert style.get(name) == value, name
    assert "color" not in style  # white-on-white text is what spam filters look for
    content = pre.text_content()
    assert content.startswith(rendered.preheader)
    filler = content[len(rendered.preheader) :]
    assert set(filler) == {"\u034f", "\u200c", "\u00a0"} and len(rendered.preheader) + len(filler) // 3 >= 200
    # what an inbox shows as the preview: the body's text from the start, 200 characters
    preview = body.text_content().lstrip()[: len(rendered.preheader) + len(filler)]
    assert preview == content


@pytest.mark.parametrize("engine", ["css-inline", "premailer"])
def test_no_important_in_style_attributes(project: Path, engine: str) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("inliner: css-inline", f"inliner: {engine}"), encoding="utf-8"
    )
    _, rendered = _render(project, EXAMPLE_ISSUE)
    styled = [el for el in H.parse(rendered.html).iter() if "!important" in (el.get("style") or "")]
    assert styled == [], [lxml.html.tostring(el)[:120] for el in styled]
    assert "!important" in rendered.html  # where it belongs: in the <style> blocks


def test_logo_alt_text_is_styled_for_the_brand_band(project: Path) -> None:
    p, rendered = _render(project, EXAMPLE_ISSUE)
    assert p.settings.logo is not None  # the example has one
    alt = p.settings.logo.alt
    logo = next(img for img in H.parse(rendered.html).iter("img") if img.get("alt") == alt)
    style = H.style(logo)
    assert style["color"] == p.settings.colours.button_text
    assert style["font-size"] == "19px" and style["font-weight"] == "bold"  # large text: 18.66 px bold and up
    assert style["font-family"].startswith("helvetica")


def test_dark_logo_replaces_the_logo_in_dark_mode_only(project: Path) -> None:
    settings = project / "newsletter.yaml"
    dark = "https://www.coproductioncollective.co.uk/images/logo-dark.png"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("  width: 180", f"  width: 180\n  dark_src: {dark}"), encoding="utf-8"
    )
    p, rendered = _render(project, EXAMPLE_ISSUE)
    assert p.settings.logo is not None  # the example has one
    assert p.settings.logo.dark_src == dark
    root = H.parse(rendered.html)
    img = next(img for img in root.iter("img") if img.get("src") == dark)
    cell = next(img.iterancestors("td"))
    assert (
        H.is_hidden(img)
        and H.style(next(td for td in img.iterancestors("td") if "nl-logo-dark" in (td.get("class") or "")))["mso-hide"] == "all"
    )
    assert cell is not None and img.get("alt") == p.settings.logo.alt
    css = " ".join(s.text or "" for s in root.iter("style"))
    assert ".nl-logo-dark { display: table-cell !important; }" in css
    assert "[data-ogsc] .nl-logo-light { display: none !important; }" in css
