"""An issue in several languages renders once per language: its words, its dates written
by Babel (``14 Mehefin 2024``), ``lang`` (and ``dir`` for a right-to-left language) on
``<html>`` and again on the wrapper inside ``<body>``; ``build --lang`` writes one."""

from __future__ import annotations

from pathlib import Path

import lxml.html

from newsletter.issue.load import load_issue
from newsletter.project import Project
from newsletter.render.pipeline import Rendered
from tests.test_check_languages import TWO

EVENTS = """\
  - type: events
    items:
      - title: {en: Co-Pro Cuppa, cy: Paned Cyd-Gynhyrchu}
        start: 2024-07-01 12:00
"""
ISSUE = "issues/2024-06-20-two.yaml"


def _renders(project: Path, text: str) -> dict[str, Rendered]:
    (project / ISSUE).write_text(text, encoding="utf-8")
    proj = Project.find(project / ISSUE)
    issue_file = load_issue(project / ISSUE, proj.settings)
    return {f.language or "": proj.render(f) for f in issue_file.in_each_language()}


def _lang_dir(html: str) -> list[tuple[str, str | None, str | None]]:
    """(element, lang, dir) of <html> and of every element inside <body> that has a lang."""
    root = lxml.html.document_fromstring(html)
    body = root.find("body")
    assert body is not None
    inner = [e for e in body.iter() if e.get("lang") is not None]
    return [("html", root.get("lang"), root.get("dir"))] + [(e.tag, e.get("lang"), e.get("dir")) for e in inner]


def test_two_languages_two_renders_with_their_words_and_dates(project: Path) -> None:
    renders = _renders(project, TWO + EVENTS)
    en, cy = renders["en"], renders["cy"]
    assert (en.language, cy.language) == ("en", "cy")
    assert cy.subject == "Diweddariad Tîm Mehefin: sgyrsiau" and en.subject == "June Team Update: conversations"
    assert cy.preheader.startswith("Ymddiriedaeth")
    for words in ("Diweddariad Tîm Mehefin", "Ein mis", "Gwrando", "Cofrestrwch", "Paned Cyd-Gynhyrchu"):
        assert words in cy.html and words.lower() in cy.text.lower(), words
        assert words not in en.html, words
    assert "20 Mehefin 2024" in cy.html and "20 Mehefin 2024" in cy.text
    assert "Dydd Llun, 1 Gorffennaf 2024, 12:00" in cy.text
    assert "20 June 2024" in en.html and "Monday 1 July 2024, 12:00 (UK time)" in en.text
    assert "https://coproductioncollective.co.uk/cy" in cy.links
    assert "https://coproductioncollective.co.uk/en" in en.links
    # each language links to its own web page
    assert cy.archive_url.endswith("/2024-06-20-two.cy.html") and en.archive_url.endswith("/2024-06-20-two.html")


def test_lang_on_html_and_again_inside_body(project: Path) -> None:
    renders = _renders(project, TWO)
    assert _lang_dir(renders["cy"].html) == [("html", "cy", "auto"), ("div", "cy", "auto")]
    assert _lang_dir(renders["en"].html) == [("html", "en", "auto"), ("div", "en", "auto")]


def test_a_right_to_left_language_renders_right_to_left(project: Path) -> None:
    text = TWO.replace("[en, cy]", "[en, ar]").replace("cy:", "ar:")
    for welsh, arabic in (("Diweddariad Tîm Mehefin", "تحديث الفريق لشهر يونيو"), ("Ein mis", "شهرنا")):
        text = text.replace(welsh, arabic)
    renders = _renders(project, text)
    assert _lang_dir(renders["ar"].html) == [("html", "ar", "rtl"), ("div", "ar", "rtl")]
    assert "شهرنا" in renders["ar"].html
    assert "20 يونيو 2024" in renders["ar"].text
    assert _lang_dir(renders["en"].html) == [("html", "en", "auto"), ("div", "en", "auto")]


def test_an_issue_in_one_language_keeps_the_settings_language(project: Path) -> None:
    renders = _renders(project, (project / "issues" / "2024-06-june-team-update.yaml").read_text(encoding="utf-8"))
    assert list(renders) == [""]
    assert _lang_dir(renders[""].html) == [("html", "en-GB", "auto"), ("div", "en-GB", "auto")]


def test_build_lang_writes_one_language(project: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (project / ISSUE).write_text(TWO, encoding="utf-8")
    result = cli("build", ISSUE, "--lang", "cy", "-o", "out", cwd=project)
    assert result.code == 0, result.output
    assert sorted(p.name for p in (project / "out").iterdir()) == ["2024-06-20-two.cy.html", "2024-06-20-two.cy.txt"]
    assert "Diweddariad Tîm Mehefin" in result.out
    html = (project / "out" / "2024-06-20-two.cy.html").read_text(encoding="utf-8")
    assert _lang_dir(html)[0] == ("html", "cy", "auto")
    result = cli("build", ISSUE, "--lang", "en", "-o", "out", cwd=project)
    assert result.code == 0 and (project / "out" / "2024-06-20-two.html").exists()


def test_build_lang_the_issue_lacks_is_refused(project: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (project / ISSUE).write_text(TWO, encoding="utf-8")
    result = cli("build", ISSUE, "--lang", "fr", "-o", "out", cwd=project)
    assert result.code == 2
    assert "has no 'fr' text; its languages are en, cy" in result.err and "Traceback" not in result.output
    assert not (project / "out").exists()
    result = cli("build", "issues/2024-06-june-team-update.yaml", "--lang", "cy", "-o", "out", cwd=project)
    assert result.code == 2 and "written in en-GB only, not 'cy'" in result.err


def test_an_event_keeps_its_calendar_file_in_every_language(project: Path) -> None:
    renders = _renders(project, TWO + EVENTS)
    calendar = [link for link in renders["en"].links if link.endswith(".ics")]
    assert calendar == [link for link in renders["cy"].links if link.endswith(".ics")]
    assert calendar and calendar[0].endswith("/events/2024-07-01-co-pro-cuppa.ics")


BILINGUAL = "issues/examples/2024-06-june-team-update-bilingual.yaml"


def test_the_worked_example_in_english_and_welsh(project: Path) -> None:
    from tests.conftest import REPO

    (project / "issues" / "examples").mkdir()
    (project / BILINGUAL).write_bytes((REPO / BILINGUAL).read_bytes())
    proj = Project.find(project / BILINGUAL)
    issue_file = load_issue(project / BILINGUAL, proj.settings)
    assert issue_file.languages == ("en", "cy") and issue_file.missing == ()
    en, cy = (proj.render(f) for f in issue_file.in_each_language())
    assert "14 June 2024" in en.text and "14 Mehefin 2024" in cy.text
    assert "Dydd Llun, 1 Gorffennaf 2024, 12:00 (Amser Haf Prydain)" in cy.text
    assert "daw syniadau mawr o sgyrsiau bach" in cy.html and "big ideas come out of small conversations" in en.html
    assert _lang_dir(cy.html)[0] == ("html", "cy", "auto")
