"""Links and brackets (issue 15, point 5): a Markdown link that never closes and a bracket
without its partner are warnings at their own line and column; an ``http://`` link gets
the same rule and severity wherever it is written. Add a row to extend a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.checks.markup import text_slips
from tests.test_check import _in_project, check, line_of, of  # noqa: F401  (the autouse fixture: paths as shown)

HEAD = """\
title: Test issue
subject: Markup test issue
preheader: A short summary of this small test issue, long enough for inboxes.
date: 2024-06-20
blocks:
  - type: heading
    text: News
"""
ISSUE = "issues/t.yaml"


def text_block(body: str) -> str:
    lines = "".join(f"      {line}\n" if line else "\n" for line in body.split("\n"))
    return HEAD + "  - type: text\n    text: |\n" + lines


# (case, Markdown of one text block, then the findings: each a rule and the snippet at whose
# first character it points; none for a text that is fine)
CASES = [
    (
        "link missing its ')'",
        "See [our blog](https://www.coproductioncollective.co.uk/blog for more.",
        "link-unclosed",
        "[our blog]",
    ),
    (
        "link missing its ')' at the end",
        "Read [the report](https://www.coproductioncollective.co.uk/r",
        "link-unclosed",
        "[the report]",
    ),
    (
        "address broken by a line",
        "Read [the report](https://www.coproductioncollective.co.uk/\nreport) now.",
        "link-unclosed",
        "[the report]",
    ),
    ("'[' never closed", "First line.\nThe [draft text and no end.", "brackets-unbalanced", "[draft"),
    ("']' closes nothing", "A list] with a stray bracket.", "brackets-unbalanced", "] with"),
    ("'(' never closed", "We met (online on Tuesday.", "brackets-unbalanced", "(online"),
    ("')' closes nothing", "We met online) on Tuesday.", "brackets-unbalanced", ") on"),
    (
        "'[' of one paragraph, ']' of the next",
        "Open [here.\n\nClose] there.",
        "brackets-unbalanced",
        "[here",
        "brackets-unbalanced",
        "] there",
    ),
    ("a good link", "See [our blog](https://www.coproductioncollective.co.uk/blog)."),
    ("a link with a title", 'See [our blog](https://www.coproductioncollective.co.uk/b "Blog").'),
    ("parentheses inside an address", "[Wiki](https://en.wikipedia.org/wiki/Co-production_(public_services))."),
    ("brackets in a code span", "Type `[` to start."),
    ("an escaped bracket", "A \\[ on its own."),
    ("enumeration", "Choose a) tea or b) coffee :)"),
    ("a number in brackets", "The Cuppa (3) and the talk (option b) are online."),
    (
        "balanced over lines",
        "UCL (University\nCollege London) and [a link\nover lines](https://www.coproductioncollective.co.uk/).",
    ),
]


@pytest.mark.parametrize(("body", "expected"), [(c[1], list(zip(c[2::2], c[3::2]))) for c in CASES], ids=[c[0] for c in CASES])
def test_brackets_and_unclosed_links(project: Path, body: str, expected: list[tuple[str, str]]) -> None:
    text = text_block(body)
    found = [f for f in check(project, text) if f.rule in ("link-unclosed", "brackets-unbalanced") and f.file == ISSUE]
    lines = text.splitlines()
    wanted = [
        (rule, "warning", line_of(text, snippet), lines[line_of(text, snippet) - 1].index(snippet) + 1, "blocks[1].text.text")
        for rule, snippet in expected
    ]
    assert [(f.rule, f.severity, f.line, f.column, f.field) for f in found] == wanted, "\n".join(map(str, found))


def test_slips_outside_text_blocks(project: Path) -> None:
    text = HEAD + (
        "  - type: list\n    items:\n      - Tea (or coffee\n  - type: quote\n    text: It was [great\n    by: A reader\n"
    )
    found = sorted((f.field, f.line) for f in check(project, text) if f.rule == "brackets-unbalanced")
    assert found == [("blocks[1].list.items[0]", line_of(text, "Tea")), ("blocks[2].quote.text", line_of(text, "[great"))]


def test_slips_offsets() -> None:
    assert [(s.kind, s.offset) for s in text_slips("ab [c](d\n\n) [e")] == [
        ("unclosed-link", 3),
        ("unopened", 10),
        ("unclosed", 12),
    ]


HTTP = "http://www.coproductioncollective.co.uk/"
# Every place an editor can write a link; the same rule and severity in each.
HTTP_PLACES = [
    ("Markdown link in text", f"  - type: text\n    text: See [our site]({HTTP}).\n", "blocks[1].text.text"),
    ("button", f"  - type: button\n    label: Our site\n    url: {HTTP}\n", "blocks[1].button.url"),
    (
        "links block",
        f"  - type: links\n    items:\n      - title: Our site\n        url: {HTTP}\n",
        "blocks[1].links.items[0].url",
    ),
    (
        "event sign-up",
        f"  - type: events\n    items:\n      - title: Cuppa\n        start: 2024-07-01 12:00\n        signup: {HTTP}\n",
        "blocks[1].events.items[0].signup",
    ),
    ("list item", f"  - type: list\n    items:\n      - See [our site]({HTTP})\n", "blocks[1].list.items[0]"),
]


@pytest.mark.parametrize(("block", "field"), [p[1:] for p in HTTP_PLACES], ids=[p[0] for p in HTTP_PLACES])
def test_http_links_are_one_rule_everywhere(project: Path, block: str, field: str) -> None:
    text = HEAD + block
    found = [f for f in check(project, text) if f.file == ISSUE and f.severity == "error"]
    assert found == [], "\n".join(map(str, found))
    http = of(check(project, text), "link-http")
    assert [(f.severity, f.field, f.line) for f in http] == [("warning", field, line_of(text, HTTP))]


def test_https_links_get_no_http_finding(project: Path) -> None:
    text = HEAD + f"  - type: button\n    label: Our site\n    url: {HTTP.replace('http:', 'https:')}\n"
    assert of(check(project, text), "link-http") == []
