"""The theme's own words (the footer's links, "Online", "Add to calendar", "Photo", the
archive's headings) come from a gettext catalog: a Welsh email has them in Welsh, and
every word the built-in templates mark is in the Welsh catalog (extracted with Babel)."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from newsletter.issue.load import load_issue
from newsletter.project import Project
from newsletter.render import catalog
from newsletter.render.pipeline import Rendered
from newsletter.render.words import NAMED, NAMELESS, REASON
from newsletter.settings import Settings
from tests.conftest import REPO, run_cli

BILINGUAL = REPO / "issues" / "examples" / "2024-06-june-team-update-bilingual.yaml"

JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def _theme_words() -> set[str]:
    """Every word the built-in templates mark with ``_()``, as ``pybabel extract`` finds them."""
    found = extract_from_dir(
        str(REPO / "newsletter" / "templates"), method_map=[("**.j2", "jinja2")], options_map={"**.j2": JINJA_OPTIONS}
    )
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _welsh() -> dict[str, str]:
    with catalog.catalog_path("cy").open("rb") as fh:
        po = read_po(fh, locale="cy")
    return {str(m.id): str(m.string) for m in po if m.id and not m.fuzzy}


def test_every_theme_word_is_in_the_welsh_catalog() -> None:
    marked = {
        m
        for path in ("newsletter/render/words.py", "newsletter/web/page.py", "newsletter/web/correct.py")
        for _line, m, _c, _ctx in extract_from_file("python", REPO / path)
        if isinstance(m, str)
    }
    assert {"Dear {first_name},", "Hello,", "All issues", "Subscribe"} <= marked
    words = _theme_words() | marked
    assert {"Unsubscribe", "View in browser", "Online", "Add to calendar", "Photo", "Sign up"} <= words
    welsh = _welsh()
    missing = sorted(w for w in words if not welsh.get(w))
    assert missing == []
    assert (welsh["Unsubscribe"], welsh["View in browser"]) == ("Dad-danysgrifio", "Gweld yn eich porwr")
    assert (welsh["Add to calendar"], welsh["Online"], welsh["Photo"]) == ("Ychwanegu at y calendr", "Ar-lein", "Llun")
    assert (welsh["Dear {first_name},"], welsh["Hello,"]) == ("Annwyl {first_name},", "Helo,")
    assert welsh["All issues"] == "Pob rhifyn"


def _renders(project: Path) -> dict[str, Rendered]:
    path = project / "issues" / BILINGUAL.name
    shutil.copy(BILINGUAL, path)
    proj = Project.find(path)
    return {f.language or "": proj.render(f) for f in load_issue(path, proj.settings).in_each_language()}


def test_a_welsh_email_has_the_theme_words_in_welsh_and_none_in_english(project: Path) -> None:
    renders = _renders(project)
    cy, en = renders["cy"], renders["en"]
    welsh = _welsh()
    for word in (
        "Dad-danysgrifio",
        "Gweld yn eich porwr",
        "Gweld yr e-bost hwn yn eich porwr",
        "Ar-lein",
        "Cofrestru",
        "Ychwanegu at y calendr",
        "Llun:",
    ):
        assert word in cy.html, word
    for word in (
        "Dad-danysgrifio:",
        "Gweld yr e-bost hwn yn eich porwr:",
        "Ar-lein",
        "Cofrestru:",
        "Ychwanegu at y calendr:",
        "Llun:",
        "[Delwedd:",
    ):
        assert word in cy.text, word
    # none of the theme's English words, as the theme writes them, is left in the Welsh email
    for english in _theme_words() & set(welsh):
        for shape in (f">{english}<", f">{english} ", f"{english}:", f"[{english}:", f"\n{english}\n", f"  {english}\n"):
            assert shape not in cy.html and shape not in cy.text, shape
    # the English email keeps the words as written
    for word in (">Unsubscribe<", ">View in browser<", ">Add to calendar<", ">Online · ", "Photo:"):
        assert word in en.html, word
    assert "Dad-danysgrifio" not in en.html and "Ar-lein" not in en.text


def test_a_language_without_a_catalog_gets_the_english_words(project: Path) -> None:
    text = BILINGUAL.read_text(encoding="utf-8").replace("[en, cy]", "[en, fr]").replace("cy:", "fr:")
    path = project / "issues" / BILINGUAL.name
    path.write_text(text, encoding="utf-8")
    proj = Project.find(path)
    french = next(f for f in load_issue(path, proj.settings).in_each_language() if f.language == "fr")
    html = proj.render(french).html
    assert ">Unsubscribe<" in html and "Dad-danysgrifio" not in html
    assert catalog.key("fr") == "en" and catalog.key("cy-GB") == "cy" and catalog.key(None) == "en"


def test_the_settings_defaults_are_the_catalogs_words() -> None:
    fields = Settings.model_fields
    assert (fields["greeting"].default, fields["greeting_without_name"].default, fields["reason"].default) == (
        NAMED,
        NAMELESS,
        REASON,
    )


WELSH_REASON = "Rydych yn cael hwn am eich bod wedi ymuno â chymuned Co-Production Collective."
ENGLISH_REASON = "You are receiving this email because you joined the Co-Production Collective community."


def _settings_reason(project: Path, line: str) -> None:
    settings = project / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8")
    assert f"reason: {ENGLISH_REASON}\n" in text
    settings.write_text(text.replace(f"reason: {ENGLISH_REASON}\n", line), encoding="utf-8")


def test_the_reason_may_map_language_to_words(project: Path) -> None:
    _settings_reason(project, f'reason: {{en: "{ENGLISH_REASON}", cy: "{WELSH_REASON}"}}\n')
    renders = _renders(project)
    cy, en = renders["cy"], renders["en"]
    assert WELSH_REASON in cy.html and WELSH_REASON in " ".join(cy.text.split())
    assert ENGLISH_REASON not in cy.html and WELSH_REASON not in en.html and ENGLISH_REASON in en.html
    # the web page in Welsh: no reason (a page has no reader), its own words for the archive
    result = run_cli("publish", cwd=project)
    assert result.code == 0, result.output
    page = (project / "site" / f"{BILINGUAL.stem}.cy.html").read_text(encoding="utf-8")
    assert WELSH_REASON not in page and ">Pob rhifyn<" in page and ">All issues<" not in page
    assert ">All issues<" in (project / "site" / f"{BILINGUAL.stem}.html").read_text(encoding="utf-8")


def test_the_built_in_reason_is_in_welsh_for_welsh_readers(project: Path) -> None:
    _settings_reason(project, "")
    cy, en = _renders(project)["cy"], _renders(project)["en"]
    assert "Rydych yn cael yr e-bost hwn am eich bod wedi cofrestru ar ein rhestr bostio." in cy.html
    assert REASON in en.html and REASON not in cy.html
