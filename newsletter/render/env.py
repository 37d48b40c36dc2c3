"""The Jinja environments: sandboxed, strict, autoescaped for HTML, one per theme language.

Templates are looked up first in the project's ``templates/`` folder, then in the
built-in theme, so a user overrides any partial by placing a file of the same name.
The theme's fixed words go through ``_()`` (Jinja's ``i18n`` extension), given the
language's message catalog (:mod:`newsletter.render.catalog`).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2 import BytecodeCache, ChoiceLoader, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
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
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)  # removes its temporary file on failure
        except OSError:
            pass


class _Layered(BytecodeCache):
    """The project's cache, then the theme's compiled at install (read only): a template
    missing from both is compiled and kept in the project's."""

    def __init__(self, own: _Cache | None, installed: _Cache) -> None:
        self.own = own
        self.installed = installed

    def load_bytecode(self, bucket: Bucket) -> None:
        if self.own is not None:
            self.own.load_bytecode(bucket)
        if bucket.code is None:
            self.installed.load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        if self.own is not None:
            self.own.dump_bytecode(bucket)


def fingerprint(env: Environment) -> str:
    """Everything of ``env`` that Jinja's code generator reads, hashed: its version, syntax
    and whitespace options, autoescaping, extensions and gettext style, and which filters
    and tests exist with what each is passed (a filter that comes to take the context is
    called differently by the compiled code). Compiled templates are kept under this name,
    so a change of any of these never meets code compiled before it (the cache's own key
    is only the template's name and source)."""
    parts = [
        jinja2.__version__,
        type(env).__qualname__,
        env.code_generator_class.__qualname__,
        env.context_class.__qualname__,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        env.autoescape if isinstance(env.autoescape, bool) else "callable",
        env.optimized,
        env.is_async,
        env.finalize is not None,
        getattr(env, "newstyle_gettext", None),
        sorted(env.extensions),
        sorted((name, str(getattr(f, "jinja_pass_arg", None))) for name, f in env.filters.items()),
        sorted((name, str(getattr(f, "jinja_pass_arg", None))) for name, f in env.tests.items()),
    ]
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:16]


def _installed(key: str) -> _Cache:
    """The theme's templates compiled at install, for environments of fingerprint ``key``."""
    return _Cache(str(BUILTIN_TEMPLATES / "__pycache__" / key))


def bytecode_cache(root: Path | None, env: Environment) -> BytecodeCache:
    """Compiled templates: the project's own under ``.newsletter/cache/jinja`` (its
    overrides, and the theme's when the install did not compile them), then the theme's
    compiled at install. Compiling them was most of a cold build's rendering time."""
    key = fingerprint(env)
    own = _Cache(str(root / ".newsletter" / "cache" / "jinja" / key)) if root is not None else None
    return _Layered(own, _installed(key))


def theme_compiler(*, html: bool) -> GuardedSandbox:
    """A new environment (not one of :func:`html_env`'s or :func:`text_env`'s) whose compiled
    templates go to the theme's install folder: :mod:`newsletter.render.precompile`'s."""
    env = _make(None, html=html, language=catalog.SOURCE, live=False)
    env.bytecode_cache = _installed(fingerprint(env))
    return env


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
    env.bytecode_cache = bytecode_cache(root, env)  # once every filter is in place
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
