"""Saved files → rebuilds, with watchfiles (the Rust ``notify`` crate: inotify, FSEvents, …).

Only the folders the email depends on are watched, each on its own (not the whole
project tree, which may hold a virtual environment): the project folder
(``newsletter.yaml``, ``subscribers.csv``), ``issues/``, ``site/`` (the published web edition, which
the checks look at), the project's ``templates/`` and the built-in templates, with
their sub-folders. When a folder
appears or goes, the watch starts again over the new set of folders.

A burst of events (an editor's write, rename and backup) ends after ``STEP_MS`` of
quiet, or after ``DEBOUNCE_MS`` at most, and becomes one rebuild. A failure of the
watcher itself is reported and the watch tried again, falling back to polling; it
never stops the server.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import watchfiles

from newsletter.preview.site import Site
from newsletter.render.env import BUILTIN_TEMPLATES

STEP_MS = 50
"""Quiet time that ends a burst of file events."""
DEBOUNCE_MS = 400
"""Longest time events are gathered into one rebuild."""
TICK_MS = 200
"""How often the watch wakes up with no events (to notice a stop request)."""


def watched_folders(site: Site) -> list[Path]:
    """The existing folders whose direct entries the email depends on."""
    folders = [site.root, site.issues_dir, site.site_dir]
    for base in (site.templates_dir, BUILTIN_TEMPLATES):
        if base.is_dir() and not base.is_symlink():
            folders.append(base)
            folders.extend(sorted(p for p in base.rglob("*") if p.is_dir() and not p.is_symlink()))
    return [f for f in folders if f.is_dir()]


class Watcher(threading.Thread):
    """Watches the project in a background thread and rebuilds ``site`` after each save."""

    def __init__(self, site: Site) -> None:
        super().__init__(name="newsletter-preview-watch", daemon=True)
        self.site = site
        self.ready = threading.Event()
        """Set once the first watch is in place: saves from then on are seen."""
        self._stop = threading.Event()
        self._polling = False

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        first = True
        while not self._stop.is_set():
            folders = watched_folders(self.site)
            try:
                self._watch(folders, rebuild_first=not first)
            except Exception as exc:  # the watcher itself failed (e.g. no inotify watches left)
                print(f"preview: watching files failed ({exc}); watching again by polling", file=sys.stderr)
                self._polling = True
                self._stop.wait(1.0)
            first = False

    def _watch(self, folders: list[Path], *, rebuild_first: bool) -> None:
        """Watch ``folders`` until a folder appears or goes (or until stopped)."""
        catch_up = rebuild_first  # after a restart, rebuild what changed while no watch was on
        for changes in watchfiles.watch(
            *folders,
            watch_filter=None,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self._stop,
            rust_timeout=TICK_MS,
            yield_on_timeout=True,
            recursive=False,
            raise_interrupt=False,
            force_polling=self._polling or None,
            poll_delay_ms=200,
        ):
            if catch_up:
                self._rebuild(None)
                catch_up = False
            self.ready.set()
            if not changes:
                continue
            self._rebuild({Path(path) for _, path in changes})
            if watched_folders(self.site) != folders:
                return

    def _rebuild(self, changed: set[Path] | None) -> None:
        try:
            self.site.rebuild(changed)
        except Exception as exc:  # a bug of ours must not end the watch
            print(f"preview: rebuild failed: {type(exc).__name__}: {exc}", file=sys.stderr)
