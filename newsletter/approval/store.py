"""``approvals/<slug>.json``: who approved which rendered email, committed beside the issue.

::

    {
      "approvals": [{"at": "2024-06-12T10:00:00Z", "by": "reviewer@example.org",
                     "commit": "<40 hex or null>", "how": "newsletter approve"}],
      "email_sha256": "<the rendered email's SHA-256, as the send record's>",
      "format": 1,
      "made_from": {"issue": {"file", "sha256", "lines": [...]}, "templates": {...},
                    "settings": {...}, "tool": "0.1.0"},
      "slug": "2024-06-june-team-update",
      "subject": "June Team Update: …"
    }

Sorted keys, two-space indent, a final newline: the same approvals give the same bytes.
Approvals of one email accumulate (a second reviewer adds a line); an approval of another
render replaces them all. It holds the approvers' addresses (as their commits do), never a
reader's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.approval.made_from import MadeFrom
from newsletter.errors import InputError, Problem, display_path
from newsletter.files import read_json, write_file

FOLDER = "approvals"
FORMAT = 1
_MAX_BYTES = 1 << 20


@dataclass(frozen=True, slots=True, order=True)
class Approver:
    at: str
    """When, as UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    by: str
    """Who: a git ``user.email``, a name given with ``--by``, or ``github:<login>``."""
    commit: str | None = None
    """The commit the approver saw (HEAD, or the pull request's reviewed commit)."""
    how: str = "newsletter approve"
    """``newsletter approve``, or ``pull request #N`` (recorded when it was merged)."""

    @property
    def by_pull_request(self) -> bool:
        return self.how.startswith("pull request")

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "by": self.by, "commit": self.commit, "how": self.how}

    def __str__(self) -> str:
        via = f" ({self.how})" if self.by_pull_request else ""
        return f"{self.by} at {self.at}{via}"


@dataclass(slots=True)
class Approval:
    slug: str
    subject: str
    email_sha256: str
    made_from: MadeFrom
    approvers: list[Approver] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "slug": self.slug,
            "subject": self.subject,
            "email_sha256": self.email_sha256,
            "approvals": [a.as_dict() for a in sorted(set(self.approvers))],
            "made_from": self.made_from.as_dict(),
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    def latest(self) -> Approver | None:
        return max(self.approvers) if self.approvers else None


def path_for(root: Path, slug: str) -> Path:
    return root / FOLDER / f"{slug}.json"


def write(root: Path, approval: Approval) -> Path:
    path = path_for(root, approval.slug)
    path.parent.mkdir(exist_ok=True)
    write_file(path, approval.to_bytes())
    return path


def _problem(path: Path, what: str) -> InputError:
    return InputError(
        Problem(
            display_path(path),
            None,
            None,
            "",
            f"not an approval: {what}",
            "restore it from git (git checkout -- approvals/), or remove it and approve again",
        )
    )


def load(path: Path) -> Approval:
    """One approval file; one that is not is bad input naming the file and the field."""
    data = read_json(path, _MAX_BYTES, lambda what: _problem(path, what))
    if data.get("format") != FORMAT:
        raise _problem(path, f"format is not {FORMAT}")
    try:
        approval = Approval(
            slug=_text(data["slug"]),
            subject=_text(data["subject"]),
            email_sha256=_text(data["email_sha256"]),
            made_from=MadeFrom.from_dict(data["made_from"]),
            approvers=[
                Approver(
                    at=_text(a["at"]),
                    by=_text(a["by"]),
                    commit=a["commit"] if isinstance(a.get("commit"), str) else None,
                    how=_text(a.get("how", "newsletter approve")),
                )
                for a in data["approvals"]
            ],
        )
    except KeyError as exc:
        raise _problem(path, f"{exc.args[0]}: missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise _problem(path, str(exc)[:120]) from None
    if path.stem != approval.slug:
        raise _problem(path, f"slug: {approval.slug!r} does not match the file name")
    return approval


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def find(root: Path, slug: str) -> Approval | None:
    path = path_for(root, slug)
    return load(path) if path.is_file() else None
