"""The web edition's shortcuts against their plain twins, on varied input.

* an ASCII address is not searched character by character for hidden ones (none can be there);
* the footer's reason is found among the paragraphs holding its longest word (lxml's own
  search) instead of by the text of every paragraph: the same paragraphs go, whatever the
  markup inside them, the spaces (non-breaking ones included), quotes, or where it stands.
"""

from __future__ import annotations

import random
from pathlib import Path

import lxml.html
import pytest

from newsletter.web import page

REPO = Path(__file__).resolve().parent.parent
REASONS = [
    "You are receiving this email because you signed up to our mailing list.",
    "Why? 'Because' you \"asked\".",
    "  spaced\u00a0out \t reason  ",
    "x",
    "Ünïcödé réason — with a dash",
]
PIECES = ["<b>", "</b>", " ", "\u00a0", "\n", "<br>", "<!-- c -->", "<span>", "</span>", "<a href='#'>", "</a>"]


def plain(doc: lxml.html.HtmlElement, reason_text: str) -> None:
    """The plain way: every paragraph's text compared with the reason."""
    reason = " ".join(reason_text.split())
    for paragraph in list(doc.iter("p")):
        if " ".join(paragraph.text_content().split()) == reason:
            paragraph.drop_tree()


def variant(rnd: random.Random, reason: str) -> str:
    """The reason as a template may write it: markup and spaces between its words, or not quite it."""
    words = reason.split()
    out = []
    for word in words:
        out.append(word)
        out.append(rnd.choice([" ", "  ", "\n ", "\u00a0", " <b>", "</b> ", " <span>x</span> "]))
    text = "".join(out)
    if rnd.random() < 0.3:
        text = text.replace(words[-1], words[-1][:-1]) if len(words[-1]) > 1 else text + " more"
    if rnd.random() < 0.3:
        text = rnd.choice(PIECES) + text
    return text


def documents(rnd: random.Random, reason: str) -> list[str]:
    docs = []
    for _ in range(60):
        paragraphs = []
        for _ in range(rnd.randint(1, 6)):
            kind = rnd.random()
            if kind < 0.4:
                paragraphs.append(f"<p style='x'>{variant(rnd, reason)}</p>")
            elif kind < 0.6:
                paragraphs.append(f"<div><p>{reason}</p><p>{reason} and more</p></div>")
            else:
                paragraphs.append("<p>Other text · <a href='#'>link</a></p>")
        docs.append(f"<html><head><title>t</title></head><body>{''.join(paragraphs)}</body></html>")
    return docs


@pytest.mark.parametrize("reason", REASONS)
def test_the_reason_goes_from_the_same_paragraphs_as_the_plain_way(reason: str) -> None:
    rnd = random.Random(reason)
    dropped = kept = 0
    for html in documents(rnd, reason):
        fast, slow = lxml.html.document_fromstring(html), lxml.html.document_fromstring(html)
        page._drop_reason(fast, reason)
        plain(slow, reason)
        assert lxml.html.tostring(fast) == lxml.html.tostring(slow), html
        before = len(lxml.html.document_fromstring(html).findall(".//p"))
        dropped += before - len(fast.findall(".//p"))
        kept += len(fast.findall(".//p"))
    assert dropped and kept  # both cases met


def test_an_ascii_address_has_no_hidden_character_the_long_check_would_find() -> None:
    """``check_url`` skips the character-by-character search for hidden characters in an
    ASCII address: the only ASCII characters of those kinds are the space and the control
    characters, which it refuses before; so every ASCII address gets the same answer."""
    import unicodedata

    from newsletter import fields

    for code in range(128):
        char = chr(code)
        if unicodedata.category(char) in fields._HIDDEN:
            assert char == " " or fields._CONTROL.search(char), repr(char)
            with pytest.raises(ValueError, match="spaces or control characters"):
                fields.check_url(f"https://example.org/a{char}b")
        else:
            try:
                fields.check_url(f"https://example.org/a{char}b")
            except ValueError as exc:
                assert "U+" not in str(exc)
    with pytest.raises(ValueError, match=r"U\+200B ZERO WIDTH SPACE"):
        fields.check_url("https://example.org/a\u200bb")
