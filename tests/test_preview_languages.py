"""The preview of an issue in several languages: a language switch (``?lang=cy`` on the
issue's API, a picker on the page), the email and its web page in the chosen language."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pytest

from tests.conftest import REPO
from tests.preview_kit import serving

BILINGUAL = "issues/examples/2024-06-june-team-update-bilingual.yaml"
SLUG = "bilingual"


def _project(project: Path) -> None:
    shutil.copy(REPO / BILINGUAL, project / "issues" / f"{SLUG}.yaml")
    lines = (project / "subscribers.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",language"] + [line + (",cy" if line.startswith("amina") else ",") for line in lines[1:]]
    (project / "subscribers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_language_switch_shows_each_language(project: Path) -> None:
    _project(project)
    with serving(project) as preview:
        english = preview.json(f"/api/issues/{SLUG}")
        assert english["languages"] == ["en", "cy"] and english["language"] == "en"
        assert "big ideas come out of small conversations" in english["email"]["html"]
        assert lxml.html.document_fromstring(english["email"]["html"]).get("lang") == "en"
        welsh = preview.json(f"/api/issues/{SLUG}?lang=cy&as=line-2")
        assert welsh["language"] == "cy" and welsh["reader"] == "line-2"
        assert "daw syniadau mawr o sgyrsiau bach" in welsh["email"]["html"]
        assert "14 Mehefin 2024" in welsh["email"]["text"]
        assert dict(welsh["email"]["headers"])["Subject"] == "Diweddariad y Tîm, Mehefin: Adeiladu ar sgyrsiau ystyrlon"
        assert lxml.html.document_fromstring(welsh["email"]["html"]).get("lang") == "cy"
        assert welsh["web"]["html"] and "daw syniadau mawr o sgyrsiau bach" in welsh["web"]["html"]
        # the English page is not taken for the Welsh one, nor the other way round
        again = preview.json(f"/api/issues/{SLUG}")
        assert again["web"]["html"] and "daw syniadau mawr" not in again["web"]["html"]
        # viewed as a reader, the email is in their language unless another is picked
        amina = preview.json(f"/api/issues/{SLUG}?as=line-2")
        assert amina["language"] == "cy" and "daw syniadau mawr" in amina["email"]["html"]
        assert "Annwyl Amina," in amina["email"]["text"] and "Dad-danysgrifio" in amina["email"]["html"]
        picked = preview.json(f"/api/issues/{SLUG}?as=line-2&lang=en")
        assert picked["language"] == "en" and "big ideas come out" in picked["email"]["html"]
        assert "Dear Amina," in picked["email"]["text"] and ">Unsubscribe<" in picked["email"]["html"]
        ben = preview.json(f"/api/issues/{SLUG}?as=line-3")
        assert ben["language"] == "en"
        # a language the issue lacks: its default language
        other = preview.json(f"/api/issues/{SLUG}?lang=fr")
        assert other["language"] == "en" and "big ideas come out" in other["email"]["html"]
        # an issue in one language offers no switch
        june = preview.json("/api/issues/2024-06-june-team-update")
        assert june["languages"] == [] and june["language"] == ""


def test_the_page_switches_language_and_keeps_it_in_its_address(project: Path, browser) -> None:  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api")
    _project(project)
    with serving(project) as preview:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(preview.url)
                or route.request.url.startswith("data:")
                or route.request.url == "about:srcdoc"
                else route.abort()
            ),
        )
        try:
            page = context.new_page()
            page.goto(f"{preview.url}issues/{SLUG}")
            email = page.frame_locator("#frame-desktop").locator("body")
            sync_api.expect(email).to_contain_text("big ideas come out of small conversations")
            page.get_by_label("Language").select_option("cy")
            sync_api.expect(email).to_contain_text("daw syniadau mawr o sgyrsiau bach")
            sync_api.expect(page.frame_locator("#frame-mobile").locator("body")).to_contain_text("14 Mehefin 2024")
            assert "lang=cy" in page.url
            page.reload()  # a reload keeps the choice
            sync_api.expect(email).to_contain_text("daw syniadau mawr o sgyrsiau bach")
            page.goto(f"{preview.url}issues/2024-06-june-team-update")
            sync_api.expect(page.locator("#email-view")).to_be_visible()
            sync_api.expect(page.locator("#language-picker")).to_be_hidden()  # one language: no switch
        finally:
            context.close()
