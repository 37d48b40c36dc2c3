"""Docs that cannot drift: the configuration page's table comes from the settings code,
each package names its entry point, and CI runs the README's test command."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from scripts.settings_table import PAGE, updated_page

REPO = Path(__file__).resolve().parent.parent


def test_configuration_table_matches_settings() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert updated_page(text) == text, "run: python scripts/settings_table.py --write"


def test_every_package_names_its_entry_point() -> None:
    packages = sorted((REPO / "newsletter").glob("*/__init__.py"))
    assert len(packages) >= 13
    for init in [REPO / "newsletter" / "__init__.py", *packages]:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert re.search(r"entry points?\b", doc, re.I), f"{init.relative_to(REPO)}: the docstring names no entry point"
        named = re.findall(r":(?:func|class):`~?([\w.]+)`", doc)
        assert named, f"{init.relative_to(REPO)}: the entry point is not named as :func: or :class:"


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quick, re.M)
    assert commands == ["make run", "make test"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's test command"
