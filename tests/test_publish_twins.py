"""The web edition's shortcuts against their plain twins, on varied input.

* an ASCII address is not searched character by character for hidden ones (none can be there);
* the footer's reason is found among the paragraphs holding its longest word (lxml's own
  search) instead of by the text of every paragraph: the same paragraphs go, whatever the
  markup inside them, the spaces (non-breaking ones included), quotes, or where it stands.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from html import escape
from pathlib import Path

import lxml.html
import pytest

from newsletter.web import absolute, page, state

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


def _text(rnd: random.Random) -> str:
    """Text as an issue may hold it: every kind of character JSON escapes or keeps as it is."""
    alphabet = ["a", "Z", " ", '"', "\\", "/", "\n", "\t", "\r", "\b", "\f", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u00a0"]
    alphabet += ["😀", "ŵ", "<", "&", "'"]
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12)))


def test_published_json_is_written_byte_for_byte_as_the_standard_library_writes_it() -> None:
    """``dump_state`` (orjson) against ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)``:
    the file is kept in git, so a change of writer must not change one byte of it."""
    rnd = random.Random(26)
    for _ in range(200):
        issues = {}
        for n in range(rnd.randrange(0, 4)):
            slug = f"{_text(rnd)}-{n}"
            issues[slug] = state.IssueRecord(
                digest=_text(rnd),
                updated=dt.datetime(2024, 6, rnd.randrange(1, 28), 9, 30, tzinfo=dt.UTC) if rnd.random() < 0.5 else None,
                title=_text(rnd),
                date=dt.date(2024, rnd.randrange(1, 13), 14),
                summary=_text(rnd),
                events=[_text(rnd) for _ in range(rnd.randrange(0, 3))],
                corrections=[
                    state.Correction(date=dt.datetime(2024, 7, 1, tzinfo=dt.UTC), note=_text(rnd), events=[_text(rnd)])
                    for _ in range(rnd.randrange(0, 2))
                ],
                baseline=state.Baseline(
                    text=_text(rnd), events={_text(rnd): state.EventSeen(title=_text(rnd), when="", place="")}
                ),
            )
        events = {
            _text(rnd): state.EventRecord(digest=_text(rnd), sequence=rnd.randrange(0, 10**12), issue=_text(rnd))
            for _ in range(rnd.randrange(0, 4))
        }
        published = state.PublishedState(issues=issues, events=events)
        data = published.model_dump(mode="json", exclude_defaults=False)
        standard = (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        assert state.dump_state(published) == standard


LINKS = ["page.html", "../up.html", "/root.html", "#top", "?q=1", "https://example.org/a b", "//cdn.example/x.png"]
LINKS += ["mailto:hello@example.org", " spaced.html ", "", "a/./b/../c.html", "{{ unsubscribe_url }}", "https://x.example/y?"]
TAGS = ["a", "img", "td", "table", "div", "p", "form", "blockquote", "span", "video", "object", "style", "meta", "param", "base"]
ATTRIBUTES = ["href", "src", "background", "cite", "action", "longdesc", "usemap", "formaction", "xlink:href", "lowsrc", "title"]


def _style(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randrange(0, 4)):
        link = rnd.choice(LINKS)
        quote = rnd.choice(["", '"', "'"])
        parts.append(rnd.choice(["color:red;", f"background:url({quote}{link}{quote}) no-repeat;", f"b:URL({link});"]))
    return "".join(parts)


def _element(rnd: random.Random, depth: int, special: bool) -> str:
    tag = rnd.choice(TAGS if special else TAGS[:10])
    attributes = ""
    for name in rnd.sample(ATTRIBUTES, rnd.randrange(0, 4)):
        attributes += f' {name}="{escape(rnd.choice(LINKS))}"'
    if rnd.random() < 0.4:
        attributes += f' style="{escape(_style(rnd))}"'
    if tag == "meta":
        attributes += ' http-equiv="refresh" content="5; url=next.html"'
    if tag == "param":
        attributes += ' valuetype="ref" value="movie.swf"'
    inner = "".join(_element(rnd, depth + 1, special) for _ in range(rnd.randrange(0, 3))) if depth < 4 else ""
    text = f'@import "{rnd.choice(LINKS)}"; p{{background:url({rnd.choice(LINKS)})}}' if tag == "style" else "text"
    return f"<{tag}{attributes}>{text}{inner}</{tag}>"


@pytest.mark.parametrize("special", [False, True])
def test_links_are_made_absolute_as_lxml_makes_them(special: bool) -> None:
    """``absolute.make_absolute`` against lxml's ``make_links_absolute(resolve_base_href=False)``
    on generated bodies: every link attribute, ``url()`` in styles (quoted or not, several in
    one), links with spaces, fragments and templates' tokens; with ``special``, also the
    elements lxml treats otherwise (object, param, meta refresh, style, base)."""
    rnd = random.Random(26 + special)
    for _ in range(1500):
        body = "<body>" + "".join(_element(rnd, 0, special) for _ in range(rnd.randrange(1, 5))) + "</body>"
        ours = lxml.html.document_fromstring(body).find("body")
        theirs = lxml.html.document_fromstring(body).find("body")
        assert isinstance(ours, lxml.html.HtmlElement) and isinstance(theirs, lxml.html.HtmlElement)
        base = rnd.choice(["https://example.org/news/2024-06.html", "https://example.org/", "http://a.example/b/c/d"])
        absolute.make_absolute(ours, base)
        theirs.make_links_absolute(base, resolve_base_href=False)
        assert lxml.html.tostring(ours) == lxml.html.tostring(theirs), body
