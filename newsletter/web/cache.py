"""Publishing only what changed: a content-addressed cache under ``.newsletter/cache/web``.

Two levels, both keyed by the hash of everything their output is made from:

* **an issue's render** (its page, events and digests, :class:`~newsletter.web.issue.WebIssue`):
  keyed by the issue file's bytes, ``newsletter.yaml``, the project's templates, the
  code's version (this package's source, built-in templates and the versions of the
  libraries that shape the output), the site's address and the issue's corrections. A
  hit costs a lookup instead of loading, rendering and reworking the issue. Beside it,
  each event's calendar entry (its VEVENT as written), keyed by all it is
  made of (the event, its revision and stamp, its page): an edit to one issue does not
  write the other 300 events again. Each kind is one file per output folder (a
  :class:`Pack`), holding what the last publish used: a first publish creates two
  files, not one per issue, and the cache never holds more than the site.
* **the whole site**: keyed by all of those for every issue file, ``published.json``, the
  sent issues and the command's options. When the key, the output folder's files (size,
  modification time and inode, as written last time) and the day all still match, the
  site is as it would be made again: nothing is loaded, rendered or compared.

The cache holds nothing that is not public (pages and events) and costs only speed when
it is lost, damaged or out of date: a miss renders afresh. Its files are written
without a sync: one a crash leaves torn is a miss.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from newsletter.errors import NewsletterError
from newsletter.files import write_if_changed
from newsletter.root import SETTINGS_FILE

CACHE_DIR = Path(".newsletter") / "cache" / "web"
_LIBRARIES = {"mjml-python": "mjml", "lxml": "lxml", "jinja2": "jinja2", "markdown-it-py": "markdown_it"}
"""The libraries whose output reaches the site: distribution → the package it installs."""


def library_version(name: str, package: str) -> str:
    """The installed version of distribution ``name``: the name of its ``.dist-info`` folder
    beside ``package`` (what :mod:`importlib.metadata` reads, without importing it or the
    package: importing it costs more than a publish with nothing changed does), else
    :func:`importlib.metadata.version`; "-" when it is not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        where = Path(spec.origin).parent.parent if spec.submodule_search_locations else Path(spec.origin).parent
        prefix = name.replace("-", "_").lower() + "-"
        try:
            found = [entry for entry in os.listdir(where) if entry.lower().startswith(prefix) and entry.endswith(".dist-info")]
        except OSError:
            found = []
        if len(found) == 1:
            return found[0][len(prefix) : -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


@functools.cache
def code_version() -> str:
    """This package's source and built-in templates, and the versions of the libraries
    whose output reaches the site."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name, module in _LIBRARIES.items():
        digest.update(f"{name} {library_version(name, module)}\n".encode())
    for path in sorted([*package.rglob("*.py"), *(package / "templates").rglob("*")]):
        if path.is_file() and "__pycache__" not in path.parts:  # not the templates compiled at install
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _tree(folder: Path) -> Iterable[Path]:
    try:
        return sorted(p for p in folder.rglob("*") if p.is_file())
    except OSError:
        return []


@functools.cache
def inputs_key(root: Path) -> str:
    """What every issue's render depends on besides the issue: code, settings, templates."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(_read(root / SETTINGS_FILE))
    for path in _tree(root / "templates"):
        digest.update(b"\0" + str(path.relative_to(root)).encode() + b"\0" + _read(path))
    return digest.hexdigest()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def issue_key(root: Path, data: bytes, slug: str, site: tuple[str, str, bool], corrections: Any) -> str:
    """The key of one issue's render (see the module docstring)."""
    digest = hashlib.sha256(inputs_key(root).encode())
    digest.update(json.dumps([slug, list(site), corrections], sort_keys=True, default=str).encode())
    digest.update(data)
    return digest.hexdigest()


def entry_key(values: list[Any]) -> str:
    """The key of one event's calendar entry: the code's version and all the entry is made of."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(json.dumps(values, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def folder(root: Path) -> Path | None:
    """The cache folder, made when missing; None when it cannot be (then nothing is cached)."""
    path = root / CACHE_DIR
    try:
        from newsletter.delivery.state import state_dir

        state_dir(root)  # .newsletter/ with its .gitignore
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, NewsletterError):  # a read-only project: publish works, uncached
        return None
    return path if os.access(path, os.W_OK) else None


def load(root: Path, key: str) -> dict[str, Any] | None:
    try:
        data = orjson.loads((root / CACHE_DIR / f"{key}.json").read_bytes())
    except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


def store(root: Path, key: str, value: dict[str, Any]) -> None:
    where = folder(root)
    if where is None:
        return
    try:
        write_if_changed(where / f"{key}.json", orjson.dumps(value, option=orjson.OPT_SORT_KEYS), durable=False)
    except Exception:  # noqa: BLE001 - a cache that cannot be written costs speed only
        pass


# --- the whole site ------------------------------------------------------------------------


def site_key(root: Path, paths: Iterable[Path], extra: Any) -> str:
    """The key of a whole publish: every issue file's name and bytes, ``published.json``, and
    ``extra`` (the sent issues, the command's options)."""
    digest = hashlib.sha256(inputs_key(root).encode())
    for path in paths:
        digest.update(b"\0" + str(path).encode() + b"\0" + _read(path))
    digest.update(b"\0state\0" + _read(root / "published.json"))
    digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def manifest_name(out_dir: Path, base_url: str | None, kind: str = "site") -> str:
    """The name of the last publish's record (``kind``: ``site``, or a :class:`Pack`'s) for
    this output folder and ``--base-url``."""
    where = f"{out_dir.resolve()}\0{base_url or ''}"
    return f"{kind}-" + hashlib.sha256(where.encode()).hexdigest()[:24]


@dataclass
class Pack:
    """Cache entries of one kind, by key, in one file. What a publish looks up and finds, or
    puts, is what :meth:`save` keeps: the entries the site was made of, no others."""

    root: Path
    name: str
    found: dict[str, Any]
    kept: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def open(cls, root: Path, name: str) -> Pack:
        return cls(root, name, load(root, name) or {})

    def get(self, key: str) -> Any:
        value = self.found.get(key)
        if value is not None:
            self.kept[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        self.kept[key] = value
        self.changed = True

    def save(self) -> None:
        if self.changed or self.kept.keys() != self.found.keys():
            store(self.root, self.name, self.kept)


def files_state(out_dir: Path, names: Iterable[str]) -> dict[str, list[int]] | None:
    """(size, modification time, inode) of each file; None if one is missing."""
    found: dict[str, list[int]] = {}
    for name in names:
        try:
            st = os.stat(out_dir / name)
        except OSError:
            return None
        found[name] = [st.st_size, st.st_mtime_ns, st.st_ino]
    return found
