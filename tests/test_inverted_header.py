"""The header under an app's colour inversion, and the hero's alt text with images off, read
from the built HTML of the worked example (its purple band and white logo).

Apps such as the Gmail app and Outlook.com's dark mode recolour the colours they find in an
email (text colours, cell backgrounds) but never its images. The white logo on the purple
band turned 1.7:1 once the band was inverted. The colours are computed as the contrast
checks compute them (``newsletter.colours``: full inversion, as ``filter: invert(1)``), and
also with lightness inversion (hue kept), for the logo, which no app recolours.
"""

from __future__ import annotations

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import colours
from newsletter.colours import invert, invert_lightness, ratio
from newsletter.settings import Settings
from tests.conftest import EXAMPLE_ISSUE, run_cli

GRAPHIC = 3.0  # WCAG 1.4.11 for a logo; also 1.4.3 for large text (18.66 px bold and more)
NONE = "none"
RECOLOURED = {NONE: lambda c: c, "full inversion": invert, "lightness inversion": invert_lightness}


def _style(node: lxml.html.HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (node.get("style") or "").split(";"):
        name, _, value = part.partition(":")
        if value:
            out[name.strip().lower()] = value.strip().lower()
    return out


def _background(node: lxml.html.HtmlElement) -> str:
    """The colour painted right behind ``node``: the nearest cell or box with a background."""
    for up in node.iterancestors():
        style = _style(up)
        colour = style.get("background-color") or style.get("background") or (up.get("bgcolor") or "").lower()
        if colour.startswith("#"):
            return colour
    raise AssertionError("no background behind the element")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[lxml.html.HtmlElement, Settings]:
    import shutil

    from tests.conftest import REPO

    project = tmp_path_factory.mktemp("inverted") / "project"
    shutil.copytree(
        REPO,
        project,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "tests", "bench", "build", "site", "outbox", ".newsletter", "__pycache__", "*.egg-info"
        ),
    )
    result = run_cli("build", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 0, result.output
    html = (project / "build" / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    from newsletter import yamldoc

    settings = yamldoc.load(project / "newsletter.yaml", Settings)
    return lxml.html.fromstring(html), settings


def _img(doc: lxml.html.HtmlElement, src: str) -> lxml.html.HtmlElement:
    found = [img for img in doc.iter("img") if img.get("src") == src]
    assert len(found) == 1, src
    return found[0]


@pytest.mark.parametrize("how", list(RECOLOURED))
def test_the_logo_keeps_its_contrast_when_an_app_recolours_the_header(
    built: tuple[lxml.html.HtmlElement, Settings], how: str
) -> None:
    doc, settings = built
    assert settings.logo is not None
    logo = _img(doc, settings.logo.src)
    ink = settings.colours.button_text  # the logo is drawn in the band's text colour (white here)
    behind = RECOLOURED[how](_background(logo))  # the cell is recoloured; the image is not
    assert ratio(ink, behind) >= GRAPHIC, f"{how}: the logo {ink} on {behind}: {ratio(ink, behind):.2f}:1"


def test_the_logos_alt_text_keeps_its_contrast_as_designed_and_inverted(built: tuple[lxml.html.HtmlElement, Settings]) -> None:
    """With images off the logo's alt text shows instead, in large bold text; the app inverts
    its colour and its cell's alike (as the contrast check for button_text on brand does)."""
    doc, settings = built
    assert settings.logo is not None
    logo = _img(doc, settings.logo.src)
    style = _style(logo)
    assert style["font-weight"] == "bold" and float(style["font-size"].removesuffix("px")) >= 18.66
    colour, behind = style["color"], _background(logo)
    assert ratio(colour, behind) >= 4.5  # as designed, as for any text
    assert ratio(invert(colour), invert(behind)) >= GRAPHIC


def test_the_hero_alt_text_reads_as_a_heading_in_the_brand_colour(built: tuple[lxml.html.HtmlElement, Settings]) -> None:
    """Images off: the hero's alt text is shown in its place, styled on the img itself (the
    only element an email app shows it with) as heading-sized bold text in the brand colour."""
    doc, settings = built
    from newsletter import yamldoc
    from newsletter.issue.model import Issue
    from tests.conftest import REPO

    issue = yamldoc.load(REPO / EXAMPLE_ISSUE, Issue)
    assert issue.hero is not None
    style = _style(_img(doc, issue.hero.src))
    assert style.get("color") == settings.colours.brand, style
    assert style.get("font-family") == settings.font_stack.lower(), style
    assert style.get("font-weight") == "bold", style
    assert float(style.get("font-size", "0px").removesuffix("px")) >= 22, style  # h2's size
    assert ratio(settings.colours.brand, settings.colours.content_background) >= GRAPHIC


def test_the_example_band_alone_would_lose_the_logo(built: tuple[lxml.html.HtmlElement, Settings]) -> None:
    """Why the cell is there: the band's own colour, inverted, leaves the white logo at 1.7:1."""
    _, settings = built
    assert ratio(settings.colours.button_text, invert(settings.colours.brand)) < 2.0


_COLOUR = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}")


@settings(max_examples=25, deadline=None)
@given(ink=st.one_of(st.sampled_from(["#ffffff", "#000000"]), _COLOUR), brand=_COLOUR)
def test_the_plate_tried_best_first_is_the_plate_ranked_from_every_candidate(ink: str, brand: str) -> None:
    """The plate search stops at the first candidate that keeps the contrast, trying the best
    first; ranking every candidate (its plain twin) gives the same colour, or none."""
    assert colours.logo_plate(ink, brand) == colours.logo_plate_by_search(ink, brand)


def test_the_plate_of_the_example_is_its_brand_hue() -> None:
    assert colours.logo_plate("#ffffff", "#4b2c82") == colours.logo_plate_by_search("#ffffff", "#4b2c82") == "#8764c4"
