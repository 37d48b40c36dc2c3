"""Bad issue and settings files: one clear line per problem naming file:line:col and the
field, exit code 2, no traceback, and no output written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli

GOOD = """\
title: Test issue
subject: Test subject
date: 2024-06-14
blocks:
  - type: text
    text: Hello
"""

CASES = {
    "yaml syntax error": (
        "title: [unclosed\nsubject: x\n",
        "issues/bad.yaml:1:8: YAML syntax error: the '[' here is never closed",
    ),
    "wrong type": (
        GOOD + "greeting: maybe\n",
        "issues/bad.yaml:7:11: greeting: input should be a valid boolean",
    ),
    "missing field": (
        GOOD.replace("title: Test issue\n", ""),
        "issues/bad.yaml:1:1: title: field required",
    ),
    "unknown key with hint": (
        GOOD.replace("title:", "titel:"),
        "issues/bad.yaml:1:1: titel: unknown key 'titel' (did you mean 'title'?)",
    ),
    "unknown key in a block": (
        GOOD + "    colour: red\n",
        "issues/bad.yaml:7:5: block 1 (text), colour: unknown key 'colour'",
    ),
    "unknown block type": (
        GOOD.replace("type: text", "type: txet"),
        "issues/bad.yaml:5:11: block 1 (txet): unknown type 'txet' (did you mean 'text'?)",
    ),
    "javascript URL in a button": (
        GOOD + "  - type: button\n    label: Go\n    url: javascript:alert(1)\n",
        "issues/bad.yaml:9:10: block 2 (button), url: URL has 'javascript:'",
    ),
    "javascript link in Markdown": (
        GOOD.replace("text: Hello", "text: '[Hello](javascript:alert(1))'"),
        "issues/bad.yaml:6:11: block 1 (text), text: URL has 'javascript:'",
    ),
    "data: image": (
        GOOD + "  - type: image\n    src: data:image/png;base64,AAAA\n    alt: A dot\n",
        "issues/bad.yaml:8:10: block 2 (image), src: URL has 'data:'",
    ),
    "image without alt": (
        GOOD + "  - type: image\n    src: https://example.org/a.png\n",
        "issues/bad.yaml:7:5: block 2 (image), alt: field required",
    ),
    "empty alt, not marked decorative": (
        GOOD + "  - type: image\n    src: https://example.org/a.png\n    alt: ''\n",
        "issues/bad.yaml:7:5: block 2 (image): alt text is empty",
    ),
    "bad date": (
        GOOD.replace("2024-06-14", "2024-13-01"),
        "issues/bad.yaml:3:7: date: '2024-13-01' is not a date: write it as YYYY-MM-DD, e.g. 2024-06-14 "
        "(the month must be 1 to 12)",
    ),
    "bad event time": (
        GOOD + "  - type: events\n    items:\n      - title: Cuppa\n        start: next tuesday\n",
        "issues/bad.yaml:10:16: block 2 (events), item 1, start: 'next tuesday' is not a date and time: "
        "write it as YYYY-MM-DD HH:MM",
    ),
    "event ends before it starts": (
        GOOD
        + "  - type: events\n    items:\n      - title: Cuppa\n"
        + "        start: 2024-07-01 12:00\n        end: 2024-07-01 11:00\n",
        "issues/bad.yaml:9:9: block 2 (events), item 1: end must be after start",
    ),
    "event in the hour the clocks skip": (
        GOOD + "  - type: events\n    items:\n      - title: Cuppa\n        start: 2024-03-31 01:30\n",
        "issues/bad.yaml:10:16: block 2 (events), item 1, start: 2024-03-31 01:30 does not exist in "
        "Europe/London (the clocks go forward then): give a time that does",
    ),
    "empty blocks": (
        GOOD.split("blocks:")[0] + "blocks: []\n",
        "issues/bad.yaml:4:9: blocks: needs at least 1 item",
    ),
    "duplicate key": (
        GOOD + "title: Again\n",
        "issues/bad.yaml:7:1: title: duplicate key (first given on line 1; keep one)",
    ),
    "header injection in subject": (
        GOOD.replace("subject: Test subject", 'subject: "Hi\\r\\nBcc: all@example.org"'),
        "issues/bad.yaml:2:10: subject: line breaks and control characters are not allowed",
    ),
    "list instead of mapping": (
        "- title: x\n",
        "issues/bad.yaml:1:1: expected a mapping of keys to values at the top level",
    ),
    "heading level out of range": (
        GOOD + "  - type: heading\n    text: Hi\n    level: 7\n",
        "issues/bad.yaml:9:12: block 2 (heading), level: input should be 2 or 3",
    ),
}


def _assert_clean_failure(result: CliResult, expected: str, root: Path) -> None:
    assert result.code == 2, result.output
    assert expected in result.err, result.err
    assert "Traceback" not in result.output
    assert not (root / "build").exists(), "nothing may be written when the input is bad"


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_issue_file(name: str, project: Path) -> None:
    text, expected = CASES[name]
    (project / "issues" / "bad.yaml").write_text(text, encoding="utf-8")
    result = run_cli("build", "issues/bad.yaml", cwd=project)
    _assert_clean_failure(result, expected, project)


def test_all_problems_reported_together(project: Path) -> None:
    text = GOOD.replace("title:", "titel:") + "  - type: button\n    label: Go\n    url: ftp://x\n"
    (project / "issues" / "bad.yaml").write_text(text, encoding="utf-8")
    result = run_cli("build", "issues/bad.yaml", cwd=project)
    assert result.code == 2
    assert "3 problems found" in result.err
    lines = [line.strip() for line in result.err.splitlines()[1:]]
    assert len(lines) == 3
    assert any(line.startswith("issues/bad.yaml:1:1: titel: unknown key") for line in lines)
    assert any(line.startswith("issues/bad.yaml:1:1: title: field required") for line in lines)
    assert lines[2].startswith("issues/bad.yaml:9:10: block 2 (button), url: URL has 'ftp:'")


SETTINGS_CASES = {
    "bad colour": (
        ('  brand: "#4b2c82"', '  brand: "#4b2c8"'),
        "newsletter.yaml:19:10: colours.brand: '#4b2c8' is not a colour",
    ),
    "unknown time zone with hint": (
        ("timezone: Europe/London", "timezone: Europe/Lodnon"),
        "newsletter.yaml:30:11: timezone: unknown time zone 'Europe/Lodnon'; did you mean 'Europe/London'?",
    ),
    "unsubscribe URL without token": (
        ("unsubscribe?token={token}", "unsubscribe"),
        "newsletter.yaml:29:18: unsubscribe_url: unsubscribe_url must contain {token}",
    ),
    "unknown inliner": (
        ("inliner: css-inline", "inliner: premailr"),
        "newsletter.yaml:31:10: inliner: input should be 'css-inline' or 'premailer'",
    ),
    "bad sender address": (
        ("email: news@example.org", "email: news@"),
        "newsletter.yaml:6:10: from.email: 'news@' is not a valid email address",
    ),
}


@pytest.mark.parametrize("name", sorted(SETTINGS_CASES))
def test_bad_settings_file(name: str, project: Path) -> None:
    (old, new), expected = SETTINGS_CASES[name]
    settings = project / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8")
    assert old in text
    settings.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run_cli("build", "issues/2024-06-june-team-update.yaml", cwd=project)
    _assert_clean_failure(result, expected, project)


def test_not_utf8(project: Path) -> None:
    (project / "issues" / "bad.yaml").write_bytes(GOOD.encode("utf-16"))
    result = run_cli("build", "issues/bad.yaml", cwd=project)
    _assert_clean_failure(result, "issues/bad.yaml:1:1: not UTF-8 text", project)


def test_missing_issue_file(project: Path) -> None:
    result = run_cli("build", "issues/nope.yaml", cwd=project)
    _assert_clean_failure(result, "issues/nope.yaml: file not found", project)


def test_outside_a_project(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(GOOD, encoding="utf-8")
    result = run_cli("build", "x.yaml", cwd=tmp_path)
    _assert_clean_failure(result, "no newsletter.yaml found here or in any folder above", tmp_path)


def test_bad_slug(project: Path) -> None:
    (project / "issues" / "June Update.yaml").write_text(GOOD, encoding="utf-8")
    result = run_cli("build", "issues/June Update.yaml", cwd=project)
    _assert_clean_failure(result, "file name 'June Update.yaml' does not make a good slug", project)


def test_bad_input_leaves_previous_output_untouched(project: Path) -> None:
    ok = run_cli("build", "issues/2024-06-june-team-update.yaml", cwd=project)
    assert ok.code == 0, ok.output
    html = project / "build" / "2024-06-june-team-update.html"
    before = html.read_bytes()
    issue = project / "issues" / "2024-06-june-team-update.yaml"
    issue.write_text(issue.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    result = run_cli("build", "issues/2024-06-june-team-update.yaml", cwd=project)
    assert result.code == 2
    assert html.read_bytes() == before
