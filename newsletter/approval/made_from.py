"""What an email was rendered from, kept beside its approval so that a later render that
differs can be explained: the issue file (its hash and one short hash per line), every
template the email may use (the built-in theme with the project's overrides), each
setting of ``newsletter.yaml`` that goes into the email, and the tool's version.

Only hashes and names: no subscriber, no secret, nothing an issue file in git does not
already show. The same files give the same :class:`MadeFrom`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter import __version__
from newsletter.delivery.plan import content_hash, make_message
from newsletter.issue.load import IssueFile
from newsletter.project import Project
from newsletter.render.env import BUILTIN_TEMPLATES
from newsletter.render.pipeline import Rendered

LINE_HASH = 16
"""Hex digits kept of each line's SHA-256: enough to tell lines apart, short to review."""
NOT_RENDERED = frozenset({"delivery", "check"})
"""Settings that never reach the email's bytes (how it is sent, what ``check`` measures)."""
_WEB = "web/"


def email_sha256(rendered: Rendered, project: Project, issue_file: IssueFile | None = None) -> str:
    """The rendered email's hash as the send record keeps it (``email_sha256``); for an
    issue in several languages (``issue_file``), of the email in every language."""
    if issue_file is None or not issue_file.languages:
        return content_hash(make_message(rendered, project.settings, send_id="approval"))
    from newsletter.delivery.languages import combined_digest

    return combined_digest(
        {
            tag.language or "": content_hash(
                make_message(
                    rendered if tag.language == rendered.language else project.render(tag), project.settings, send_id="approval"
                )
            )
            for tag in issue_file.in_each_language()
        }
    )


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:LINE_HASH]


def line_hashes(data: bytes) -> tuple[str, ...]:
    """One short hash per line (line endings left out, so CRLF and LF lines compare equal)."""
    return tuple(_short(line) for line in data.splitlines())


@dataclass(frozen=True, slots=True)
class Template:
    origin: str
    """``built-in`` or the override's path in the project (``templates/blocks/quote.mjml.j2``)."""
    sha256: str


@dataclass(frozen=True, slots=True)
class MadeFrom:
    issue_file: str
    issue_sha256: str
    lines: tuple[str, ...]
    templates: dict[str, Template]
    settings: dict[str, str]
    tool: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "issue": {"file": self.issue_file, "sha256": self.issue_sha256, "lines": list(self.lines)},
            "templates": {name: {"from": t.origin, "sha256": t.sha256} for name, t in sorted(self.templates.items())},
            "settings": dict(sorted(self.settings.items())),
            "tool": self.tool,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MadeFrom:
        issue = data["issue"]
        return cls(
            issue_file=str(issue["file"]),
            issue_sha256=str(issue["sha256"]),
            lines=tuple(str(x) for x in issue["lines"]),
            templates={str(k): Template(str(v["from"]), str(v["sha256"])) for k, v in data["templates"].items()},
            settings={str(k): str(v) for k, v in data["settings"].items()},
            tool=str(data["tool"]),
        )


def relative(root: Path, path: Path) -> str:
    """A file's path in the project, as git and every clone name it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def templates(root: Path) -> dict[str, Template]:
    """Every template the email may use, by the name the theme looks it up by: the
    project's override where there is one, else the built-in one (the web index is not the email's)."""
    found: dict[str, Template] = {}
    for path in sorted(BUILTIN_TEMPLATES.rglob("*.j2")):
        name = path.relative_to(BUILTIN_TEMPLATES).as_posix()
        if not name.startswith(_WEB):
            found[name] = Template("built-in", hashlib.sha256(path.read_bytes()).hexdigest())
    own = root / "templates"
    if own.is_dir():
        for path in sorted(own.rglob("*.j2")):
            name = path.relative_to(own).as_posix()
            if path.is_file() and not name.startswith(_WEB):
                found[name] = Template(relative(root, path), hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def settings_hashes(project: Project) -> dict[str, str]:
    """A short hash of each setting that goes into the email, by its key in ``newsletter.yaml``."""
    dumped = project.settings.model_dump(mode="json", by_alias=True)
    return {
        key: _short(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        for key, value in sorted(dumped.items())
        if key not in NOT_RENDERED and key != "approval"
    }


def made_from(project: Project, issue_file: IssueFile) -> MadeFrom:
    data = issue_file.path.read_bytes()
    return MadeFrom(
        issue_file=relative(project.root, issue_file.path),
        issue_sha256=hashlib.sha256(data).hexdigest(),
        lines=line_hashes(data),
        templates=templates(project.root),
        settings=settings_hashes(project),
        tool=__version__,
    )
