"""The web edition of an issue in several languages: one page per language, each naming the
others (``<link rel="alternate" hreflang>``, the default language's page as ``x-default``),
and one feed per language (``feed.xml`` for the default, ``feed.cy.xml`` for Welsh).

An issue in one language is left exactly as :mod:`newsletter.web.page` makes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import lxml.html
from lxml import etree

from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.pipeline import render_html_for_browsers
from newsletter.sitenames import FEED, SiteAddress
from newsletter.web.index import index_name
from newsletter.web.page import DOCTYPE, WebPage, web_page
from newsletter.web.state import Correction


@dataclass(frozen=True, slots=True)
class Translation:
    """An issue's page in one of its languages but the default."""

    language: str
    title: str
    summary: str
    page: WebPage

    def to_json(self) -> list[str | None]:
        return [self.language, self.title, self.summary, self.page.name, self.page.html, self.page.content]

    @classmethod
    def from_json(cls, data: list[str | None]) -> Translation:
        language, title, summary, name, html, content = data
        assert language is not None and title is not None and summary is not None
        assert name is not None and html is not None
        return cls(language, title, summary, WebPage(name, html, content))


def feed_name(language: str | None = None) -> str:
    """The feed of a language: ``feed.xml`` for the default, ``feed.cy.xml`` for Welsh."""
    return f"feed.{language}.xml" if language else FEED


def translations(
    project: Project,
    issue_file: IssueFile,
    site: SiteAddress,
    corrections: tuple[Correction, ...],
    default_page: WebPage,
    *,
    feed: bool,
) -> tuple[WebPage, tuple[Translation, ...]]:
    """The default language's page with its alternates, and the page in each other language
    (an issue in one language: its page as it is, and none)."""
    if not issue_file.languages:
        return default_page, ()
    settings = project.settings
    made: list[Translation] = []
    for variant in issue_file.in_each_language()[1:]:
        assert variant.language is not None
        without_greeting = variant.issue.model_copy(update={"greeting": False})
        html = render_html_for_browsers(dataclasses.replace(variant, issue=without_greeting), settings, project.root)
        page = web_page(
            html,
            settings,
            variant.issue,
            variant.page_slug,
            site,
            corrections,
            feed=feed,
            language=variant.language,
            index=index_name(variant.language),
        )
        made.append(Translation(variant.language, variant.issue.title, variant.issue.preheader or variant.issue.subject, page))
    pages = [(issue_file.languages[0], default_page.name)] + [(t.language, t.page.name) for t in made]
    default = dataclasses.replace(default_page, html=_alternates(default_page.html, pages, None, site))
    return default, tuple(
        Translation(
            t.language, t.title, t.summary, dataclasses.replace(t.page, html=_alternates(t.page.html, pages, t.language, site))
        )
        for t in made
    )


def _alternates(html: str, pages: Sequence[tuple[str, str]], language: str | None, site: SiteAddress) -> str:
    """The page with a link to itself and each other language's page (hreflang), the default
    language's as ``x-default``; its feed link and ``og:locale`` those of its language."""
    doc = lxml.html.document_fromstring(html)
    head = doc.find("head")
    assert head is not None
    for link in head.iter("link"):
        if link.get("type") == "application/atom+xml":
            link.set("href", site.link(feed_name(language)))
    if language is not None:
        for meta in head.iter("meta"):
            if meta.get("property") == "og:locale":
                meta.set("content", language.replace("-", "_"))
    canonical = next((i for i, e in enumerate(head) if e.tag == "link" and e.get("rel") == "canonical"), len(head) - 1)
    links = [(tag, site.url(name)) for tag, name in pages] + [("x-default", site.url(pages[0][1]))]
    for offset, (tag, href) in enumerate(links, start=1):
        element = etree.Element("link")
        element.set("rel", "alternate")
        element.set("hreflang", tag)
        element.set("href", href)
        element.tail = "\n"
        head.insert(canonical + offset, element)
    text: str = lxml.html.tostring(doc, doctype=DOCTYPE, encoding="unicode")
    return text + "\n"
