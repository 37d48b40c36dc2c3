"""Docs that cannot drift: the README's configuration table comes from the settings code."""

from __future__ import annotations

from scripts.settings_table import README, updated_readme


def test_configuration_table_matches_settings() -> None:
    text = README.read_text(encoding="utf-8")
    assert updated_readme(text) == text, "run: python scripts/settings_table.py --write"
