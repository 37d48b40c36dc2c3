"""The ``placeholder`` rule (issue 15, point 1): words ``newsletter new`` left to write
("TK: …") or filler text are errors at their own line, in any text of the issue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_check import _in_project, check, line_of  # noqa: F401  (the autouse fixture: paths as shown)

HEAD = """\
title: {title}
subject: Placeholder test issue
preheader: A short summary of this small test issue, long enough for inboxes.
date: 2024-06-20
blocks:
  - type: text
    text: |
      First paragraph.

      {text}
"""

# (case, title, a line of text, the field of the finding or None)
CASES = [
    ("TK: in the title", "'TK: the July headline'", "Words.", "title"),
    ("TK: in a text block", "A title", "TK: the words of this section", "blocks[0].text.text"),
    ("lorem ipsum", "A title", "Lorem ipsum dolor sit amet.", "blocks[0].text.text"),
    ("a word ending in TK", "A title", "Our partner ATK: a charity.", None),
    ("TK without its colon", "A title", "Offers at TK Maxx this month.", None),
]


@pytest.mark.parametrize(("title", "text", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_placeholder(project: Path, title: str, text: str, field: str | None) -> None:
    issue = HEAD.format(title=title, text=text)
    found = [f for f in check(project, issue) if f.rule == "placeholder"]
    if field is None:
        assert found == []
        return
    snippet = "TK:" if "TK:" in issue else "ipsum"
    assert [(f.severity, f.field, f.line) for f in found] == [("error", field, line_of(issue, snippet))]
