"""``newsletter ci …``: the GitHub Actions workflows and the commands their steps run."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.errors import ProblemsFound, UsageError, display_path
from newsletter.settings import find_project_root


def init(start: Path, force: bool) -> None:
    """Write ``.github/workflows/newsletter-{send,review}.yml``; never over a file this command did not write."""
    from newsletter.ci.workflows import ENVIRONMENT, MARK, files
    from newsletter.files import write_files
    from newsletter.gitrepo import git

    root = find_project_root(start)
    branch = git(root, "symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD").out.strip().removeprefix("origin/")
    branch = branch or git(root, "symbolic-ref", "--short", "-q", "HEAD").out.strip() or "main"
    wanted = {root / rel: text for rel, text in files(branch).items()}
    for path, text in wanted.items():
        if path.exists():
            held = path.read_text(encoding="utf-8", errors="replace")
            if not held.startswith(MARK):
                raise UsageError(
                    f"{display_path(path)} exists and was not written by newsletter ci init: "
                    "move it away first (nothing was written)"
                )
            if not force and held != text:
                raise UsageError(f"{display_path(path)} exists (edited since?): --force writes it again (nothing was written)")
    write_files({path: text for path, text in wanted.items()})
    for path in wanted:
        click.echo(f"wrote {display_path(path)}")
    click.echo(f"""Next, on GitHub (Settings of the repository):
  1. Environments > New environment "{ENVIRONMENT}": add required reviewers (who approve each send run),
     and the environment secrets SENDGRID_API_KEY and NEWSLETTER_SECRET.
  2. Actions > General > Workflow permissions: "Read and write" (the send run commits its record back).
  3. Set approval: in newsletter.yaml (required, another-person or pull-request) and commit the workflows.
Sends on pushes to {branch} that change an issue, or by hand: Actions > Send the newsletter > Run workflow.""")


def changed(start: Path, base: str, head: str) -> None:
    from newsletter.ci.changed import changed_issues

    for rel in changed_issues(find_project_root(start), base, head):
        click.echo(rel)


def review(start: Path, base: str, head: str, out: Path) -> None:
    from newsletter.ci.review import review as make

    reviews = make(find_project_root(start), base, head, out)
    for r in reviews:
        click.echo(f"{r.file}: {'does not build' if r.problem else f'{r.errors} error(s), {r.warnings} warning(s)'}")
    click.echo(f"wrote {display_path(out / 'comment.md')} ({len(reviews)} issue(s))")
    broken = [r.file for r in reviews if r.problem or r.errors]
    if broken:
        raise ProblemsFound(f"check errors in {', '.join(broken)}")


def approve_merge(issue_path: Path, pull_json: Path, reviews_json: Path, merge_sha: str) -> None:
    from newsletter.approval import record
    from newsletter.approval.made_from import email_sha256, relative
    from newsletter.approval.pullrequest import merged, same_render_at
    from newsletter.approval.store import path_for
    from newsletter.project import open_issue

    project, issue_file, rendered = open_issue(issue_path)
    if project.settings.approval != "pull-request":
        click.echo(f"approval: {project.settings.approval} in newsletter.yaml: a pull request's review is not recorded")
        return
    found = merged(pull_json, reviews_json, merge_sha)
    if not found.approvers:
        raise ProblemsFound(
            f"pull request #{found.number} has no approving review of its last commit "
            f"({found.head_sha[:12]}) by someone with write access other than its author; "
            "nothing recorded, so the send will refuse"
        )
    rel = relative(project.root, issue_file.path)
    if not same_render_at(project.root, rel, found.head_sha, email_sha256(rendered, project, issue_file)):
        raise ProblemsFound(
            f"{rel} renders differently at the reviewed commit {found.head_sha[:12]} than after the "
            f"merge: the email to send is not the one pull request #{found.number} approved; "
            "nothing recorded"
        )
    for approver in found.approvers:
        record.add(project, issue_file, rendered, approver)
        click.echo(f"approved by {approver}")
    click.echo(f"recorded in {display_path(path_for(project.root, issue_file.slug))}")


def push(issue_path: Path) -> None:
    """Commit the issue's send record and approval (when they changed) and push them."""
    from newsletter.approval.store import FOLDER as APPROVALS
    from newsletter.delivery import gitpush
    from newsletter.delivery.records import FOLDER as SENDS
    from newsletter.issue.load import slug_for

    root = find_project_root(issue_path)
    slug = slug_for(issue_path)
    paths = [f"{SENDS}/{slug}.json", f"{APPROVALS}/{slug}.json"]
    remote, branch = gitpush.upstream(root)
    made = gitpush.commit(root, paths, f"Send record: {slug}")
    ahead = gitpush.git(root, "rev-list", "--count", f"{remote}/{branch}..HEAD").out.strip()
    if not made and ahead in ("0", ""):
        click.echo(f"nothing to push: {' and '.join(paths)} are as {remote}/{branch} holds them")
        return
    gitpush.push_rebasing(root, remote, branch)
    click.echo(f"pushed {' and '.join(p for p in paths if (root / p).exists())} to {remote}/{branch}")
