"""The theme's own words in the reader's language: a gettext message catalog per language.

The built-in templates write every fixed word through ``_()`` (Jinja's ``i18n`` extension);
English is the source, so an English render uses the words as written. Each other language
with a catalog has ``newsletter/locale/<language>/LC_MESSAGES/newsletter.po``, read with
Babel and compiled in memory, once per process. A language without a catalog gets the
English words. ``make messages`` extracts the words (``babel.cfg``: the templates, and the
words marked ``N_()`` in Python) and merges them into each catalog.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "newsletter"
SOURCE = "en"
"""The language the templates are written in."""


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def languages() -> frozenset[str]:
    """The languages (primary subtags) whose theme words are translated, English included."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset({SOURCE, *found})


def key(tag: str | None) -> str:
    """The catalog a language tag reads (``cy`` for ``cy-GB``); English for a language
    without one."""
    if not tag:
        return SOURCE
    first = tag.replace("_", "-").split("-", 1)[0].lower()
    return first if first in languages() else SOURCE


@lru_cache(maxsize=8)
def translations(language: str) -> gettext.NullTranslations:
    """The theme's words in ``language`` (a :func:`key`): its catalog, or the words as written."""
    if language == SOURCE or language not in languages():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with catalog_path(language).open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext_in(tag: str | None, message: str) -> str:
    """``message`` (a theme word) in the language ``tag`` names."""
    return translations(key(tag)).gettext(message)
