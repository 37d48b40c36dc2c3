"""The project a list belongs to, its secret, and its register of forgotten addresses."""

from __future__ import annotations

import os
from pathlib import Path

from newsletter.audience.forgotten import FILE, Forgotten
from newsletter.delivery.state import SECRET_ENV, STATE_DIR, load_secret
from newsletter.errors import InputError
from newsletter.settings import find_project_root


def root_of(list_path: Path) -> Path:
    """The project folder of a list (the list's own folder when it is in no project)."""
    try:
        return find_project_root(list_path.resolve().parent)
    except InputError:
        return list_path.resolve().parent


def has_secret(root: Path) -> bool:
    """Whether the project has a secret already (reading never makes one)."""
    return bool(os.environ.get(SECRET_ENV)) or (root / STATE_DIR / "secret").is_file()


def register(list_path: Path) -> Forgotten | None:
    """The project's register of forgotten addresses, when it has one."""
    root = root_of(list_path)
    if not (root / FILE).is_file():
        return None
    return Forgotten(root, load_secret(root))
