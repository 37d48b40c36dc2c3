"""The Jinja environments: sandboxed, strict, autoescaped for HTML, one per theme language.

Templates are looked up first in the project's ``templates/`` folder, then in the
built-in theme, so a user overrides any partial by placing a file of the same name.
The theme's fixed words go through ``_()`` (Jinja's ``i18n`` extension), given the
language's message catalog (:mod:`newsletter.render.catalog`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from jinja2 import BytecodeCache, ChoiceLoader, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket
from markupsafe import Markup

from newsletter import markdown
from newsletter.render import catalog, dates, text
from newsletter.render.guard import GuardedSandbox

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _md(text: str) -> Markup:
    return Markup(markdown.to_html(text))


def _md_inline(text: str) -> Markup:
    return Markup(markdown.to_html(text, inline=True))


class _Cache(FileSystemBytecodeCache):
    """A cache whose failures cost only speed: a full disk, a read error or a damaged
    file means the template is compiled again, never that the command fails."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)  # removes its temporary file on failure
        except OSError:
            pass


def _bytecode_cache(root: Path | None) -> BytecodeCache | None:
    """Compiled templates kept under ``.newsletter/cache`` (keyed by source checksum):
    compiling them is most of a cold build's rendering time."""
    if root is None:
        return None
    folder = root / ".newsletter" / "cache" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return _Cache(str(folder))


def _make(root: Path | None, *, html: bool, language: str, live: bool = True) -> GuardedSandbox:
    folders = []
    if root is not None and (root / "templates").is_dir():
        folders.append(FileSystemLoader(root / "templates"))
    folders.append(FileSystemLoader(BUILTIN_TEMPLATES))
    env = GuardedSandbox(
        loader=ChoiceLoader(folders),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=live,
        bytecode_cache=_bytecode_cache(root),
        # every environment has the extension, so a compiled template is the same in each
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(catalog.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        long_date=dates.long_date,
        when=dates.when,
    )
    if html:
        env.filters.update(md=_md, md_inline=_md_inline)
    else:
        env.filters.update(
            md=markdown.to_text,
            md_inline=markdown.inline_text,
            wrap=text.wrap,
            underline=text.underline,
            link_target=text.link_target,
        )
    env.bound_filters()
    return env


@lru_cache(maxsize=16)
def html_env(root: Path | None, language: str = catalog.SOURCE, *, live: bool = True) -> GuardedSandbox:
    """The HTML environment, its theme words in ``language`` (a :func:`catalog.key`). ``live``:
    every use of a template first checks whether its file changed (for a long-running
    process); the web edition, made in one go, asks for ``live=False`` (each template is
    looked for once: the checks were a tenth of rendering). The preview clears these
    environments whenever a template changes."""
    return _make(root, html=True, language=language, live=live)


@lru_cache(maxsize=16)
def text_env(root: Path | None, language: str = catalog.SOURCE) -> GuardedSandbox:
    """The plain-text environment, its theme words in ``language`` (a :func:`catalog.key`)."""
    return _make(root, html=False, language=language)
