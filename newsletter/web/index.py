"""``index.html``: every published issue, newest first, from the template ``web/index.html.j2``
(built in, or the project's own in ``templates/web/``), rendered in the same sandboxed,
autoescaped Jinja environment as the email."""

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


def index_page(items: Sequence[IndexItem], settings: Settings, site: SiteAddress, root: Path | None) -> str:
    context = {
        "settings": settings,
        "colours": settings.colours,
        "dark": settings.dark_colours,
        "issues": list(items),
        "canonical": site.url(INDEX),
        "feed": site.link(FEED),
        "calendar": site.link(CALENDAR),
    }
    return render_template(envs.html_env(root, catalog.key(settings.language)), TEMPLATE, context, root)
