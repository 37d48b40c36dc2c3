"""A newsletter project on disk: its folder, settings and issues."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter.issue.load import IssueFile, load_issue
from newsletter.render.pipeline import Rendered, render_issue
from newsletter.settings import LIST_FILE, Settings, find_project_root, load_settings

__all__ = ["LIST_FILE", "Project", "open_issue"]


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    settings: Settings

    def list_path(self, given: Path | None = None) -> Path:
        """The subscriber list: ``given`` (``--list``), else the project's ``subscribers.csv``."""
        return given if given is not None else self.root / LIST_FILE

    @classmethod
    def find(cls, start: Path) -> Project:
        root = find_project_root(start)
        return cls(root, load_settings(root))

    def load(self, issue_path: Path) -> IssueFile:
        return load_issue(issue_path, self.settings)

    def render(self, issue_file: IssueFile) -> Rendered:
        return render_issue(issue_file, self.settings, self.root)


def open_issue(issue_path: Path) -> tuple[Project, IssueFile, Rendered]:
    """Find the project an issue belongs to, load the issue and render it once."""
    project = Project.find(issue_path)
    issue_file = project.load(issue_path)
    return project, issue_file, project.render(issue_file)
