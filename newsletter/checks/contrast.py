"""Colour contrast of the theme against WCAG 2 AA: 4.5:1 for normal text, 3:1 for large
text (24px, or 18.66px bold). The pairs are those the built-in templates put together,
with the sizes they use, measured three ways: as designed (light), with the dark-mode
colours (``dark_colours``, used by apps that honour ``prefers-color-scheme`` and by
Outlook.com), and under full inversion (apps that invert an email's colours themselves)."""

from __future__ import annotations

import colorsys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from newsletter.checks.context import CheckContext
from newsletter.checks.finding import Finding
from newsletter.checks.registry import check, rule
from newsletter.colours import invert as invert
from newsletter.colours import luminance as luminance
from newsletter.colours import ratio as ratio
from newsletter.colours import rgb as _rgb
from newsletter.colours import to_hex as _hex

FAMILY = "contrast"
NORMAL, LARGE = 4.5, 3.0
Mode = Literal["light", "dark", "inverted"]

CONTRAST = rule(
    "contrast",
    "warning",
    "A theme colour pair is below WCAG AA contrast (4.5:1 normal text, 3:1 large), in light "
    "mode, dark mode or under full inversion.",
    family=FAMILY,
)


@dataclass(frozen=True, slots=True)
class Pair:
    foreground: str  # a key of settings.colours (dark mode: of settings.dark_colours)
    background: str
    needed: float
    used_for: str


PAIRS = (
    Pair("text", "content_background", NORMAL, "body text (16px)"),
    Pair("link", "content_background", NORMAL, "links in the text (16px)"),
    Pair("muted", "content_background", NORMAL, "dates, captions and photo credits (13px)"),
    Pair("muted", "background", NORMAL, "the footer and the 'view in browser' line (13px)"),
    Pair("button_text", "brand", NORMAL, "button labels (16px bold) and the logo's alt text when images are blocked"),
    Pair("brand", "content_background", LARGE, "h1 and h2 headings (28px and 22px bold)"),
)
DARK_PAIRS = (
    Pair("text", "content_background", NORMAL, "body text in dark mode"),
    Pair("link", "content_background", NORMAL, "links in the text in dark mode"),
    Pair("muted", "content_background", NORMAL, "dates, captions and photo credits in dark mode"),
    Pair("muted", "background", NORMAL, "the footer and the 'view in browser' line in dark mode"),
    Pair("heading", "content_background", LARGE, "h1 and h2 headings in dark mode"),
)
# the header band and buttons keep the brand colours in dark mode: PAIRS covers them


def nearest_passing(foreground: str, background: str, needed: float) -> str | None:
    """The colour closest in lightness to ``foreground`` (same hue) that reaches ``needed``."""
    h, lightness, s = colorsys.rgb_to_hls(*_rgb(foreground))
    darker = luminance(background) > 0.18  # on light backgrounds, darken; on dark, lighten
    for step in range(1, 101):
        shifted = lightness - step / 100 if darker else lightness + step / 100
        if not 0 <= shifted <= 1:
            break
        candidate = _hex(*colorsys.hls_to_rgb(h, shifted, s))
        if ratio(candidate, background) >= needed:
            return candidate
    return None


def measured(ctx: CheckContext) -> Iterator[tuple[Mode, Pair, str, str]]:
    """(mode, pair, foreground, background) for every pair the email shows, in each mode."""
    light, dark = ctx.settings.colours, ctx.settings.dark_colours
    for pair in PAIRS:
        yield "light", pair, getattr(light, pair.foreground), getattr(light, pair.background)
    for pair in DARK_PAIRS:
        yield "dark", pair, getattr(dark, pair.foreground), getattr(dark, pair.background)
    for pair in PAIRS:
        fg, bg = getattr(light, pair.foreground), getattr(light, pair.background)
        yield "inverted", pair, invert(fg), invert(bg)


def _suggestion(mode: Mode, pair: Pair, fg: str, bg: str) -> str:
    better = nearest_passing(fg, bg, pair.needed)
    if better is None:
        return f"choose a {pair.foreground} colour further from {pair.background}"
    got = ratio(better, bg)
    if mode == "inverted":  # the suggestion is the colour to write, before inversion
        better = invert(better)
    return f'try {pair.foreground}: "{better}" ({got:.1f}:1)'


@check(FAMILY)
def theme(ctx: CheckContext) -> Iterator[Finding]:
    for mode, pair, fg, bg in measured(ctx):
        got = ratio(fg, bg)
        if got + 1e-9 >= pair.needed:
            continue
        section = "dark_colours" if mode == "dark" else "colours"
        if mode == "inverted":
            what = f"under full inversion (apps that invert an email's colours), {pair.foreground} becomes {fg} on {bg}"
        else:
            what = f"{pair.foreground} {fg} on {pair.background} {bg}"
        yield CONTRAST(
            f"{what}: {got:.2f}:1, below the {pair.needed:g}:1 WCAG AA needs for {pair.used_for}",
            ctx.settings_at((section, pair.foreground)),
            _suggestion(mode, pair, fg, bg),
        )
