"""An approved and merged pull request as the approval of an issue (``approval: pull-request``).

The send workflow asks GitHub, on the push a merge makes, for the pull request that
brought the commit (``GET /repos/{repo}/commits/{sha}/pulls``) and its reviews
(``GET /repos/{repo}/pulls/{n}/reviews``) and hands both answers to
``newsletter ci approve-merge``. What is verified, from those answers and git:

* the pull request was merged, and its merge commit is the one being sent;
* a review by someone other than the pull request's author, with write access to the
  repository (``author_association`` OWNER, MEMBER or COLLABORATOR), whose last word is
  ``APPROVED`` and was given on the pull request's last commit (``commit_id`` = ``head.sha``);
* the email renders to the same bytes at that reviewed commit as at the merge commit (a
  merge that brought other changes to templates or settings is not what was reviewed).

Who the reviewer is, GitHub says; the answers are taken as the workflow received them
(a person who can push to the branch can also write an approval file by hand: the
protected environment's required reviewers are the guard against that).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.approval.store import Approver
from newsletter.errors import InputError, Problem, ProblemsFound, display_path

WRITERS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
_MAX_BYTES = 10 << 20


@dataclass(frozen=True, slots=True)
class Merged:
    number: int
    author: str
    head_sha: str
    approvers: list[Approver]


def _read(path: Path) -> list[dict[str, Any]]:
    """A JSON array, or JSON objects one a line (``gh api --paginate --jq '.[]'``)."""
    raw = path.read_bytes()[: _MAX_BYTES + 1]
    if len(raw) > _MAX_BYTES:
        raise InputError(Problem(display_path(path), None, None, "", "larger than 10 MB"))
    text = raw.decode("utf-8", "replace").strip()
    try:
        if text.startswith("["):
            data = json.loads(text)
        else:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise InputError(Problem(display_path(path), None, None, "", f"not GitHub's JSON answer ({exc})")) from None
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise InputError(Problem(display_path(path), None, None, "", "not a list of GitHub objects"))
    return data


def _login(obj: Any) -> str:
    return str(obj.get("login", "")) if isinstance(obj, dict) else ""


def merged(pulls_path: Path, reviews_path: Path, merge_sha: str) -> Merged:
    """The merged pull request of ``merge_sha`` and the approvals that count."""
    pulls = [p for p in _read(pulls_path) if p.get("merged_at") and p.get("merge_commit_sha") == merge_sha]
    if not pulls:
        raise ProblemsFound(f"no merged pull request has {merge_sha[:12]} as its merge commit: nothing to record")
    pull = pulls[0]
    number, author = int(pull.get("number", 0)), _login(pull.get("user"))
    head = str((pull.get("head") or {}).get("sha", ""))
    last: dict[str, dict[str, Any]] = {}
    for review in sorted(_read(reviews_path), key=lambda r: (str(r.get("submitted_at", "")), int(r.get("id", 0)))):
        who = _login(review.get("user"))
        if who and review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            last[who] = review  # a later word replaces an earlier one (comments do not)
    approvers = [
        Approver(at=str(r.get("submitted_at", "")), by=f"github:{who}", commit=head, how=f"pull request #{number}")
        for who, r in sorted(last.items())
        if r.get("state") == "APPROVED"
        and r.get("commit_id") == head
        and who != author
        and r.get("author_association") in WRITERS
    ]
    return Merged(number, author, head, approvers)


def same_render_at(root: Path, rel: str, commit: str, digest: str) -> bool:
    """Whether ``rel`` renders to the email ``digest`` at ``commit``."""
    from newsletter.approval.made_from import email_sha256
    from newsletter.errors import NewsletterError
    from newsletter.gitrepo import extract
    from newsletter.project import open_issue

    with tempfile.TemporaryDirectory(prefix="newsletter-reviewed-") as tmp:
        if not extract(root, commit, Path(tmp)) or not (Path(tmp) / rel).is_file():
            return False
        try:
            project, issue_file, rendered = open_issue(Path(tmp) / rel)
        except NewsletterError:
            return False
        return email_sha256(rendered, project, issue_file) == digest
