"""The pull request as the review: the comment from a fixed pair of commits (golden file), the
workflows' validity (actionlint), ``ci init``, and an approved merged pull request recorded
as the approval (``approval: pull-request``) from GitHub's answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.golden import REVIEW_GOLDEN, review_example

_BESIDE = Path(sys.executable).parent / "actionlint"  # installed by the [test] extra into the environment
ACTIONLINT = str(_BESIDE) if _BESIDE.exists() else shutil.which("actionlint")


def test_the_pull_request_comment_matches_the_golden_file(tmp_path: Path) -> None:
    comment = review_example(tmp_path)
    assert comment == REVIEW_GOLDEN.read_text(encoding="utf-8"), "run `make golden` after an intended change"
    out = tmp_path / "out"
    assert (out / "2024-06-june-team-update.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert "Hello," in (out / "2024-06-june-team-update.txt").read_text(encoding="utf-8")  # the stand-in reader has no name
    assert "+It's been a quiet month" in (out / "2024-06-june-team-update.diff").read_text(encoding="utf-8")
    # no reader's details: the stand-in reader only
    for line in (Path(__file__).resolve().parent.parent / "subscribers.csv").read_text(encoding="utf-8").splitlines()[1:]:
        email = line.split(",")[0]
        if "@" in email:
            assert email not in comment


def _git(root: Path, *args: str, who: str = "alice@example.org") -> str:
    return subprocess.run(
        ["git", "-c", f"user.email={who}", "-c", "user.name=Someone", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def test_ci_review_needs_the_head_checked_out_and_real_commits(project: Path) -> None:
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "one")
    bad = run_cli("ci", "review", "--upload-pack=evil", "HEAD", cwd=project)
    assert bad.code == 2 and "Traceback" not in bad.output
    missing = run_cli("ci", "review", "0" * 40, "HEAD", cwd=project)
    assert missing.code == 2 and "no such commit here" in missing.err


@pytest.mark.skipif(ACTIONLINT is None, reason="actionlint is not installed (pip install '.[test]')")
def test_the_generated_workflows_pass_actionlint(project: Path) -> None:
    _git(project, "init", "-q", "-b", "main")
    made = run_cli("ci", "init", cwd=project)
    assert made.code == 0, made.output
    send = project / ".github" / "workflows" / "newsletter-send.yml"
    review = project / ".github" / "workflows" / "newsletter-review.yml"
    first = send.read_bytes()
    linted = subprocess.run(
        [str(ACTIONLINT), "-no-color", str(send), str(review)], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    # the linter does look: a mistake in the same workflow is found
    broken = project / ".github" / "workflows" / "broken.yml"
    broken.write_text(first.decode().replace("${{ github.sha }}", "${{ github.shaa }}"), encoding="utf-8")
    found = subprocess.run([str(ACTIONLINT), "-no-color", str(broken)], cwd=project, capture_output=True, text=True, timeout=120)
    assert found.returncode == 1 and "shaa" in found.stdout
    broken.unlink()
    # written again: the same bytes; a file it did not write is never replaced
    assert run_cli("ci", "init", cwd=project).code == 0 and send.read_bytes() == first
    send.write_text("name: ours\n", encoding="utf-8")
    refused = run_cli("ci", "init", "--force", cwd=project)
    assert refused.code == 2 and "was not written by newsletter ci init" in refused.err
    assert send.read_text(encoding="utf-8") == "name: ours\n"


def _pull_request(
    tmp: Path,
    project: Path,
    *,
    reviewer: str = "bob",
    association: str = "COLLABORATOR",
    reviewed: str | None = None,
    state: str = "APPROVED",
) -> tuple[Path, Path, str, str]:
    """A pull request by alice changing the issue, merged into main, and GitHub's answers about it."""
    _git(project, "checkout", "-q", "-b", "july")
    issue = project / EXAMPLE_ISSUE
    issue.write_text(issue.read_text(encoding="utf-8").replace("busy month", "quiet month"), encoding="utf-8")
    _git(project, "commit", "-qam", "June: the intro")
    head = _git(project, "rev-parse", "HEAD")
    _git(project, "checkout", "-q", "main")
    _git(project, "merge", "-q", "--no-ff", "-m", "Merge pull request #7", "july", who="bob@example.org")
    merge = _git(project, "rev-parse", "HEAD")
    pulls = [
        {
            "number": 7,
            "merged_at": "2024-06-12T10:05:00Z",
            "merge_commit_sha": merge,
            "user": {"login": "alice"},
            "head": {"sha": head},
        }
    ]
    reviews = [
        {
            "id": 1,
            "user": {"login": "carol"},
            "state": "COMMENTED",
            "commit_id": head,
            "submitted_at": "2024-06-12T09:00:00Z",
            "author_association": "MEMBER",
        },
        {
            "id": 2,
            "user": {"login": reviewer},
            "state": state,
            "commit_id": reviewed or head,
            "submitted_at": "2024-06-12T10:00:00Z",
            "author_association": association,
        },
        {
            "id": 3,
            "user": {"login": "alice"},
            "state": "APPROVED",
            "commit_id": head,
            "submitted_at": "2024-06-12T10:01:00Z",
            "author_association": "OWNER",
        },
    ]
    (tmp / "pull.json").write_text(json.dumps(pulls), encoding="utf-8")
    (tmp / "reviews.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reviews), encoding="utf-8")
    return tmp / "pull.json", tmp / "reviews.jsonl", merge, head


def _pr_project(project: Path) -> Path:
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("approval: pull-request\n")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "the project")
    return project


