"""``index.html``: every published issue, newest first, from the template ``web/index.html.j2``
(built in, or the project's own in ``templates/web/``), rendered in the same sandboxed,
autoescaped Jinja environment as the email. A site with issues in several languages has an
index per language but the default (``index.cy.html``: the Welsh pages, in Welsh words and
dates), each naming the others (``hreflang``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsletter.render import catalog
from newsletter.render import env as envs
from newsletter.render.pipeline import render_template
from newsletter.settings import Settings
from newsletter.sitenames import CALENDAR, FEED, INDEX, SiteAddress, page_name

TEMPLATE = "web/index.html.j2"


@dataclass(frozen=True, slots=True)
class IndexItem:
    slug: str
    title: str
    date: dt.date
    summary: str
    href: str


def index_item(slug: str, title: str, date: dt.date, summary: str, site: SiteAddress) -> IndexItem:
    return IndexItem(slug, title, date, summary, site.link(page_name(slug)))


def index_name(language: str | None = None) -> str:
    """The index of a language: ``index.html`` for the default, ``index.cy.html`` for Welsh."""
    return f"index.{language}.html" if language else INDEX


def index_page(
    items: Sequence[IndexItem],
    settings: Settings,
    site: SiteAddress,
    root: Path | None,
    *,
    language: str | None = None,
    languages: Sequence[str] = (),
) -> str:
    """The index of ``items``: the default language's, or that of ``language``; with
    ``languages`` (every language with an index, the default first) each is named (hreflang)."""
    alternates = [(tag, site.url(index_name(tag if i else None))) for i, tag in enumerate(languages)]
    context = {
        "settings": settings,
        "language": language or settings.language,
        "date_locale": language,
        "colours": settings.colours,
        "dark": settings.dark_colours,
        "issues": list(items),
        "canonical": site.url(index_name(language)),
        "alternates": alternates + ([("x-default", site.url(INDEX))] if alternates else []),
        "feed": site.link(f"feed.{language}.xml" if language else FEED),
        "calendar": site.link(CALENDAR),
    }
    theme = catalog.key(language or settings.language)
    return render_template(envs.html_env(root, theme, live=False), TEMPLATE, context, root)
