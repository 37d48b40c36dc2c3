"""YAML syntax errors in plain words, at the line where the mistake starts.

PyYAML reports where it gave up, which is often lines after the mistake (an
unclosed quote on line 37 is reported at the end of the file) and in its own
terms ("while parsing a block mapping did not find expected key"). Here each
error is matched against the mistakes people make when they write YAML by hand:
a tab, an unclosed quote or a quote inside quoted text, a ``: `` inside text,
text starting with a character YAML reserves (``[ { * & ! @ ` % > |``), a forgotten
``- `` before a block, a line indented differently from its neighbours. Each gets
the line and column where it starts, a message and a hint; anything else keeps
PyYAML's words, at the line it names.
"""

from __future__ import annotations

import re

import yaml

_KEY = re.compile(r"^(\s*)(?:-\s+)*([^\s#'\"][^:#]*?):(?:\s+|$)")
"""``key: `` at the start of a line (after list dashes); group 1 is the indentation."""
_ITEM = re.compile(r"^(\s*)((?:-\s+)+)")
_RESERVED = {
    "[": "YAML reads '[' as the start of a list",
    "{": "YAML reads '{' as the start of a mapping",
    "*": "YAML reads '*' as a reference to another value",
    "&": "YAML reads '&' as a name for this value",
    "!": "YAML reads '!' as a type",
    "@": "YAML reserves '@'",
    "`": "YAML reserves '`'",
    "%": "YAML reads '%' as a directive",
    ">": "YAML reads '>' as the start of folded text",
    "|": "YAML reads '|' as the start of a text block",
}
QUOTE_HINT = 'put the whole text in double quotes, e.g. text: "…"'

Where = tuple[int, int, str, str]
"""(0-based line, 0-based column, message, hint)."""


def value_start(line: str) -> int | None:
    """The column where the value of a ``key: value`` or ``- value`` line begins."""
    m = _KEY.match(line)
    if m is not None:
        rest = m.end()
    else:
        item = _ITEM.match(line)
        if item is None:
            return None
        rest = item.end()
    while rest < len(line) and line[rest] in " \t":
        rest += 1
    return rest if rest < len(line) else None


def _quoted_end(line: str, start: int) -> int | None:
    """The column of the quote that closes the quoted text opened at ``start``, or None."""
    quote = line[start]
    i = start + 1
    while i < len(line):
        c = line[i]
        if quote == '"' and c == "\\":
            i += 2
            continue
        if c == quote:
            if quote == "'" and i + 1 < len(line) and line[i + 1] == "'":
                i += 2
                continue
            return i
        i += 1
    return None


def _quote_problem(lines: list[str], upto: int, unclosed_at: int | None) -> Where | None:
    for n in range(0, min(upto + 1, len(lines))):
        line = lines[n]
        start = value_start(line)
        if start is None or line[start] not in "\"'":
            continue
        quote = line[start]
        end = _quoted_end(line, start)
        if end is None:
            if n == unclosed_at:
                return (n, start, f"the quote {quote} opened here is never closed", f"end the text with {quote} on this line")
            runs_into = _runs_into(lines, n, quote, upto)
            if runs_into is not None:
                return (
                    n,
                    start,
                    f"the quote {quote} opened here is not closed on its line: the text runs "
                    f"on to the {quote} on line {runs_into + 1}",
                    f"end the text with {quote} on this line",
                )
            continue
        after = line[end + 1 :].strip()
        if after and not after.startswith("#") and n == upto:
            hint = (
                "write each ' inside the text as two: '', or put the text in double quotes"
                if quote == "'"
                else 'write a " inside the text as \\", or put the text in single quotes'
            )
            return n, end, f"the text goes on after its closing quote {quote} (a quote inside the text?)", hint
    return None


def _runs_into(lines: list[str], n: int, quote: str, upto: int) -> int | None:
    """The line where the text quoted on line ``n`` (left open there) ends, when that is
    line ``upto`` (where YAML gave up) and text follows the quote: the quote meant to open
    that line's value closed the text instead."""
    for m in range(n + 1, min(upto + 1, len(lines))):
        end = _quoted_end(quote + lines[m], 0)
        if end is None:
            continue
        after = lines[m][end:].strip()
        return m if m == upto and after and not after.startswith("#") else None
    return None


def _char(lines: list[str], line: int, column: int) -> str:
    """The character at (line, column), or "" past the end (PyYAML marks the end of the file so)."""
    return lines[line][column] if 0 <= line < len(lines) and 0 <= column < len(lines[line]) else ""


def _opener(lines: list[str], line: int, column: int) -> tuple[int, int] | None:
    """Where the unclosed '[' or '{' PyYAML means is: at (line, column), or else the last
    value on a line up to there that starts with one."""
    if _char(lines, line, column) in ("[", "{"):
        return line, column
    for n in range(min(line, len(lines) - 1), -1, -1):
        start = value_start(lines[n])
        if start is not None and lines[n][start] in "[{":
            return n, start
    return None


