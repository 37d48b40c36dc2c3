"""``newsletter new`` from an issue in several languages keeps its ``languages:`` and the
translations of what carries over, and writes each placeholder once per language."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from newsletter.project import open_issue
from tests.conftest import REPO, run_cli

BILINGUAL = REPO / "issues" / "examples" / "2024-06-june-team-update-bilingual.yaml"
SOURCE = f"issues/{BILINGUAL.name}"
JULY = "issues/2024-07-july-team-update-bilingual.yaml"


def test_new_from_a_bilingual_issue_keeps_its_languages(project: Path) -> None:
    shutil.copy(BILINGUAL, project / SOURCE)
    result = run_cli("new", "--from", SOURCE, cwd=project)
    assert result.code == 0, result.output
    text = (project / JULY).read_text(encoding="utf-8")
    assert text.count("languages:") == 1 and "\nlanguages: [en, cy]\ntitle:\n  en: " in text
    july = open_issue(project / JULY)[1]
    june = open_issue(project / SOURCE)[1]
    assert july.languages == ("en", "cy")
    en, cy = july.variant("en").issue, july.variant("cy").issue
    # each language's own placeholder, and the Welsh one says so
    assert en.title.startswith("TK:") and "(in Welsh)" not in en.title
    assert cy.title.startswith("TK:") and cy.title.endswith("(in Welsh)")
    assert cy.subject.endswith("(in Welsh)") and cy.intro is not None and "(in Welsh)" in cy.intro
    for old_en, old_cy, new_en, new_cy in zip(
        june.variant("en").issue.blocks, june.variant("cy").issue.blocks, en.blocks, cy.blocks, strict=True
    ):
        if old_en.type == "heading":  # kept, in each language
            assert (new_en, new_cy) == (old_en, old_cy)
        if old_en.type in ("text", "quote"):
            assert new_cy.text.startswith("TK:") and "(in Welsh)" in new_cy.text  # type: ignore[union-attr]
            assert "(in Welsh)" not in new_en.text  # type: ignore[union-attr]
    assert july.missing == ()  # nothing falls back to English: every text has its Welsh
    # check reports each placeholder in each language
    check = run_cli("check", JULY, "--format", "json", cwd=project)
    assert check.code == 1, check.output
    placeholders = [f for f in json.loads(check.out)["findings"] if f["rule"] == "placeholder"]
    assert any("(in Welsh)" in str(f) for f in placeholders)
    assert any("TK:" in str(f) and "(in Welsh)" not in str(f) for f in placeholders)


def test_a_kept_block_with_placeholders_per_language_stays_as_it_is(project: Path) -> None:
    """A block marked # keep whose words are still placeholders in each language is carried
    over as written, never made a translation of translations."""
    shutil.copy(BILINGUAL, project / SOURCE)
    assert run_cli("new", "--from", SOURCE, cwd=project).code == 0
    text = (project / JULY).read_text(encoding="utf-8")
    kept = text.replace("\n  - type: quote\n", "\n  # keep\n  - type: quote\n", 1)
    assert kept != text
    (project / JULY).write_text(kept, encoding="utf-8")
    result = run_cli("new", "--from", JULY, cwd=project)
    assert result.code == 0, result.output
    august = open_issue(project / "issues/2024-08-august-team-update-bilingual.yaml")[1]
    quote_en = next(b for b in august.variant("en").issue.blocks if b.type == "quote")
    quote_cy = next(b for b in august.variant("cy").issue.blocks if b.type == "quote")
    assert quote_en.text == "TK: what was said, without quotation marks"
    assert quote_cy.text == "TK: what was said, without quotation marks (in Welsh)"
