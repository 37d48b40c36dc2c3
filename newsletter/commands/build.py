"""``newsletter build``: render an issue to HTML and text files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.errors import NewsletterError, display_path
from newsletter.files import write_files
from newsletter.issue.languages import choose_language
from newsletter.project import Project, open_issue
from newsletter.render.pipeline import Rendered


@dataclass(frozen=True, slots=True)
class BuildResult:
    rendered: Rendered
    issue_path: Path
    html_path: Path
    text_path: Path


def build(issue_path: Path, out_dir: Path, language: str | None = None) -> BuildResult:
    """Render the issue; write ``<slug>.html`` and ``<slug>.txt`` only if it all succeeded
    (both or neither). ``language``: one of an issue's languages (``<slug>.cy.html`` for
    one but the default)."""
    if language is None:
        _, issue_file, rendered = open_issue(issue_path)
    else:
        project = Project.find(issue_path)
        issue_file = choose_language(project.load(issue_path), language, project.settings.language)
        rendered = project.render(issue_file)
    html_path = out_dir / f"{issue_file.page_slug}.html"
    text_path = out_dir / f"{issue_file.page_slug}.txt"
    try:
        write_files({html_path: rendered.html, text_path: rendered.text})  # with the user's umask
    except OSError as exc:
        raise NewsletterError(f"{display_path(out_dir)}: cannot write: {exc.strerror}; nothing was written") from None
    return BuildResult(rendered, issue_path, html_path, text_path)
