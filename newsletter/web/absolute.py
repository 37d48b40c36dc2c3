"""Every link of a page made absolute, as lxml's ``make_links_absolute`` makes them, in
a third of the time.

Speed code. lxml's method asks every element for each of its sixteen link attributes,
one call at a time, and searches every style for ``url(...)``: 0.6 ms a page, most of a
feed entry's making. Here each element is asked once for the names of its attributes,
a set says which are links, and only a style that holds ``url(`` is searched; each link
found is rewritten as lxml rewrites it (``urljoin`` of the stripped link, a style's
``url()`` values from the last). A tree holding anything lxml treats otherwise
(``object``, ``param``, ``meta``, ``style``, ``base``) is left to lxml's own method.
Plain twin: ``make_links_absolute(base, resolve_base_href=False)``;
``tests/test_publish_twins.py`` holds the two equal on thousands of generated pages.
Figures: docs/performance.md (``bench/publish.py``).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.html import defs

_LINK_ATTRIBUTES = defs.link_attrs
_SPECIAL = ("{*}object", "{*}param", "{*}meta", "{*}style", "{*}base")
_CSS_URL = re.compile(r"url\((" + '["][^"]*["]|' + "['][^']*[']|" + r"[^)]*)\)", re.I)
"""lxml's own pattern for ``url(...)`` in CSS (``lxml.html._iter_css_urls``)."""


def _unquoted(text: str, at: int) -> tuple[str, int]:
    if text[:1] == '"' and text[-1:] == '"' or text[:1] == "'" and text[-1:] == "'":
        return text[1:-1], at + 1
    return text, at


def _rewrite(element: lxml.html.HtmlElement, attribute: str, link: str, at: int, base: str) -> None:
    new = urljoin(base, link.strip())
    if new == link:
        return
    current = element.get(attribute) or ""
    if not at and len(current) == len(link):
        element.set(attribute, new)
    else:
        element.set(attribute, current[:at] + new + current[at + len(link) :])


def make_absolute(root: lxml.html.HtmlElement, base: str) -> None:
    """Every link in ``root`` and under it made absolute against ``base``."""
    if next(root.iter(*_SPECIAL), None) is not None:
        root.make_links_absolute(base, resolve_base_href=False)
        return
    for element in root.iter(etree.Element):
        names = element.keys()
        if not names:
            continue
        for name in _LINK_ATTRIBUTES.intersection(names):
            _rewrite(element, name, element.get(name) or "", 0, base)
        style = element.get("style")
        if style is not None and "url(" in style.lower():
            for match in reversed(list(_CSS_URL.finditer(style))):
                link, at = _unquoted(match.group(1), match.start(1))
                _rewrite(element, "style", link, at, base)
