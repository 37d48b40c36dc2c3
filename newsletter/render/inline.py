"""CSS inlining with either engine; both keep the doctype, media queries,
``!important``, MSO conditional comments and per-recipient tokens intact."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from newsletter.errors import NewsletterError

if TYPE_CHECKING:
    import css_inline

Engine = Literal["css-inline", "premailer"]
DOCTYPE = "<!doctype html>"


@lru_cache(maxsize=1)
def _css_inliner() -> css_inline.CSSInliner:
    import css_inline  # here: the web edition renders without inlining

    return css_inline.CSSInliner(
        keep_style_tags=True,
        keep_link_tags=True,
        load_remote_stylesheets=False,
    )


def _premailer(html: str) -> str:
    import premailer  # imported only when chosen: it is slow to import

    return str(
        premailer.Premailer(
            html,
            keep_style_tags=True,
            strip_important=False,
            remove_classes=False,
            allow_network=False,
            disable_validation=True,
            disable_leftover_css=False,
            # keep MJML's width/height attributes: Outlook sizes images from them, and
            # premailer would otherwise write the CSS width (100%) over them
            disable_basic_attributes=["width", "height"],
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=False)
    )


def inline(html: str, engine: Engine = "css-inline") -> str:
    try:
        out = _css_inliner().inline(html) if engine == "css-inline" else _premailer(html)
    except Exception as exc:  # both engines raise their own types
        raise NewsletterError(f"CSS inlining ({engine}) failed: {exc}") from None
    # html5ever and lxml both rewrite the doctype; keep the one MJML wrote
    if not out.lower().startswith("<!doctype"):
        out = DOCTYPE + "\n" + out
    else:
        out = DOCTYPE + out[out.index(">") + 1 :]
    return out
