"""An issue in several languages (``languages: [en, cy]``): one structure, each text a
mapping of language to words; missing words are check errors at their line, mistakes in
any language are load errors at theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.errors import InputError
from newsletter.issue.load import load_issue
from newsletter.settings import load_settings
from tests.test_check import _in_project, check, line_of  # noqa: F401  (the autouse fixture: paths as shown)

TWO = """\
languages: [en, cy]
title:
  en: June Team Update
  cy: Diweddariad Tîm Mehefin
subject: {en: "June Team Update: conversations", cy: "Diweddariad Tîm Mehefin: sgyrsiau"}
preheader:
  en: Trust, anti-racism and co-production, news from our programmes.
  cy: Ymddiriedaeth, gwrth-hiliaeth a chyd-gynhyrchu, newyddion o'n rhaglenni.
date: 2024-06-20
blocks:
  - type: heading
    text: {en: Our month, cy: Ein mis}
  - type: text
    text:
      en: Read [the report](https://coproductioncollective.co.uk/en).
      cy: Darllenwch [yr adroddiad](https://coproductioncollective.co.uk/cy).
  - type: list
    items:
      - {en: Listening, cy: Gwrando}
      - {en: Sharing, cy: Rhannu}
  - type: button
    label: {en: Sign up, cy: Cofrestrwch}
    url: https://coproductioncollective.co.uk/join
"""


def _load(project: Path, text: str):  # type: ignore[no-untyped-def]
    path = project / "issues" / "2024-06-20-two.yaml"
    path.write_text(text, encoding="utf-8")
    return load_issue(path, load_settings(project))


def _problems(project: Path, text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(InputError) as caught:
        _load(project, text)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_each_language_gets_its_own_words_and_one_structure(project: Path) -> None:
    issue_file = _load(project, TWO)
    assert issue_file.languages == ("en", "cy")
    en, cy = issue_file.in_each_language()
    assert (en.language, cy.language) == ("en", "cy")
    assert en.issue.title == "June Team Update" and cy.issue.title == "Diweddariad Tîm Mehefin"
    assert cy.issue.subject == "Diweddariad Tîm Mehefin: sgyrsiau"
    assert [b.type for b in en.issue.blocks] == [b.type for b in cy.issue.blocks]
    assert cy.issue.blocks[1].text.endswith("(https://coproductioncollective.co.uk/cy).")
    assert cy.issue.blocks[2].items == ["Gwrando", "Rhannu"]
    assert cy.issue.blocks[3].url == en.issue.blocks[3].url  # plain: the same in both
    assert issue_file.missing == ()
    assert issue_file.issue == en.issue  # the issue as loaded is the default language's


def test_the_default_language_is_the_settings_one_even_when_listed_second(project: Path) -> None:
    issue_file = _load(project, TWO.replace("languages: [en, cy]", "languages: [cy, en]"))
    assert issue_file.languages == ("en", "cy")  # newsletter.yaml says en-GB


def test_a_single_language_issue_is_as_before(project: Path) -> None:
    issue_file = load_issue(project / "issues" / "2024-06-june-team-update.yaml", load_settings(project))
    assert (issue_file.language, issue_file.languages, issue_file.missing) == (None, (), ())
    assert issue_file.in_each_language() == [issue_file]


@pytest.mark.parametrize(
    ("case", "old", "new", "field"),
    [
        ("a translation without Welsh", "cy: Ein mis}", "}", "blocks[0].heading.text"),
        ("plain words in a text field", "text: {en: Our month, cy: Ein mis}", "text: Our month", "blocks[0].heading.text"),
        ("a plain list item", "- {en: Sharing, cy: Rhannu}", "- Sharing", "blocks[2].list.items[1]"),
    ],
)
def test_missing_welsh_is_a_check_error_at_its_line(project: Path, case: str, old: str, new: str, field: str) -> None:
    text = TWO.replace(old, new).replace("{en: Our month, }", "{en: Our month}")
    assert text != TWO
    found = [f for f in check(project, text) if f.rule == "translation-missing"]
    assert [(f.severity, f.field, f.line, f.message) for f in found] == [
        ("error", field, line_of(text, new.strip("}").strip() or "Our month"), "no cy text")
    ]
    # the preview still shows it, in English where the Welsh is missing
    cy = _load(project, text).variant("cy")
    assert "Our month" in str(cy.issue.blocks[0]) or "Sharing" in str(cy.issue.blocks[2])


def test_plain_names_and_addresses_need_no_translation(project: Path) -> None:
    assert [f for f in check(project, TWO) if f.rule == "translation-missing"] == []


def test_a_bad_link_in_the_welsh_text_is_refused_at_the_welsh_line(project: Path) -> None:
    text = TWO.replace("(https://coproductioncollective.co.uk/cy)", "(javascript:alert(1))")
    problems = _problems(project, text)
    assert [(line, field) for line, field, _ in problems] == [(line_of(text, "javascript:"), "block 2 (text), text")]
    assert "javascript:" in problems[0][2]


def test_a_mistake_shared_by_every_language_is_reported_once(project: Path) -> None:
    text = TWO.replace("url: https://coproductioncollective.co.uk/join", "url: javascript:x")
    assert len(_problems(project, text)) == 1


@pytest.mark.parametrize(
    ("case", "old", "new", "at", "message"),
    [
        (
            "an unknown language",
            "languages: [en, cy]",
            "languages: [en, cy, xx-nonsense]",
            "languages:",
            "'xx-nonsense' is not a language tag Babel knows",
        ),
        (
            "no default language",
            "languages: [en, cy]",
            "languages: [cy, fr]",
            "languages:",
            "none of these is the newsletter's language 'en-GB'",
        ),
        (
            "a translated list",
            "    items:\n",
            "    items:\n      en: [a]\n      cy: [b]\n    x:\n",
            "en: [a]",
            "a translation holds words, not a list or a mapping",
        ),
        (
            "a language the issue does not name",
            "cy: Ein mis}",
            "cym: Ein mis}",
            "cym: Ein mis",
            "'cym' is not one of this issue's languages (en, cy)",
        ),
        ("a bare no", "languages: [en, cy]", "languages: [en, cy, no]", "languages:", "quote a language tag ('no')"),
        (
            "a translated block type",
            "  - type: heading",
            "  - type: {en: heading, cy: heading}",
            "type: {en",
            "'type' is the same in every language",
        ),
    ],
)
def test_structure_mistakes_are_load_errors_at_their_line(
    project: Path, case: str, old: str, new: str, at: str, message: str
) -> None:
    text = TWO.replace(old, new, 1)
    problems = _problems(project, text)
    assert problems and problems[0][0] == line_of(text, at)
    assert message in problems[0][2]


def test_check_cli_names_the_missing_welsh_line(project: Path, cli) -> None:  # type: ignore[no-untyped-def]
    text = TWO.replace("cy: Ein mis}", "}").replace("{en: Our month, }", "{en: Our month}")
    (project / "issues" / "2024-06-20-two.yaml").write_text(text, encoding="utf-8")
    result = cli("check", "issues/2024-06-20-two.yaml", cwd=project)
    assert result.code == 1
    line = line_of(text, "{en: Our month}")
    assert f"issues/2024-06-20-two.yaml:{line}:11: block 1 (heading), text: no cy text  [translation-missing]" in result.output


def test_load_error_cli_exit_2(project: Path, cli) -> None:  # type: ignore[no-untyped-def]
    text = TWO.replace("languages: [en, cy]", "languages: [en, cy, xx-nonsense]")
    (project / "issues" / "2024-06-20-two.yaml").write_text(text, encoding="utf-8")
    result = cli("build", "issues/2024-06-20-two.yaml", cwd=project)
    assert result.code == 2
    assert "issues/2024-06-20-two.yaml:1:" in result.output and "Traceback" not in result.output


def test_each_languages_email_is_checked_at_its_own_lines(project: Path) -> None:
    text = TWO.replace(
        "cy: Darllenwch [yr adroddiad](https://coproductioncollective.co.uk/cy).",
        'cy: "TK: Darllenwch [cliciwch yma](https://example.com/cy)."',
    )
    found = check(project, text)
    line = line_of(text, "TK: Darllenwch")
    assert ("placeholder", "error", line) in {(f.rule, f.severity, f.line) for f in found}
    assert ("example-domain", "warning", line) in {(f.rule, f.severity, f.line) for f in found}
    # a finding the languages share is reported once
    assert len([f for f in found if f.rule == "approval-off"]) == 1


def test_readers_whose_language_the_issue_lacks_are_named_at_their_row(project: Path) -> None:
    lines = (project / "subscribers.csv").read_text(encoding="utf-8").splitlines()
    cells = {"amina": "cy", "ben": "fr", "chloe": "cy-GB", "eilidh": "not a language", "farah": ""}
    lines = [lines[0] + ",language"] + [
        line + "," + next((v for k, v in cells.items() if line.startswith(k)), "") for line in lines[1:]
    ]
    (project / "subscribers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [f for f in check(project, TWO) if f.rule == "language-fallback"]
    assert [(f.severity, f.file, f.line, f.field, f.message) for f in found] == [
        ("warning", "subscribers.csv", 3, "language", "language 'fr' is not one of this issue's (en, cy): this reader gets en"),
        ("warning", "subscribers.csv", 6, "language", "language 'not a language' is no language tag: this reader gets en"),
    ]