@pytest.mark.slow  # git and actionlint over a whole pull request (over 10 s)
def test_an_approved_merged_pull_request_is_the_approval(project: Path, tmp_path: Path) -> None:
    root = _pr_project(project)
    before = run_cli("check", EXAMPLE_ISSUE, cwd=root)
    assert "[not-approved]" in before.out and before.code == 0  # a warning: merging approves
    cli_approved = run_cli("approve", EXAMPLE_ISSUE, "--by", "bob@example.org", cwd=root)
    assert cli_approved.code == 0
    assert "does not count under approval: pull-request" in run_cli("status", EXAMPLE_ISSUE, cwd=root).out
    pull, reviews, merge, head = _pull_request(tmp_path, root)
    done = run_cli(
        "ci", "approve-merge", EXAMPLE_ISSUE, "--pull", str(pull), "--reviews", str(reviews), "--merge", merge, cwd=root
    )
    assert done.code == 0, done.output
    assert "approved by github:bob at 2024-06-12T10:00:00Z (pull request #7)" in done.out
    data = json.loads((root / "approvals" / "2024-06-june-team-update.json").read_text(encoding="utf-8"))
    assert data["approvals"] == [
        {"at": "2024-06-12T10:00:00Z", "by": "github:bob", "commit": head, "how": "pull request #7"}
    ]  # alice approving her own is not counted
    status = run_cli("status", EXAMPLE_ISSUE, cwd=root)
    assert "approval (pull-request): approved by github:bob" in status.out


@pytest.mark.parametrize("case", ["outsider", "older-commit", "changes-requested"])
def test_a_pull_request_review_that_does_not_count_records_nothing(project: Path, tmp_path: Path, case: str) -> None:
    root = _pr_project(project)
    kw = {
        "outsider": {"association": "NONE"},
        "older-commit": {"reviewed": "0" * 40},
        "changes-requested": {"state": "CHANGES_REQUESTED"},
    }[case]
    pull, reviews, merge, _ = _pull_request(tmp_path, root, **kw)
    done = run_cli(
        "ci", "approve-merge", EXAMPLE_ISSUE, "--pull", str(pull), "--reviews", str(reviews), "--merge", merge, cwd=root
    )
    assert done.code == 1 and "no approving review of its last commit" in done.err
    assert not (root / "approvals").exists()


def test_a_merge_that_changed_the_email_is_not_what_was_approved(project: Path, tmp_path: Path) -> None:
    root = _pr_project(project)
    pull, reviews, merge, _ = _pull_request(tmp_path, root)
    settings = root / "newsletter.yaml"  # main moved on: the postal address changed after the review
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("postal_address:", "postal_address: Unit 2,", 1), encoding="utf-8"
    )
    done = run_cli(
        "ci", "approve-merge", EXAMPLE_ISSUE, "--pull", str(pull), "--reviews", str(reviews), "--merge", merge, cwd=root
    )
    assert done.code == 1 and "renders differently at the reviewed commit" in done.err
    assert not (root / "approvals").exists()


def test_ci_issues_lists_the_issues_a_range_of_commits_changed(project: Path) -> None:
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "one")
    base = _git(project, "rev-parse", "HEAD")
    (project / "issues" / "2024-07-july.yaml").write_text((project / EXAMPLE_ISSUE).read_text(encoding="utf-8"), encoding="utf-8")
    (project / "subscribers.csv").write_text((project / "subscribers.csv").read_text() + "\n", encoding="utf-8")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "two")
    listed = run_cli("ci", "issues", base, "HEAD", cwd=project)
    assert listed.code == 0 and listed.out == "issues/2024-07-july.yaml\n"
    assert run_cli("ci", "issues", "HEAD", "HEAD", cwd=project).out == ""


@pytest.mark.parametrize("content", ["{not json", '"text"', "[1, 2]"])
def test_github_answers_that_are_not_json_lists_are_bad_input(project: Path, tmp_path: Path, content: str) -> None:
    root = _pr_project(project)
    pull, reviews, merge, _ = _pull_request(tmp_path, root)
    pull.write_text(content, encoding="utf-8")
    done = run_cli(
        "ci", "approve-merge", EXAMPLE_ISSUE, "--pull", str(pull), "--reviews", str(reviews), "--merge", merge, cwd=root
    )
    assert done.code == 2 and "pull.json" in done.err and "Traceback" not in done.output
    assert not (root / "approvals").exists()
