"""The whole web edition: every issue of the archive → pages, index, feed and calendar files.

The archive never shrinks (:mod:`newsletter.web.archive`): every publish writes all of
it. Files are made in memory first, then written with
:func:`newsletter.files.write_if_changed`: a file whose bytes did not change is not
touched (nor its modification time), so an upload tool sends only what changed, and
the command lists exactly those files. Each file is replaced atomically; they are
synced to disk together at the end. Then ``published.json`` records the revisions
(:mod:`newsletter.web.revisions`). Only the issues, ``newsletter.yaml``,
``published.json`` and which issues were sent are read: no subscriber list, no
address, no secret, so nothing personal reaches ``site/``. An issue that does not build
is reported and left out; the others are published.

Unchanged issues come from the cache (:mod:`newsletter.web.cache`); when nothing at all
changed, nothing is made again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from newsletter.errors import UsageError, display_path
from newsletter.files import write_if_changed
from newsletter.nogc import no_cycle_collection
from newsletter.web import cache
from newsletter.web.archive import sent_slugs
from newsletter.web.result import Request, SiteResult


def prepare_folder(out_dir: Path) -> None:
    """Make the output folder, or say clearly why it cannot be written to (exit 2)."""
    shown = display_path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{shown}: is a file, not a folder; choose another with -o") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot create the folder: {exc.strerror}; choose another with -o") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(f"{shown}: cannot write into this folder (permission denied); choose another with -o")


def build_site(request: Request) -> SiteResult:
    """Publish the whole archive, plus the issues named, to ``request.out_dir``."""
    prepare_folder(request.out_dir)
    paths = request.candidates()
    sent = sorted(sent_slugs(request.root))
    named = sorted(str(p.resolve()) for p in request.named)
    quick = _unchanged(request, lambda: cache.site_key(request.root, paths, [sent, named, request.base_url]))
    if quick is not None:
        return quick
    from newsletter.web.make import make_site

    # Making the pages allocates and frees objects by the hundred thousand (YAML nodes, models,
    # templates' output, document trees), nearly all freed by reference counting: the cyclic
    # collector, woken again and again, cost a tenth of the CPU time to find about 100 objects
    # an issue to free (2 MB for 100 issues), which it frees once it runs again afterwards.
    with no_cycle_collection():
        made = make_site(request, paths, frozenset(sent))
    result = made.result
    result.out_dir = request.out_dir
    folders = {request.out_dir}
    for name, data in made.files.items():
        target = request.out_dir / name
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        # each file atomic; made durable all at once (one fsync per file cost seconds for a big site)
        if write_if_changed(target, data, durable=False):
            result.written.append(name)
        else:
            result.unchanged.append(name)
    if result.written:
        os.sync()
    result.state_written = made.write_state()
    if not result.failed:
        after = cache.site_key(request.root, paths, [sent, named, request.base_url])
        _remember(request, after, result, made.until)
    return result


def _unchanged(request: Request, key: Callable[[], str]) -> SiteResult | None:
    """The result of the last publish when nothing it was made from changed since (and its
    files are still as it wrote them); None otherwise. ``key`` (every input read and
    hashed) is asked for only when there is a last publish to compare it with."""
    data = cache.load(request.root, _manifest_key(request))
    if data is None or data.get("key") != key():
        return None
    try:
        until = data.get("until")
        if until is not None and request.now.timestamp() >= until:
            return None  # an issue's day has come
        files = data.get("files") or {}
        if cache.files_state(request.out_dir, files) != files:
            return None
        return SiteResult.from_json(request.out_dir, data["result"], sorted(files))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):  # damaged: made again
        return None


def _manifest_key(request: Request) -> str:
    """The cache entry of the last publish to this folder with these options."""
    return cache.manifest_name(request.out_dir, request.base_url)


def _remember(request: Request, key: str, result: SiteResult, until: float | None) -> None:
    names = sorted([*result.written, *result.unchanged])
    files = cache.files_state(request.out_dir, names)
    if files is None:
        return
    cache.store(request.root, _manifest_key(request), {"key": key, "until": until, "files": files, "result": result.to_json()})
