"""Parsed HTML with the types the tests read it by.

lxml's stubs give the generic ``_Element`` for what ``lxml.html`` parses and every
possible result type for an XPath; an HTML document's elements are ``HtmlElement``
(``text_content``, ``find_class``, ``iterlinks``). These say so, and check it.
"""

from __future__ import annotations

import lxml.html
from lxml.etree import _Element
from lxml.html import HtmlElement


def document(html: str | bytes) -> HtmlElement:
    """A whole page (``lxml.html.document_fromstring``)."""
    doc = lxml.html.document_fromstring(html)
    assert isinstance(doc, HtmlElement), doc
    return doc


def fragment(html: str | bytes) -> HtmlElement:
    """A page or a piece of one (``lxml.html.fromstring``)."""
    el = lxml.html.fromstring(html)
    assert isinstance(el, HtmlElement), el
    return el


def xpath(el: _Element, path: str) -> list[HtmlElement]:
    """The elements an XPath finds (a path that finds text or a number is a mistake here)."""
    found = el.xpath(path)
    assert isinstance(found, list), found
    out = [e for e in found if isinstance(e, HtmlElement)]
    assert len(out) == len(found), found
    return out


def elements(el: _Element, *tags: str) -> list[HtmlElement]:
    """``el.iter(*tags)``, as HTML elements (comments and processing instructions left out)."""
    return [e for e in el.iter(*tags) if isinstance(e, HtmlElement)]
