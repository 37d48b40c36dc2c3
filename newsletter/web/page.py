"""An issue's web page, made from its email: the same design, read on the web.

The email is rendered without its greeting (a page has no reader to greet), then
changed as a document tree (lxml), never by pattern-matching text:

* links that hold a per-reader token (the unsubscribe link) become the subscribe link
  of ``newsletter.yaml`` when it has one, and are left out otherwise (with the ``·``
  that separated them);
* the footer's reason for receiving the email goes;
* the "view in browser" links, which name this very page, lead to the archive's index;
* links into the archive (calendar files, other issues) become relative;
* the head gains a real title, a description (the preheader), the canonical address,
  the feed, and Open Graph and Twitter card tags with the hero image;
* any token a project's own template still leaves is filled as for a reader with no
  details (the fallback first name, nothing else), so no ``__nl_`` reaches the page;
* markup only mail programs need goes (:mod:`newsletter.web.webcopy`): the page is valid HTML;
* no heading level is skipped in the page's outline (``aria-level`` where the email skips one);
* each correction (``newsletter correct``) is a dated note under the title.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

from newsletter.issue.model import Issue
from newsletter.render.catalog import gettext_in
from newsletter.render.dates import long_date, written_in
from newsletter.render.personalize import TOKEN_RE, Tokenized
from newsletter.render.words import N_, reason_in
from newsletter.settings import Settings
from newsletter.sitenames import FEED, INDEX, SiteAddress, page_name
from newsletter.web.absolute import make_absolute
from newsletter.web.state import Correction
from newsletter.web.webcopy import clean_for_web

DOCTYPE = "<!doctype html>"
SEPARATORS = ("·", "|", "•")
INDEX_WORDS = N_("All issues")
SUBSCRIBE_WORDS = N_("Subscribe")
CORRECTED_WORDS = N_("Corrected %(date)s:")


@dataclass(frozen=True, slots=True)
class WebPage:
    name: str
    html: str
    content: str | None
    """The page's body for the feed: absolute links, no hidden text, no comments (None
    when not asked for: only the feed's newest issues need it)."""


def _strip_separator(text: str, *, leading: bool) -> str | None:
    """``text`` without one separator at its start (or end); None when it has none there."""
    stripped = text.lstrip() if leading else text.rstrip()
    if leading and stripped[:1] in SEPARATORS:
        return stripped[1:].lstrip()
    if not leading and stripped[-1:] in SEPARATORS:
        return stripped[:-1].rstrip() + " " if stripped[:-1].strip() else ""
    return None


def _drop(link: lxml.html.HtmlElement) -> None:
    """Remove a link with one separator beside it; a paragraph left empty goes too."""
    parent = link.getparent()
    tail = _strip_separator(link.tail or "", leading=True)
    if tail is not None:
        link.tail = tail
    else:
        before = link.getprevious()
        text = before.tail if before is not None else parent.text if parent is not None else None
        trimmed = _strip_separator(text or "", leading=False)
        if trimmed is not None:
            if before is not None:
                before.tail = trimmed
            elif parent is not None:
                parent.text = trimmed
    link.drop_tree()
    if parent is not None and parent.tag == "p" and not parent.text_content().strip() and not len(parent):
        parent.drop_tree()


def _relink(link: lxml.html.HtmlElement, href: str, words: str) -> None:
    for child in list(link):
        link.remove(child)
    link.set("href", href)
    link.text = words


def _links(
    doc: lxml.html.HtmlElement, settings: Settings, slug: str, site: SiteAddress, language: str | None, index: str
) -> None:
    own = site.archive + page_name(slug)
    for link in list(doc.iter("a")):
        href = link.get("href") or ""
        if TOKEN_RE.search(href):
            if "__nl_unsubscribe_url_" in href and settings.subscribe_url:
                _relink(link, settings.subscribe_url, gettext_in(language or settings.language, SUBSCRIBE_WORDS))
            else:
                _drop(link)
        elif href in (own, site.public + page_name(slug)):
            _relink(link, site.link(index), gettext_in(language or settings.language, INDEX_WORDS))
        else:
            local = site.local(href)
            if local is not None:
                link.set("href", local)


def _drop_reason(doc: lxml.html.HtmlElement, words: str) -> None:
    """The footer's "why you are receiving this email" has no place on a web page."""
    split = words.split()
    reason = " ".join(split)
    # only paragraphs holding its longest word can be it (lxml's search, not a text per paragraph)
    found = doc.xpath("//p[contains(., $word)]", word=max(split, key=len)) if split else list(doc.iter("p"))
    for paragraph in found:
        if " ".join(paragraph.text_content().split()) == reason:
            paragraph.drop_tree()


