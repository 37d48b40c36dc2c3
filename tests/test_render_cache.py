"""Compiled templates: kept by everything Jinja's code generator reads of the environment
(not only by the template's source), and the theme's compiled once at install
(``make setup`` runs :mod:`newsletter.render.precompile`) so that no project compiles them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from newsletter.render import env as envs
from newsletter.render.precompile import precompile
from tests.conftest import run_cli

ISSUE = "issues/2024-06-june-team-update.yaml"


def _plain(value: str) -> str:
    return f"plain:{value}"


@pass_context
def _with_context(context: Context, value: str) -> str:
    return f"context:{value}"


def _env(**options: Any) -> Environment:
    filters = options.pop("filters", {"f": _plain})
    env = Environment(**options)
    env.filters.update(filters)
    return env


def test_the_fingerprint_follows_what_the_code_generator_reads() -> None:
    first = envs.fingerprint(_env(autoescape=True))
    assert envs.fingerprint(_env(autoescape=True)) == first
    others = [
        _env(autoescape=True, filters={"f": _with_context}),  # called with the context
        _env(autoescape=True, filters={"f": _plain, "g": _plain}),  # one filter more
        _env(autoescape=False),
        _env(autoescape=True, trim_blocks=True),
        _env(autoescape=True, variable_start_string="[["),
        _env(autoescape=True, extensions=["jinja2.ext.i18n"]),
    ]
    assert len({first, *(envs.fingerprint(e) for e in others)}) == 1 + len(others)


def test_a_filter_that_comes_to_take_the_context_never_meets_code_compiled_before(tmp_path: Path) -> None:
    """The cache's own key is the template's name and source: code compiled when ``f`` took
    only its value would call the new ``f`` without its context (a TypeError)."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ 'a' | f }}")
    rendered = []
    for f in (_plain, _with_context):
        env = _env(loader=FileSystemLoader(tmp_path / "templates"), filters={"f": f})
        env.bytecode_cache = envs.bytecode_cache(tmp_path, env)
        rendered.append(env.get_template("t.j2").render())
    assert rendered == ["plain:a", "context:a"]
    assert len(list((tmp_path / ".newsletter" / "cache" / "jinja").iterdir())) == 2


def test_the_theme_compiled_at_install_leaves_a_project_nothing_to_compile(project: Path) -> None:
    precompile()
    for html in (True, False):
        env = envs.html_env(None) if html else envs.text_env(None)
        installed = envs.BUILTIN_TEMPLATES / "__pycache__" / envs.fingerprint(env)
        theme = [p for p in envs.BUILTIN_TEMPLATES.rglob("*.j2") if p.name.endswith(".txt.j2") != html]
        assert len(list(installed.glob("__jinja2_*.cache"))) >= len(theme)

    result = run_cli("build", ISSUE, cwd=project)
    assert result.code == 0, result.output
    assert not (project / ".newsletter" / "cache" / "jinja").exists()  # every template came compiled

    (project / "templates").mkdir()
    footer = (envs.BUILTIN_TEMPLATES / "footer.mjml.j2").read_text(encoding="utf-8")
    (project / "templates" / "footer.mjml.j2").write_text(footer.replace("</mj-section>", "</mj-section>\n", 1))
    result = run_cli("build", ISSUE, cwd=project)
    assert result.code == 0, result.output
    compiled = list((project / ".newsletter" / "cache" / "jinja").rglob("__jinja2_*.cache"))
    assert len(compiled) == 1  # the project's own footer, and nothing of the theme
