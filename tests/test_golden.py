"""The worked example against its golden files (regenerate: ``make golden``)."""

from __future__ import annotations

import lxml.html

from tests.golden import EXAMPLES, GOLDEN, render_example


def _structure(html: str) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    """Elements in document order with their attributes and normalised text."""
    doc = lxml.html.document_fromstring(html)
    out = []
    for el in doc.iter():
        tag = el.tag if isinstance(el.tag, str) else "#comment"
        text = " ".join((el.text or "").split())
        out.append((tag, tuple(sorted((str(k), " ".join(str(v).split())) for k, v in el.attrib.items())), text))
    return out


def test_example_matches_golden_files() -> None:
    for relative in EXAMPLES:
        slug, html, text = render_example(relative)
        golden_html = (GOLDEN / f"{slug}.html").read_text(encoding="utf-8")
        golden_text = (GOLDEN / f"{slug}.txt").read_text(encoding="utf-8")
        assert _structure(html) == _structure(golden_html), "HTML changed: run `make golden` and review the diff"
        assert text == golden_text, "text changed: run `make golden` and review the diff"
