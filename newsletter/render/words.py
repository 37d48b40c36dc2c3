"""The editor's words of ``newsletter.yaml`` in each reader's language: the greeting and
the footer's ``reason``.

``greeting``, ``greeting_without_name`` and ``reason`` are either words (in the settings'
``language``) or a mapping of language to words (``{en: "Dear {first_name},", cy:
"Annwyl {first_name},"}``). A language the settings do not name gets the settings' words,
unless those are the built-in ones: then the theme's catalog gives them in that language
(Welsh: "Annwyl {first_name}," and "Helo,").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from newsletter.render import catalog

if TYPE_CHECKING:
    from newsletter.settings import Settings


def N_(message: str) -> str:  # noqa: N802 - gettext's name for a word marked, not translated
    """Marks a theme word for ``pybabel extract``; translated where it is used."""
    return message


NAMED = N_("Dear {first_name},")
"""The built-in greeting (``greeting``'s default)."""
NAMELESS = N_("Hello,")
"""The built-in greeting without a name (``greeting_without_name``'s default)."""
REASON = N_("You are receiving this email because you signed up to our mailing list.")
"""The built-in footer line (``reason``'s default)."""

Words = str | Mapping[str, str]


def normal(tag: str) -> str:
    return tag.strip().lower().replace("_", "-")


def _primary(tag: str) -> str:
    return normal(tag).split("-", 1)[0]


def pick(words: Words, tag: str) -> str | None:
    """The words for language ``tag`` a mapping names (the tag, else its language), or None."""
    if isinstance(words, str):
        return None
    named = {normal(k): v for k, v in words.items()}
    return named.get(normal(tag)) or next((v for k, v in named.items() if _primary(k) == _primary(tag)), None)


def in_language(words: Words, builtin: str, tag: str, default_tag: str) -> str:
    """``words`` for a reader of language ``tag`` (``default_tag``: the settings' language)."""
    own = pick(words, tag)
    if own is not None:
        return own
    base = words if isinstance(words, str) else pick(words, default_tag) or builtin
    if base == builtin:
        return catalog.gettext_in(tag, builtin)
    return base


def languages(*words: Words) -> list[str]:
    """The languages a greeting may differ in: each with a catalog, and each a mapping names."""
    found = set(catalog.languages())
    for value in words:
        if not isinstance(value, str):
            found.update(normal(k) for k in value)
    return sorted(found)


def reason_in(settings: Settings, tag: str | None) -> str:
    """The footer's ``reason`` in language ``tag`` (None: the settings' language)."""
    return in_language(settings.reason, REASON, tag or settings.language, settings.language)


def settings_in(settings: Settings, tag: str | None) -> Settings:
    """``settings`` as a template in language ``tag`` sees them: ``reason`` its words in that
    language (the same object when nothing changes, as for an issue in one language)."""
    reason = reason_in(settings, tag)
    if reason == settings.reason:
        return settings
    return settings.model_copy(update={"reason": reason})