def _head(doc: lxml.html.HtmlElement, settings: Settings, issue: Issue, slug: str, site: SiteAddress) -> None:
    head = doc.find("head")
    if head is None:
        head = etree.Element("head")
        doc.insert(0, head)
    if not any(meta.get("charset") for meta in head.iter("meta")):
        charset = etree.Element("meta")
        charset.set("charset", "utf-8")
        head.insert(0, charset)  # the serializer drops the email's http-equiv Content-Type
    title = head.find("title")
    if title is None:
        title = etree.SubElement(head, "title")
    title.text = f"{issue.title} · {settings.name}"
    description = issue.preheader or issue.subject
    url = site.url(page_name(slug))
    tags: list[tuple[str, dict[str, str]]] = [
        ("meta", {"name": "description", "content": description}),
        ("link", {"rel": "canonical", "href": url}),
        ("link", {"rel": "alternate", "type": "application/atom+xml", "title": settings.name, "href": site.link(FEED)}),
        ("meta", {"property": "og:type", "content": "article"}),
        ("meta", {"property": "og:site_name", "content": settings.name}),
        ("meta", {"property": "og:title", "content": issue.title}),
        ("meta", {"property": "og:description", "content": description}),
        ("meta", {"property": "og:url", "content": url}),
        ("meta", {"property": "og:locale", "content": settings.language.replace("-", "_")}),
        ("meta", {"property": "article:published_time", "content": issue.date.isoformat()}),
    ]
    hero = issue.hero
    if hero is not None:
        tags.append(("meta", {"property": "og:image", "content": hero.src}))
        if hero.alt:
            tags.append(("meta", {"property": "og:image:alt", "content": hero.alt}))
    tags += [
        ("meta", {"name": "twitter:card", "content": "summary_large_image" if hero else "summary"}),
        ("meta", {"name": "twitter:title", "content": issue.title}),
        ("meta", {"name": "twitter:description", "content": description}),
    ]
    if hero is not None:
        tags.append(("meta", {"name": "twitter:image", "content": hero.src}))
        if hero.alt:
            tags.append(("meta", {"name": "twitter:image:alt", "content": hero.alt}))
    at = head.index(title) + 1
    for offset, (tag, attributes) in enumerate(tags):
        element = etree.Element(tag)
        for key, value in attributes.items():
            element.set(key, value)
        head.insert(at + offset, element)


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _outline(doc: lxml.html.HtmlElement) -> None:
    """No heading level skipped: a heading deeper than the one before it allows (an events
    block's ``h3`` right under the title) is given the level it stands at (``aria-level``), so a
    screen reader's outline has no gap, and it keeps the look of its tag."""
    last = 0
    for heading in doc.iter(*_HEADINGS):
        level = int(heading.get("aria-level") or heading.tag[1])
        if level > last + 1:
            level = last + 1
            heading.set("aria-level", str(level))
        last = level


def _feed_content(doc: lxml.html.HtmlElement, url: str) -> str:
    """The body for a feed reader: links absolute, no hidden preheader, no comments."""
    found = doc.find("body")
    body = copy.deepcopy(found if found is not None else doc)
    etree.strip_elements(body, etree.Comment, with_tail=False)
    for element in list(body.iter("div")):
        if "display:none" in (element.get("style") or "").replace(" ", ""):
            element.drop_tree()
    make_absolute(body, url)
    parts = [lxml.html.tostring(child, encoding="unicode") for child in body]
    return ((body.text or "") + "".join(parts)).strip()


def _corrections(
    doc: lxml.html.HtmlElement, corrections: Sequence[Correction], zone: str, language: str | None, default: str
) -> None:
    """A dated note per correction, oldest first, right under the title (or at the top); on
    a page in another language than the default, "Corrected" and the date in its words."""
    if not corrections:
        return
    note = etree.Element("div")
    note.set("class", "nl-correction")
    note.set("role", "note")
    note.set("style", "border-left:4px solid currentColor;padding:4px 0 4px 12px;margin:0 0 12px 0;")
    for correction in corrections:
        paragraph = etree.SubElement(note, "p")
        paragraph.set("style", "margin:0 0 4px 0;")
        strong = etree.SubElement(paragraph, "strong")
        with written_in(language):
            day = long_date(correction.date.astimezone(ZoneInfo(zone)).date())
        strong.text = gettext_in(language or default, CORRECTED_WORDS) % {"date": day}
        strong.tail = f" {correction.note}"
    title = next(doc.iter("h1"), None)
    if title is not None and title.getparent() is not None:
        title.addnext(note)
        note.tail, title.tail = title.tail, None
        return
    body = doc.find("body")
    (body if body is not None else doc).insert(0, note)


def web_page(
    email_html: str,
    settings: Settings,
    issue: Issue,
    slug: str,
    site: SiteAddress,
    corrections: Sequence[Correction] = (),
    *,
    feed: bool = True,
    language: str | None = None,
    index: str = INDEX,
) -> WebPage:
    """The web page of an issue from its email's HTML (rendered without the greeting);
    ``language``: the page's, for an issue in several (the words the page puts in), and
    ``index`` the archive's index its "All issues" link leads to."""
    doc = lxml.html.document_fromstring(email_html)
    clean_for_web(doc)
    _links(doc, settings, slug, site, language, index)
    _drop_reason(doc, reason_in(settings, language))
    _head(doc, settings, issue, slug, site)
    _outline(doc)
    _corrections(doc, corrections, settings.timezone, language, settings.language)
    html = lxml.html.tostring(doc, doctype=DOCTYPE, encoding="unicode")
    values = {"first_name": settings.fallback_first_name}
    content = Tokenized.of(_feed_content(doc, site.url(page_name(slug)))).fill(values) if feed else None
    return WebPage(page_name(slug), Tokenized.of(html).fill(values) + "\n", content)
