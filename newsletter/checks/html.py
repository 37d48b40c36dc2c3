"""The rendered HTML, parsed with lxml: links, images, visible text and headings.

CSS is inlined by the render pipeline, so whether an element is shown can be read
from the ``style`` attributes of it and its ancestors.
"""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
from lxml.etree import _Comment, _Element, _ProcessingInstruction

_NOT_SHOWN = frozenset({"head", "style", "script", "title", "template"})
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def parse(html: str) -> _Element:
    return lxml.html.document_fromstring(html)


def style(el: _Element) -> dict[str, str]:
    """The declarations of an inline ``style`` attribute (property → value, lower case)."""
    out: dict[str, str] = {}
    for decl in (el.get("style") or "").split(";"):
        name, sep, value = decl.partition(":")
        if sep:
            out[name.strip().lower()] = value.replace("!important", "").strip().lower()
    return out


def _zero(value: str) -> bool:
    try:
        return float(value.rstrip("pxemrt%").strip() or "1") == 0
    except ValueError:
        return False


def is_hidden(el: _Element) -> bool:
    """Hidden by itself or an ancestor: display:none, visibility:hidden, opacity:0,
    collapsed to no height, font-size 0 (nearest size that is set) or ``hidden``."""
    font_size_seen = False
    node: _Element | None = el
    while node is not None:
        if node.get("hidden") is not None or node.get("aria-hidden") == "true":
            return True
        s = style(node)
        if s.get("display") == "none" or s.get("visibility") == "hidden":
            return True
        if "opacity" in s and _zero(s["opacity"]):
            return True
        if "max-height" in s and _zero(s["max-height"]) and s.get("overflow") == "hidden":
            return True
        if "font-size" in s and not font_size_seen:
            font_size_seen = True
            if _zero(s["font-size"]):
                return True
        node = node.getparent()
    return False


def text_of(el: _Element) -> str:
    """Visible text of an element (comments, styles and hidden descendants left out)."""
    parts: list[str] = []

    def walk(node: _Element) -> None:
        if isinstance(node, (_Comment, _ProcessingInstruction)):
            if node.tail:
                parts.append(node.tail)
            return
        shown = not (isinstance(node.tag, str) and node.tag in _NOT_SHOWN) and not _self_hidden(node)
        if shown:
            if node.text:
                parts.append(node.text)
            for child in node:
                walk(child)
        if node is not el and node.tail:
            parts.append(node.tail)

    walk(el)
    return " ".join(" ".join(parts).split())


def _self_hidden(node: _Element) -> bool:
    s = style(node)
    return node.get("hidden") is not None or s.get("display") == "none" or s.get("visibility") == "hidden"


def accessible_name(a: _Element) -> str:
    """What a screen reader announces for a link: aria-label, else its text and image alts."""
    label = (a.get("aria-label") or "").strip()
    if label:
        return label
    words = [text_of(a)]
    words.extend((img.get("alt") or "").strip() for img in a.iter("img"))
    return " ".join(w for w in words if w).strip()


def text_nodes(root: _Element) -> Iterator[tuple[_Element, str]]:
    """(element holding it, text) for every piece of text outside head, styles and comments."""

    def walk(node: _Element) -> Iterator[tuple[_Element, str]]:
        skip = isinstance(node, (_Comment, _ProcessingInstruction)) or node.tag in _NOT_SHOWN
        if not skip:
            if node.text and node.text.strip():
                yield node, node.text
            for child in node:
                yield from walk(child)
        parent = node.getparent()
        if node is not root and parent is not None and node.tail and node.tail.strip():
            yield parent, node.tail

    yield from walk(root)


def sections(root: _Element) -> list[_Element]:
    """The top-level bands: children of MJML's ``role="article"`` wrapper (else of body)."""
    found = root.xpath('//*[@role="article"]')
    wrapper = found[0] if isinstance(found, list) and found and isinstance(found[0], _Element) else None
    if wrapper is None:
        body = root.find("body")
        wrapper = body if body is not None else root
    return [el for el in wrapper if isinstance(el.tag, str)]
