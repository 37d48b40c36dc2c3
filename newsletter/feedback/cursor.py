"""Where the last sync got to: ``.newsletter/sync.json``, one start time per list and host.

The next sync reads each dated list from an hour before the last one began, so an
entry SendGrid records late is not missed; reading it twice changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from newsletter.delivery.state import state_dir
from newsletter.errors import NewsletterError, display_path
from newsletter.files import write_file

CURSOR_FILE = "sync.json"
OVERLAP = 3600


def _path(root: Path) -> Path:
    return state_dir(root) / CURSOR_FILE


def load(root: Path, host: str) -> dict[str, int]:
    """{list: Unix time to read from} for this host; empty before the first sync."""
    path = _path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise NewsletterError(
            f"{display_path(path)}: not a sync cursor (delete it to read SendGrid's lists from the beginning)"
        ) from None
    since = data.get(host, {}) if isinstance(data, dict) else {}
    return {k: int(v) for k, v in since.items() if isinstance(v, int)} if isinstance(since, dict) else {}


def save(root: Path, host: str, began: int, kinds: list[str]) -> None:
    """Record that the lists ``kinds`` were read in full by a sync that began at ``began``."""
    path = _path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    entry = data.setdefault(host, {})
    for kind in kinds:
        entry[kind] = max(0, began - OVERLAP)
    try:
        write_file(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot write: {exc.strerror}") from None
