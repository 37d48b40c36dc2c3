"""The one-pass YAML reader (newsletter/yamlonepass.py) against its twin, the plain way
(``yamldoc.parse_plain``: bounds walked over the events, then composed, constructed and
walked for positions): the same data, positions and problems, or the same error, for
the project's own files, YAML written to reach every corner (aliases, merge keys, tags,
keys that are numbers or true, duplicates, block and flow styles, several documents,
bombs, loops, depth) and a few thousand mutations of the worked example."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from newsletter import yamldoc, yamllimits
from newsletter.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "issues" / "2024-06-june-team-update.yaml").read_text(encoding="utf-8")

WRITTEN = [
    "",
    "---\n",
    "# only a comment\n",
    "...\n",
    "title: x\n",
    "- a\n- b\n",
    "just text\n",
    "42\n",
    "null\n",
    "a: 1\nb: 2.5\nc: true\nd: ~\ne: 0x1F\nf: 1_000\ng: .inf\nh: -.nan\ni: 0o17\nj: 1:30\nk: yes\nl: Off\n",
    "1: one\n2.5: two\ntrue: three\n~: four\n0x10: five\n'1': quoted\n",
    "a: 1\na: 2\nb:\n  c: 1\n  c: [1, 2]\n",
    "blocks:\n  - type: text\n    text: a\n    text: b\n  - type: x\n    type: y\n",
    "1: a\n1: b\ntrue: c\nyes: d\n",
    "a: &x {b: 1}\nc: *x\n",
    "a: &x [1, 2]\nb: [*x, *x]\n",
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
    "a: !!set {x, y}\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!omap [x: 1]\n",
    "a: !!str 12\nb: !!int '7'\n",
    "a: !!float 1\nb: !!bool 'true'\nc: !!null ''\n",
    "a: !!int abc\n",
    "a: !custom x\n",
    "a: ! x\nb: ! 1\n",
    "a: !!timestamp 2024-01-01\n",
    "date: 2024-06-14\nwhen: 2024-07-01 12:00\n",
    "? [a, b]\n: c\n",
    "? {a: 1}\n: c\n",
    "? a\n: b\n",
    "a: |\n  line one\n  line two\nb: >-\n  folded\n  text\n",
    "a: 'it''s'\nb: \"tab\\tnew\\nline\"\n",
    "a: [1, {b: [2, {c: 3}]}]\n",
    "{a: 1, b: [x, y]}\n",
    "[a, b, c]\n",
    "a: 1\n---\nb: 2\n",
    "--- a\n--- b\n",
    "a: &anchor 1\nb: 2\n",
    "&top\na: 1\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "a:\n- b\n  c\n",
    "\ta: 1\n",
    "a: 'unclosed\n",
    "a: *nothing\n",
    "a: &a [*a]\n",
    "a: &a\n  b: *a\n",
    "[" * 45 + "]" * 45 + "\n",
    "- " * 45 + "x\n",
    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
    "a: \x07\n",
    "a: \ufeffb\n",
    "\ufeffa: 1\n",
    "a: \u0085b\n",
    "a: 1\r\nb: 2\r\n",
    "x: " + "y" * 5000 + "\n",
    "- " + "\n- ".join(str(n) for n in range(3000)) + "\n",
]


def outcome(parse: object, text: str) -> tuple[str, object]:
    """What a parse gives, comparable: the data (as repr, so 1, 1.0 and True differ), positions
    and problems; or the problems of its error."""
    try:
        doc = parse(text, "issue.yaml")  # type: ignore[operator]
    except InputError as exc:
        return "error", [str(p) for p in exc.problems]
    return "doc", (repr(doc.data), doc.values, doc.keys, [str(p) for p in doc.problems])


def took_one_pass(text: str) -> bool:
    from newsletter import yamlonepass

    try:
        yamllimits.check_characters(text, "issue.yaml")
        return yamlonepass.build(yamldoc._DocumentLoader(text), "issue.yaml", yamldoc.Position, yamldoc._key) is not None
    except InputError:
        return False


@pytest.mark.parametrize("text", [EXAMPLE, (ROOT / "newsletter.yaml").read_text(encoding="utf-8"), *WRITTEN])
def test_the_one_pass_reads_as_the_plain_way_reads(text: str) -> None:
    assert outcome(yamldoc.parse, text) == outcome(yamldoc.parse_plain, text)


def test_an_issue_and_the_settings_take_the_one_pass() -> None:
    """The files a publish reads by the hundred are read once (what the speed is for)."""
    assert took_one_pass(EXAMPLE)
    assert took_one_pass((ROOT / "newsletter.yaml").read_text(encoding="utf-8"))
    assert took_one_pass("a: 1\na: 2\n1: x\ntrue: y\n")  # duplicates and odd keys too
    assert not took_one_pass("a: &x 1\nb: *x\n")  # an alias: the plain way reads it
    assert not took_one_pass("a: 1\nb: [\n")  # a mistake: the plain way explains it


PIECES = [
    ": ",
    "- ",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!set ",
    "!!str ",
    "!!int ",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    "#",
    "\t",
    "? ",
    "---\n",
    "...\n",
    "|\n",
    ">\n",
    "  ",
    "\n",
    "~",
    "1",
    "true",
    "0x1",
    "é",
    ",",
    "a: b\n",
    "%YAML 1.1\n",
    "!x ",
    "\x07",
]


def mutations(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    lines = EXAMPLE.splitlines(keepends=True)
    out = []
    for _ in range(count):
        changed = list(lines)
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(changed))
            what = rnd.randrange(5)
            if what == 0:
                del changed[i]
            elif what == 1:
                changed.insert(i, changed[rnd.randrange(len(changed))])  # a duplicated line: often a duplicate key
            elif what == 2:
                line = changed[i]
                at = rnd.randint(0, len(line))
                changed[i] = line[:at] + rnd.choice(PIECES) + line[at:]
            elif what == 3:
                changed[i] = "  " + changed[i] if rnd.random() < 0.5 else changed[i].removeprefix("  ")
            else:
                j = rnd.randrange(len(changed))
                changed[i], changed[j] = changed[j], changed[i]
        out.append("".join(changed))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_the_one_pass_reads_mutations_of_an_issue_as_the_plain_way_reads_them(seed: int) -> None:
    one_pass = 0
    texts = mutations(seed, 400)
    for text in texts:
        assert outcome(yamldoc.parse, text) == outcome(yamldoc.parse_plain, text), text
        one_pass += took_one_pass(text)
    # both ways are exercised: most mutations are read in one pass, many by the plain way
    assert len(texts) // 5 < one_pass < len(texts)
