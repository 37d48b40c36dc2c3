"""Colour arithmetic shared by the contrast checks and the templates: WCAG 2 luminance and
contrast, and what apps that recolour an email turn a colour into.

Two kinds of recolouring are modelled: full inversion (CSS ``filter: invert(1)``, each
channel ``c`` becoming ``1 - c``) and lightness inversion (hue and saturation kept,
lightness ``l`` becoming ``1 - l``: roughly what the Gmail app and Outlook.com's dark mode
do to the colours they find). Neither touches images.
"""

from __future__ import annotations

import colorsys
import functools


def rgb(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` (or ``#rgb``) as three channels from 0 to 1."""
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


def to_hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1 to 21."""
    a, b = luminance(foreground), luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def invert(colour: str) -> str:
    """The colour a full inversion (CSS ``filter: invert(1)``) turns ``colour`` into."""
    return to_hex(*(1 - c for c in rgb(colour)))


def invert_lightness(colour: str) -> str:
    """``colour`` with its lightness inverted, its hue and saturation kept."""
    h, lightness, s = colorsys.rgb_to_hls(*rgb(colour))
    return to_hex(*colorsys.hls_to_rgb(h, 1 - lightness, s))


NORMAL, GRAPHIC = 4.5, 3.0
"""WCAG AA's contrast for text, and for graphics (a logo) and large text."""


def keeps_contrast(ink: str, background: str, recoloured: float = GRAPHIC) -> bool:
    """Whether something drawn in ``ink`` that no app recolours (an image) has 4.5:1 on
    ``background`` as designed (its alt text too) and ``recoloured`` once an app has
    recoloured the background (the image alone)."""
    return ratio(ink, background) >= NORMAL and all(
        ratio(ink, bg) >= recoloured for bg in (invert(background), invert_lightness(background))
    )


@functools.lru_cache(maxsize=64)
def logo_plate(ink: str, brand: str) -> str | None:
    """A colour for the cell right behind a logo drawn in ``ink`` on the ``brand`` band, so that
    the logo (an image, never recoloured) keeps 4.5:1 as designed and 3:1 when an app recolours the cell:
    None when the brand colour does already; else the colour of the brand's hue (as saturated
    as can be, then as near the brand's lightness as can be) that does, or a grey that does.

    The candidates are tried best first (the most saturated, then the nearest lightness, then
    the lowest ``#rrggbb``), so the first that keeps the contrast is the answer:
    :func:`logo_plate_by_search`, which ranks every candidate, is its plain twin."""
    if keeps_contrast(ink, brand):
        return None
    h, lightness, saturation = colorsys.rgb_to_hls(*rgb(brand))
    for s_step in range(100, -1, -1):
        near = sorted(
            (abs(l_step / 100 - lightness), to_hex(*colorsys.hls_to_rgb(h, l_step / 100, s_step / 100 * saturation)))
            for l_step in range(0, 101)
        )
        for _, candidate in near:
            if keeps_contrast(ink, candidate, GRAPHIC + 0.2):  # a margin for rounding in apps
                return candidate
    return None


def logo_plate_by_search(ink: str, brand: str) -> str | None:
    """:func:`logo_plate` the plain way: every candidate ranked, the best kept (for its test)."""
    if keeps_contrast(ink, brand):
        return None
    h, lightness, saturation = colorsys.rgb_to_hls(*rgb(brand))
    best: tuple[float, float, str] | None = None
    for s_step in range(0, 101):
        for l_step in range(0, 101):
            candidate = to_hex(*colorsys.hls_to_rgb(h, l_step / 100, s_step / 100 * saturation))
            if keeps_contrast(ink, candidate, GRAPHIC + 0.2):
                rank = (-s_step, abs(l_step / 100 - lightness), candidate)
                if best is None or rank < best:
                    best = rank
    return best[2] if best is not None else None
