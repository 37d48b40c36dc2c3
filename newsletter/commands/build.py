"""``newsletter build``: render an issue to HTML and text files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError, display_path
from newsletter.files import write_files
from newsletter.project import open_issue
from newsletter.render.pipeline import Rendered


@dataclass(frozen=True, slots=True)
class BuildResult:
    rendered: Rendered
    issue_path: Path
    html_path: Path
    text_path: Path


def build(issue_path: Path, out_dir: Path) -> BuildResult:
    """Render the issue; write ``<slug>.html`` and ``<slug>.txt`` only if it all succeeded
    (both or neither)."""
    _, issue_file, rendered = open_issue(issue_path)
    html_path = out_dir / f"{issue_file.slug}.html"
    text_path = out_dir / f"{issue_file.slug}.txt"
    try:
        write_files({html_path: rendered.html, text_path: rendered.text})  # with the user's umask
    except OSError as exc:
        raise NewsletterError(f"{display_path(out_dir)}: cannot write: {exc.strerror}; "
                              "nothing was written") from None
    return BuildResult(rendered, issue_path, html_path, text_path)
