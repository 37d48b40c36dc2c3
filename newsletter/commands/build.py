"""``newsletter build``: render an issue to HTML and text files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter import files
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
    files.write_text(path, data)


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
