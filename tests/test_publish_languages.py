"""``newsletter publish`` of an issue in several languages: one page per language, each
naming the others (``hreflang``, the default as ``x-default``), and one feed per language."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.etree
import lxml.html

from tests.conftest import REPO, run_cli

BILINGUAL = "issues/examples/2024-06-june-team-update-bilingual.yaml"
SLUG = "2024-06-14-bilingual"
BASE = "https://www.coproductioncollective.co.uk/newsletters/"
ATOM = "{http://www.w3.org/2005/Atom}"


def _publish(project: Path) -> Path:
    shutil.copy(REPO / BILINGUAL, project / "issues" / f"{SLUG}.yaml")
    result = run_cli("publish", cwd=project)
    assert result.code == 0, result.output
    return project / "site"


def _alternates(page: Path) -> tuple[str | None, dict[str, str], str | None]:
    doc = lxml.html.document_fromstring(page.read_text(encoding="utf-8"))
    links = {str(e.get("hreflang")): str(e.get("href", "")) for e in doc.iter("link") if e.get("hreflang")}
    feed = next((e.get("href") for e in doc.iter("link") if e.get("type") == "application/atom+xml"), None)
    return doc.get("lang"), links, feed


def test_one_page_per_language_linked_to_each_other(project: Path) -> None:
    site = _publish(project)
    pages = {"en": site / f"{SLUG}.html", "cy": site / f"{SLUG}.cy.html"}
    expected = {"en": f"{BASE}{SLUG}.html", "cy": f"{BASE}{SLUG}.cy.html", "x-default": f"{BASE}{SLUG}.html"}
    assert _alternates(pages["en"]) == ("en", expected, "feed.xml")
    assert _alternates(pages["cy"]) == ("cy", expected, "feed.cy.xml")
    welsh = pages["cy"].read_text(encoding="utf-8")
    assert "daw syniadau mawr o sgyrsiau bach" in welsh and "14 Mehefin 2024" in welsh
    assert "big ideas come out of small conversations" in pages["en"].read_text(encoding="utf-8")
    # an issue in one language: its page names no other
    assert _alternates(site / "2024-06-june-team-update.html")[1] == {}


def test_one_feed_per_language(project: Path) -> None:
    site = _publish(project)
    english = lxml.etree.parse(str(site / "feed.xml")).getroot()
    welsh = lxml.etree.parse(str(site / "feed.cy.xml")).getroot()
    assert welsh.get("{http://www.w3.org/XML/1998/namespace}lang") == "cy"
    assert [e.findtext(f"{ATOM}title") for e in welsh.iter(f"{ATOM}entry")] == [
        "Diweddariad y Tîm, Mehefin: Adeiladu ar sgyrsiau ystyrlon"
    ]
    assert [e.findtext(f"{ATOM}id") for e in welsh.iter(f"{ATOM}entry")] == [f"{BASE}{SLUG}.cy.html"]
    self_link = next(e.get("href") for e in welsh.iter(f"{ATOM}link") if e.get("rel") == "self")
    assert self_link == f"{BASE}feed.cy.xml" and welsh.findtext(f"{ATOM}id") != english.findtext(f"{ATOM}id")
    assert f"{BASE}{SLUG}.html" in [e.findtext(f"{ATOM}id") for e in english.iter(f"{ATOM}entry")]


def test_publishing_again_gives_the_same_files(project: Path) -> None:
    site = _publish(project)
    before = {p.name: p.read_bytes() for p in site.iterdir() if p.is_file()}
    result = run_cli("publish", cwd=project)
    assert result.code == 0, result.output
    assert {p.name: p.read_bytes() for p in site.iterdir() if p.is_file()} == before
    (site / f"{SLUG}.cy.html").unlink()
    result = run_cli("publish", cwd=project)  # from the cache: the Welsh page comes back the same
    assert result.code == 0 and (site / f"{SLUG}.cy.html").read_bytes() == before[f"{SLUG}.cy.html"]


def _words(element: lxml.html.HtmlElement) -> str:
    return "".join(str(t) for t in element.itertext())


def test_an_index_per_language(project: Path) -> None:
    """index.cy.html lists the Welsh pages in Welsh words and dates; the indexes name each
    other (hreflang), and a Welsh page's "all issues" link leads to the Welsh index."""
    result = run_cli("publish", cwd=project)
    assert result.code == 0, result.output
    one_language = (project / "site" / "index.html").read_text(encoding="utf-8")
    assert "hreflang" not in one_language and not (project / "site" / "index.cy.html").exists()
    site = _publish(project)
    expected = {"en-GB": f"{BASE}index.html", "cy": f"{BASE}index.cy.html", "x-default": f"{BASE}index.html"}
    assert _alternates(site / "index.html") == ("en-GB", expected, "feed.xml")
    assert _alternates(site / "index.cy.html") == ("cy", expected, "feed.cy.xml")
    welsh = lxml.html.document_fromstring((site / "index.cy.html").read_text(encoding="utf-8"))
    items = [(a.get("href"), _words(a)) for h2 in welsh.iter("h2") for a in h2.iter("a")]
    assert items == [(f"{SLUG}.cy.html", "Diweddariad y Tîm, Mehefin: Adeiladu ar sgyrsiau ystyrlon")]
    assert [_words(t) for t in welsh.iter("time")] == ["14 Mehefin 2024"]
    assert [_words(h) for h in welsh.iter("h1")] == ["Archif y cylchlythyr"]
    english = (site / "index.html").read_text(encoding="utf-8")
    assert f'href="{SLUG}.html"' in english and "Newsletter archive" in english
    page = lxml.html.document_fromstring((site / f"{SLUG}.cy.html").read_text(encoding="utf-8"))
    assert {a.get("href") for a in page.iter("a") if _words(a) == "Pob rhifyn"} == {"index.cy.html"}