def _previous(lines: list[str], n: int) -> int | None:
    for i in range(n - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def explain(text: str, exc: yaml.MarkedYAMLError) -> Where | None:
    """The mistake behind ``exc`` in plain words, or None when it is none of the known ones."""
    lines = text.splitlines() or [""]
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None
    line, column = min(mark.line, len(lines) - 1), mark.column
    context_line = exc.context_mark.line if exc.context_mark is not None else None
    problem = exc.problem or ""
    context = exc.context or ""

    for n in range(0, line + 1 if line < len(lines) else len(lines)):
        indent = re.match(r"[ \t]*", lines[n])
        if indent is not None and "\t" in indent.group():
            return (
                n,
                indent.group().index("\t"),
                "a tab is used to indent this line",
                "indent with spaces only: YAML does not allow tabs there",
            )
    quoted = _quote_problem(lines, line, context_line if "quoted scalar" in context else None)
    if quoted is not None:
        return quoted
    current = lines[line] if line < len(lines) else ""
    start = value_start(current)
    first = current[start] if start is not None else ""

    if "maximum nesting depth" in problem:
        return line, column, "nested too deeply (more than 1,000 levels)", "look for an unclosed [ or {"
    if "unknown escape character" in problem:
        return (
            line,
            column - 1,
            "a backslash (\\) in double-quoted text starts an escape",
            "write \\\\ for a backslash, or put the text in single quotes",
        )
    if context.startswith(("while scanning an alias", "while scanning an anchor")) or "undefined alias" in problem:
        at = exc.context_mark or mark
        char = _char(lines, at.line, at.column) or "*"
        return at.line, at.column, f"text starting with '{char}': {_RESERVED.get(char, 'YAML reserves it')}", QUOTE_HINT
    if "cannot start any token" in problem and column < len(current):
        char = current[column]
        return line, column, f"text starting with '{char}': {_RESERVED.get(char, 'YAML reserves it')}", QUOTE_HINT
    if "while scanning a block scalar" in context and exc.context_mark is not None:
        at = exc.context_mark
        char = _char(lines, at.line, at.column)
        if char in _RESERVED:
            return at.line, at.column, f"text starting with '{char}': {_RESERVED[char]}", QUOTE_HINT
    if "could not determine a constructor for the tag" in problem:
        return line, column, f"text starting with '!': {_RESERVED['!']}", QUOTE_HINT
    if "while parsing a flow" in context and exc.context_mark is not None:
        opened = _opener(lines, exc.context_mark.line, exc.context_mark.column)
        if opened is not None:
            at_line, at_column = opened
            char = lines[at_line][at_column]
            closing = "]" if char == "[" else "}"
            return (
                at_line,
                at_column,
                f"the '{char}' here is never closed",
                f"if this is text, put it in quotes; if it is a list, close it with '{closing}' on this line",
            )
    if "mapping values are not allowed" in problem:
        key = _KEY.match(current)
        before = _previous(lines, line)
        for candidate in (line, before):
            if candidate is not None and re.match(r"\s*-[^\s-]", lines[candidate]):
                return (
                    candidate,
                    lines[candidate].index("-"),
                    "a '-' needs a space after it",
                    "write '- type: text', with a space after the dash",
                )
        if key is not None and key.end() <= column and start is not None:
            return (
                line,
                start,
                "this text holds ': ', which YAML reads as a new key",
                f'put the text in double quotes: {key.group(2).strip()}: "{current[start:].strip()}"',
            )
        if before is not None and _KEY.match(lines[before]) is None and _ITEM.match(lines[before]) is None:
            return (
                before,
                _indent(lines[before]),
                "this line is not 'key: value'",
                "write the key, a colon and a space, then the value: title: June update",
            )
        if before is not None and _indent(current) > _indent(lines[before]):
            return (
                line,
                _indent(current),
                "this line is indented more than the line above it",
                "line its key up with the keys around it",
            )
        return line, column, "a ':' here that YAML cannot place", "put text that holds ': ' in double quotes"
    if "did not find expected '-' indicator" in problem:
        dash = exc.context_mark.column if exc.context_mark is not None else 0
        return (
            line,
            _indent(current),
            "this line is not a list item like the ones above it",
            f"start a new block with '- ', its dash {dash} spaces in, or indent it "
            f"{dash + 2} spaces to belong to the block above",
        )
    if "did not find expected key" in problem:
        if first and first in "[{":
            return line, start or 0, f"text starting with '{first}': {_RESERVED[first]}", QUOTE_HINT
        before = _previous(lines, line)
        return (
            line,
            _indent(current),
            "this line does not line up with the lines above it",
            "indent it exactly as far as the other keys of the same block"
            + (f"; line {before + 1} is indented {_indent(lines[before])} spaces" if before is not None else ""),
        )
    if "could not find expected ':'" in problem and context_line is not None:
        return (
            context_line,
            _indent(lines[context_line]),
            "this line is neither 'key: value' nor indented under a key",
            "if it continues the text above, indent it further than that key; if it starts a new key, add ': ' after the key",
        )
    if "block sequence entries are not allowed" in problem:
        return (
            line,
            column,
            "a '- ' list cannot start on the same line as its key",
            "start the list on the next line, indented; if this is text, put it in quotes",
        )
    if "while scanning a quoted scalar" in context and exc.context_mark is not None:
        at = exc.context_mark
        return at.line, at.column, "the quote opened here is never closed", "end the text with the same quote"
    return None
