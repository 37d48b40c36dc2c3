"""The list mapping's shortcut key agrees with the full one wherever it answers (property test)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.feedback.listmap import key_for, quick_key

PARTS = st.sampled_from(
    [
        "a",
        "Bob",
        "INFO",
        "postmaster",
        "x.y",
        "a..b",
        "-",
        "+tag",
        "'",
        '"',
        "=",
        " ",
        "\t",
        "@",
        ".",
        "xn--bcher-kva",
        "XN--",
        "example",
        "ORG",
        "org.",
        "[1.2.3.4]",
        "localhost",
        "bücher",
        "é",
        "\u00df",
        "ﬀ",
        "İ",
        "\n",
        "_",
    ]
)


@pytest.mark.slow  # a property test of 3,000 examples (over 5 s)
@settings(max_examples=3000, deadline=None)
@given(st.lists(PARTS, min_size=1, max_size=8).map("".join))
def test_quick_key_is_key_for_whenever_it_answers(cell: str) -> None:
    quick = quick_key(cell)
    if quick is not None:
        assert quick == key_for(cell)[0]


def test_known_shapes() -> None:
    assert quick_key(" Ben.Hughes@Example.ORG ") == "ben.hughes@example.org" == key_for("Ben.Hughes@Example.ORG")[0]
    assert quick_key("a@xn--bcher-kva.example") is None  # Punycode: the library decides
    assert quick_key('"a"@x.org') is None and quick_key("zoë@x.org") is None
