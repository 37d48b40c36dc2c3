"""``newsletter build``: render an issue to HTML and text files."""

from __future__ import annotations

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


def write_atomic(path: Path, data: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(issue_path: Path, out_dir: Path) -> BuildResult:
    """Render the issue; write ``<slug>.html`` and ``<slug>.txt`` only if it all succeeded."""
    _, issue_file, rendered = open_issue(issue_path)
    html_path = out_dir / f"{issue_file.slug}.html"
    text_path = out_dir / f"{issue_file.slug}.txt"
    try:
        write_atomic(html_path, rendered.html)
        write_atomic(text_path, rendered.text)
    except OSError as exc:
        raise NewsletterError(f"{display_path(out_dir)}: cannot write: {exc.strerror}") from None
    return BuildResult(rendered, html_path, text_path)
