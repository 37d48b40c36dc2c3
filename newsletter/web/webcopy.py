"""The email's markup made into a valid web page: what only mail programs need goes,
presentational attributes become the CSS they stand for.

An email's HTML is written for Outlook and old webmail as much as for browsers:
conditional comments, VML namespaces, ``mso-`` properties, ``cellpadding`` and ``align``
attributes. The page keeps its look and drops those (the Nu HTML checker then finds
nothing to report). Each attribute becomes the declaration a browser gives it,
written before the element's own style, so that the element's style still wins:

* ``table``: ``cellspacing`` → ``border-spacing``; ``cellpadding`` → ``padding`` of its own
  cells; ``align="center"`` → auto side margins; ``width`` and ``bgcolor`` → ``width`` and
  ``background-color``; ``border="0"`` goes (it is the default);
* ``td``: ``align`` → ``text-align`` (and, as browsers do for this attribute, the tables
  inside it move to that side); ``valign`` → ``vertical-align``; ``bgcolor``;
* ``img height="auto"`` goes (its style says ``height:auto``);
* ``word-break:break-word`` (deprecated) becomes ``overflow-wrap:anywhere``, which is what
  browsers make of it; ``mso-`` properties and Apple's reformatting hint go;
* the hidden preheader goes: a page has no inbox to preview it in.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

_MSO = re.compile(r"\s*mso-[a-z-]+\s*:[^;}]*;?", re.IGNORECASE)
_BREAK_WORD = re.compile(r"word-break\s*:\s*break-word", re.IGNORECASE)
_ROOT_SCHEMES = re.compile(r":root\s*\{[^}]*color-scheme[^}]*\}")
_EMAIL_ONLY_META = ("x-apple-disable-message-reformatting", "supported-color-schemes")
_NUMBER = re.compile(r"^\d+$")
_STYLED = etree.XPath("//*[@style]")


def _css(text: str) -> str:
    lower = text.lower()
    if "mso-" in lower:
        text = _MSO.sub("", text)
    if "break-word" in lower:
        text = _BREAK_WORD.sub("overflow-wrap:anywhere", text)
    return text


def _prepend(element: lxml.html.HtmlElement, declarations: str) -> None:
    own = (element.get("style") or "").strip()
    element.set("style", declarations + own)


def _length(value: str) -> str:
    value = value.strip()
    return f"{value}px" if _NUMBER.match(value) else value


def _closest(element: lxml.html.HtmlElement, tags: tuple[str, ...]) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors(*tags):
        return ancestor
    return None


def _table(table: lxml.html.HtmlElement, cells: list[lxml.html.HtmlElement]) -> None:
    """``cells``: the table's own cells (not those of tables inside it)."""
    css = ""
    spacing = table.attrib.pop("cellspacing", None)
    if spacing is not None:
        css += f"border-spacing:{_length(spacing)};"
    padding = table.attrib.pop("cellpadding", None)
    if padding is not None:
        for cell in cells:
            _prepend(cell, f"padding:{_length(padding)};")
    if (table.get("border") or "").strip() == "0":
        del table.attrib["border"]
    align = (table.attrib.pop("align", None) or "").strip().lower()
    if align == "center":
        css += "margin-left:auto;margin-right:auto;"
    elif align == "right":
        css += "margin-left:auto;"
    width = table.attrib.pop("width", None)
    if width is not None:
        css += f"width:{_length(width)};"
    css += _colour(table)
    if css:
        _prepend(table, css)


def _colour(element: lxml.html.HtmlElement) -> str:
    colour = element.attrib.pop("bgcolor", None)
    return f"background-color:{colour.strip()};" if colour else ""


def _cell(cell: lxml.html.HtmlElement, tables: list[lxml.html.HtmlElement]) -> None:
    """``tables``: the tables right inside the cell (not inside another cell in it)."""
    css = ""
    align = (cell.attrib.pop("align", None) or "").strip().lower()
    if align:
        css += f"text-align:{align};"
        if align in ("center", "right"):
            side = "margin-left:auto;margin-right:auto;" if align == "center" else "margin-left:auto;"
            for inner in tables:
                _prepend(inner, side)
    valign = cell.attrib.pop("valign", None)
    if valign:
        css += f"vertical-align:{valign.strip()};"
    cell.attrib.pop("vertical-align", None)  # not an HTML attribute: browsers ignore it
    css += _colour(cell)
    if css:
        _prepend(cell, css)


def clean_for_web(doc: lxml.html.HtmlElement) -> None:
    """Make the email's document a valid web page with the same look (see the module docstring)."""
    etree.strip_elements(doc, etree.Comment, with_tail=False)
    for name in ("xmlns:v", "xmlns:o"):
        doc.attrib.pop(name, None)
    for meta in list(doc.iter("meta")):
        if meta.get("name") in _EMAIL_ONLY_META:
            meta.drop_tree()
    for style in doc.iter("style"):
        style.attrib.pop("type", None)
        if style.text:
            style.text = _ROOT_SCHEMES.sub("", _css(style.text))
    for preheader in doc.find_class("nl-preheader"):
        preheader.drop_tree()
    # one pass to pair each cell with its table and each table with its cell, then the changes
    cells_of: dict[lxml.html.HtmlElement, list[lxml.html.HtmlElement]] = {}
    tables_in: dict[lxml.html.HtmlElement, list[lxml.html.HtmlElement]] = {}
    for element in doc.iter("table", "td", "th"):
        if element.tag == "table":
            cells_of.setdefault(element, [])
            cell = _closest(element, ("td", "th"))
            if cell is not None:
                tables_in.setdefault(cell, []).append(element)
        else:
            table = _closest(element, ("table",))
            if table is not None:
                cells_of.setdefault(table, []).append(element)
    for table, cells in cells_of.items():
        _table(table, cells)
    for cell in list(doc.iter("td", "th")):
        _cell(cell, tables_in.get(cell, []))
    for image in doc.iter("img"):
        if (image.get("height") or "").strip() == "auto":
            del image.attrib["height"]
    styled: list[lxml.html.HtmlElement] = _STYLED(doc)  # type: ignore[assignment]  # elements, for this path
    for element in styled:
        style = element.get("style") or ""
        cleaned = _css(style).strip()
        if cleaned != style:
            if cleaned:
                element.set("style", cleaned)
            else:
                del element.attrib["style"]
