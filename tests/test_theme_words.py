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
from tests.conftest import REPO

BILINGUAL = REPO / "issues" / "examples" / "2024-06-june-team-update-bilingual.yaml"

JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def _theme_words() -> set[str]:
    """Every word the built-in templates mark with ``_()``, as ``pybabel extract`` finds them."""
    found = extract_from_dir(
        str(REPO / "newsletter" / "templates"), method_map=[("**.j2", "jinja2")],
        options_map={"**.j2": JINJA_OPTIONS})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _welsh() -> dict[str, str]:
    with catalog.catalog_path("cy").open("rb") as fh:
        po = read_po(fh, locale="cy")
    return {str(m.id): str(m.string) for m in po if m.id and not m.fuzzy}


def test_every_theme_word_is_in_the_welsh_catalog() -> None:
    greetings = {m for _line, m, _c, _ctx in extract_from_file("python", REPO / "newsletter/render/greetings.py")
                 if isinstance(m, str)}
    assert greetings == {"Dear {first_name},", "Hello,"}
    words = _theme_words() | greetings
    assert {"Unsubscribe", "View in browser", "Online", "Add to calendar", "Photo", "Sign up"} <= words
    welsh = _welsh()
    missing = sorted(w for w in words if not welsh.get(w))
    assert missing == []
    assert (welsh["Unsubscribe"], welsh["View in browser"]) == ("Dad-danysgrifio", "Gweld yn eich porwr")
    assert (welsh["Add to calendar"], welsh["Online"], welsh["Photo"]) == ("Ychwanegu at y calendr", "Ar-lein", "Llun")
    assert (welsh["Dear {first_name},"], welsh["Hello,"]) == ("Annwyl {first_name},", "Helo,")


def _renders(project: Path) -> dict[str, Rendered]:
    path = project / "issues" / BILINGUAL.name
    shutil.copy(BILINGUAL, path)
    proj = Project.find(path)
    return {f.language or "": proj.render(f) for f in load_issue(path, proj.settings).in_each_language()}


def test_a_welsh_email_has_the_theme_words_in_welsh_and_none_in_english(project: Path) -> None:
    renders = _renders(project)
    cy, en = renders["cy"], renders["en"]
    welsh = _welsh()
    for word in ("Dad-danysgrifio", "Gweld yn eich porwr", "Gweld yr e-bost hwn yn eich porwr", "Ar-lein",
                 "Cofrestru", "Ychwanegu at y calendr", "Llun:"):
        assert word in cy.html, word
    for word in ("Dad-danysgrifio:", "Gweld yr e-bost hwn yn eich porwr:", "Ar-lein", "Cofrestru:",
                 "Ychwanegu at y calendr:", "Llun:", "[Delwedd:"):
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
