"""Docs that cannot drift: the configuration page's table comes from the settings code."""

from __future__ import annotations

from scripts.settings_table import PAGE, updated_page


def test_configuration_table_matches_settings() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert updated_page(text) == text, "run: python scripts/settings_table.py --write"
