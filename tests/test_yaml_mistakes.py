"""The YAML mistakes people make most when they write an issue by hand, each with the
message it gets: the line and column where the mistake starts, plain words and a hint,
exit code 2, nothing built. A newcomer adds a mistake by adding a row to ``MISTAKES``:
the issue text, and a part of the message that must appear.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.preview_kit import serving

HEAD = "title: June update\nsubject: News from June\ndate: 2024-06-14\nblocks:\n"

MISTAKES: dict[str, tuple[str, str]] = {
    "a closing double quote forgotten": (
        HEAD + '  - type: text\n    text: "Hello there\n  - type: divider\n  - type: text\n    text: More\n',
        '6:11: YAML syntax error: the quote " opened here is never closed',
    ),
    "a closing single quote forgotten": (
        HEAD + "  - type: text\n    text: 'Hello there\n  - type: text\n    text: More\n",
        "6:11: YAML syntax error: the quote ' opened here is never closed",
    ),
    "': ' inside a subject": (
        "title: June update\nsubject: News: June\ndate: 2024-06-14\n",
        "2:10: YAML syntax error: this text holds ': ', which YAML reads as a new key "
        '(put the text in double quotes: subject: "News: June")',
    ),
    "': ' inside a block's text": (
        HEAD + "  - type: text\n    text: Note: we have moved\n",
        "6:11: YAML syntax error: this text holds ': '",
    ),
    "'- ' forgotten before a block": (
        HEAD + "  - type: text\n    text: Hi\n  type: image\n  src: https://a.org/x.png\n  alt: A photo\n",
        "7:3: YAML syntax error: this line is not a list item like the ones above it (start a new block with '- '",
    ),
    "'- ' forgotten after a blank line": (
        HEAD + "  - type: text\n    text: Hi\n\n    type: divider\n",
        "8:5: block 1 (divider), type: duplicate key (first given on line 5; keep one, or start a new item with '- '",
    ),
    "a tab used to indent": (
        HEAD + "  - type: text\n\ttext: Hi\n",
        "6:1: YAML syntax error: a tab is used to indent this line (indent with spaces only",
    ),
    "text starting with *": (
        HEAD + "  - type: text\n    text: *Important* news\n",
        "6:11: YAML syntax error: text starting with '*': YAML reads '*' as a reference to another value",
    ),
    "text starting with @": (
        HEAD + "  - type: text\n    text: '@coprod' is our handle\n".replace("'@coprod' is", "@coprod is"),
        "6:11: YAML syntax error: text starting with '@'",
    ),
    "a Markdown link at the start of the text": (
        HEAD + "  - type: text\n    text: [Read the report](https://a.org/r) today\n",
        "6:11: YAML syntax error: text starting with '[': YAML reads '[' as the start of a list",
    ),
    "text starting with {": (
        HEAD + "  - type: text\n    text: {name} said hello\n",
        "6:11: YAML syntax error: text starting with '{'",
    ),
    "text starting with >": (
        HEAD + "  - type: text\n    text: > 50 people came\n",
        "6:11: YAML syntax error: text starting with '>'",
    ),
    "a double quote inside double-quoted text": (
        HEAD + '  - type: text\n    text: "He said "hi" to us"\n',
        '6:20: YAML syntax error: the text goes on after its closing quote " (a quote inside the text?)',
    ),
    "an apostrophe inside single-quoted text": (
        HEAD + "  - type: text\n    text: 'It's here'\n",
        "6:14: YAML syntax error: the text goes on after its closing quote '",
    ),
    "a second line of text indented less than its key": (
        HEAD + "  - type: text\n    text: First line\n  and the second line\n",
        "7:3: YAML syntax error: this line is neither 'key: value' nor indented under a key",
    ),
    "no space after '-'": (
        HEAD + "  -type: text\n    text: Hi\n",
        "5:3: YAML syntax error: a '-' needs a space after it",
    ),
    "no space after ':'": (
        "title:June update\nsubject: x\ndate: 2024-06-14\n",
        "1:1: YAML syntax error: this line is not 'key: value'",
    ),
    "'=' instead of ':'": (
        "title = June update\nsubject: x\ndate: 2024-06-14\n",
        "1:1: YAML syntax error: this line is not 'key: value'",
    ),
    "a key indented more than its neighbours": (
        "title: June update\n  subject: News\ndate: 2024-06-14\n",
        "2:3: YAML syntax error: this line is indented more than the line above it",
    ),
    "a list item indented one space less": (
        HEAD + "  - type: list\n    items:\n      - one\n     - two\n",
        "8:6: YAML syntax error: this line does not line up with the lines above it",
    ),
    "a backslash in double-quoted text": (
        HEAD + '  - type: text\n    text: "See C:\\docs\\report"\n',
        "6:17: YAML syntax error: a backslash (\\) in double-quoted text starts an escape",
    ),
    "an unclosed [ list": (
        "title: June update\nsubject: x\ndate: 2024-06-14\naudience:\n  tags: [community, cuppas\nblocks:\n",
        "5:9: YAML syntax error: the '[' here is never closed",
    ),
    "an unclosed [ on the last line": (  # issue 27 item 8: PyYAML marks the end of the file
        "title: x\nsubject: [\n",
        "2:10: YAML syntax error: the '[' here is never closed",
    ),
    "an unclosed { on the last line, no line break": (
        "title: x\nsubject: {",
        "2:10: YAML syntax error: the '{' here is never closed",
    ),
    "a closing quote forgotten before a quoted value": (  # issue 27 item 9
        'title: June update\nsubject: "June Team Update: meaningful conversations\n'
        'preheader: "Trust, and what comes of it"\ndate: 2024-06-14\nblocks:\n',
        '2:10: YAML syntax error: the quote " opened here is not closed on its line',
    ),
    "a block of text whose first line is indented more than the next": (  # its hint once failed on an empty line
        HEAD + "  - type: text\n    text: |\n        Indented more\n      than the next line\n\n",
        "8:7: YAML syntax error: this line does not line up with the lines above it",
    ),
    "a misspelt key in a block": (
        HEAD + "  - type: image\n    src: https://a.org/x.png\n    atl: A photo\n",
        "7:5: block 1 (image), atl: unknown key 'atl' (did you mean 'alt'?)",
    ),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_yaml_mistake(name: str, project: Path) -> None:
    text, expected = MISTAKES[name]
    (project / "issues" / "bad.yaml").write_text(text, encoding="utf-8")
    result = run_cli("build", "issues/bad.yaml", cwd=project)
    assert result.code == 2, result.output
    assert "issues/bad.yaml:" + expected in result.err, result.err
    assert "Traceback" not in result.output
    assert not (project / "build").exists()


def test_a_syntax_error_in_one_issue_never_hides_another_issues_problems(project: Path) -> None:
    """The preview's index shows every issue's own problems, whatever another one holds."""
    (project / "issues" / "broken.yaml").write_text(MISTAKES["a closing double quote forgotten"][0], encoding="utf-8")
    (project / "issues" / "invalid.yaml").write_text(HEAD + "  - type: image\n    src: https://a.org/x.png\n", encoding="utf-8")
    with serving(project) as running:
        issues = {i["slug"]: i for i in running.json("/api/issues")["issues"]}
        assert issues["2024-06-june-team-update"]["ok"]
        assert not issues["broken"]["ok"] and not issues["invalid"]["ok"]
        broken = str(running.json("/api/issues/broken"))
        invalid = str(running.json("/api/issues/invalid"))
        assert "issues/broken.yaml:6:11" in broken and "never closed" in broken
        assert "issues/invalid.yaml:5:5" in invalid and "block 1 (image), alt" in invalid
