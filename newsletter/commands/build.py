"""``newsletter build``: render an issue to HTML and text files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError, display_path
from newsletter.project import open_issue
from newsletter.render.pipeline import Rendered


@dataclass(frozen=True, slots=True)
class BuildResult:
    rendered: Rendered
    html_path: Path
    text_path: Path


def _temporary(path: Path, data: str) -> Path:
    """``data`` written and flushed to disk in a hidden file beside ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_all(files: dict[Path, str]) -> None:
    """Write several files so that readers see all the old or all the new contents:
    every file is written whole beside its target first, and only then are they put
    in place (a rename, which needs no space). A failure leaves nothing behind, not
    even a folder this call made."""
    made: list[Path] = []
    for folder in sorted({p.parent for p in files}):
        missing = [d for d in (folder, *folder.parents) if not d.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        made.extend(missing)
    written: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            written[path] = _temporary(path, data)
        for path, tmp in written.items():
            os.replace(tmp, path)
    except BaseException:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
        for folder in sorted(made, key=lambda d: len(d.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def write_atomic(path: Path, data: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    write_all({path: data})


def build(issue_path: Path, out_dir: Path) -> BuildResult:
    """Render the issue; write ``<slug>.html`` and ``<slug>.txt`` only if it all succeeded
    (both or neither)."""
    _, issue_file, rendered = open_issue(issue_path)
    html_path = out_dir / f"{issue_file.slug}.html"
    text_path = out_dir / f"{issue_file.slug}.txt"
    try:
        write_all({html_path: rendered.html, text_path: rendered.text})
    except OSError as exc:
        raise NewsletterError(f"{display_path(out_dir)}: cannot write: {exc.strerror}; "
                              "nothing was written") from None
    return BuildResult(rendered, html_path, text_path)
