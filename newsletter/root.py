"""Where the project is: the folder of ``newsletter.yaml`` (found without loading it, so
that a command can look at its files before it needs its settings)."""

from __future__ import annotations

from pathlib import Path

from newsletter.errors import InputError, Problem, display_path

SETTINGS_FILE = "newsletter.yaml"

__all__ = ["SETTINGS_FILE", "find_project_root"]


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``newsletter.yaml``."""
    start = start.resolve()
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    cwd = Path.cwd().resolve()
    if (cwd / SETTINGS_FILE).is_file():
        return cwd
    raise InputError(
        Problem(
            display_path(start),
            None,
            None,
            "",
            f"no {SETTINGS_FILE} found here or in any folder above",
            "run the command inside a newsletter project",
        )
    )
