"""Catch MJML mistakes that mjml-python (MRML) would pass over in silence.

MRML renders unknown elements and mismatched closing tags without complaint,
which turns a typo in a template override into a quietly broken email. This
scan checks that every ``mj-*`` element is a real MJML component and that they
nest properly, and names the line of the generated MJML where it went wrong.
"""

from __future__ import annotations

import re

COMPONENTS = frozenset(
    """mjml mj-head mj-body mj-attributes mj-all mj-class mj-breakpoint mj-font
    mj-html-attributes mj-html-attribute mj-selector mj-preview mj-style mj-title
    mj-accordion mj-accordion-element mj-accordion-title mj-accordion-text mj-button
    mj-carousel mj-carousel-image mj-column mj-divider mj-group mj-hero mj-image
    mj-navbar mj-navbar-link mj-raw mj-section mj-social mj-social-element mj-spacer
    mj-table mj-text mj-wrapper mj-include""".split()
)
# Elements whose content is HTML or CSS, not MJML.
_ENDING_CONTENT = frozenset(
    "mj-text mj-button mj-table mj-raw mj-style mj-title mj-preview "
    "mj-navbar-link mj-social-element mj-accordion-title mj-accordion-text".split()
)

_TAG = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")


def _line(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


def find_mjml_error(source: str) -> tuple[int, str] | None:
    """(line, message) for the first structural MJML error, or None."""
    stack: list[tuple[str, int]] = []
    for m in _TAG.finditer(source):
        closing, name, _, self_closing = m.groups()
        if stack and stack[-1][0] in _ENDING_CONTENT and not (closing and name == stack[-1][0]):
            continue  # inside HTML content
        if name not in COMPONENTS:
            return _line(source, m.start()), f"unknown MJML element <{name}>"
        if closing:
            if not stack or stack[-1][0] != name:
                expected = f"</{stack[-1][0]}>" if stack else "nothing"
                return _line(source, m.start()), f"</{name}> closes {expected}"
            stack.pop()
        elif not self_closing:
            stack.append((name, m.start()))
    if stack:
        name, start = stack[-1]
        return _line(source, start), f"<{name}> is never closed"
    return None
