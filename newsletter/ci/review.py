"""A pull request's review, as ``newsletter ci review BASE HEAD`` writes it for the review workflow.

For each issue the pull request adds or changes (or, when only templates or settings
change, the newest issue): the subject and preheader (and what they were), the ``check``
findings, where its approval stands, and the plain text's unified diff against the
render of the same issue at ``BASE`` (all of it for a new issue). ``comment.md`` holds it
for the pull request; ``<slug>.html``, ``<slug>.txt`` and ``<slug>.diff`` beside it are the
built email, for the workflow's artifact. The same commits give the same bytes.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.ci import changed
from newsletter.errors import NewsletterError, UsageError, display_path
from newsletter.gitrepo import git
from newsletter.issue.catalogue import latest
from newsletter.project import Project, open_issue
from newsletter.render.pipeline import Rendered
from newsletter.settings import Settings

MARKER = "<!-- newsletter-review -->"
COMMENT = "comment.md"
MAX_DIFF = 30_000
"""Characters of one issue's diff shown in the comment (GitHub takes 65,536 in all); the whole is in the artifact."""
_SEVERITY = {"error": "🛑 error", "warning": "⚠️ warning"}


@dataclass(slots=True)
class IssueReview:
    file: str
    slug: str
    subject: str = ""
    preheader: str = ""
    was_subject: str | None = None
    was_preheader: str | None = None
    problem: str = ""
    base_note: str = ""
    findings: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    approval: str = ""
    diff: str = ""


def _cell(text: str) -> str:
    """Text in a Markdown table cell: no markup of its own, one line."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|#!~])", r"\\\1", text) or "(none)"


def _fence(body: str, kind: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{kind}\n{body}{'' if body.endswith(chr(10)) else chr(10)}{ticks}"


READER = "reader@example.org"
"""The stand-in reader the plain text is shown for (no subscriber's details in a comment)."""


def for_reader(rendered: Rendered, settings: Settings) -> tuple[str, str]:
    """(html, text) as a reader with no name on the list gets them, with a stand-in unsubscribe token."""
    from newsletter.render.personalize import Greeting, recipient_values

    values = recipient_values(
        email=READER,
        unsubscribe_url=settings.unsubscribe_url.replace("{token}", "TOKEN"),
        fallback_first_name=settings.fallback_first_name,
        greeting=Greeting.of(settings),
    )
    return rendered.fill(values)


def _render_at(root: Path, ref: str, rel: str, work: Path) -> tuple[str | None, str, str, str]:
    """(text, subject, preheader, note) of ``rel`` as ``ref`` renders it."""
    if not changed.extract(root, ref, work):
        return None, "", "", "the base has no newsletter project"
    path = work / rel
    if not path.is_file():
        return None, "", "", "new in this pull request"
    try:
        project, _, rendered = open_issue(path)
    except NewsletterError as exc:
        return None, "", "", f"did not build at the base ({exc.format_message().splitlines()[0]})"
    return for_reader(rendered, project.settings)[1], rendered.subject, rendered.preheader, ""


def review_issue(root: Path, base: str, rel: str) -> tuple[IssueReview, str, str]:
    """One issue's review, and its built HTML and text (empty when it does not build)."""
    from newsletter.approval.policy import status
    from newsletter.checks import run_checks

    slug = Path(rel).stem
    found = IssueReview(rel, slug)
    try:
        project, issue_file, rendered = open_issue(root / rel)
    except NewsletterError as exc:
        found.problem = exc.format_message()
        return found, "", ""
    found.subject, found.preheader = rendered.subject, rendered.preheader
    for f in run_checks(project, issue_file, rendered):
        found.findings.append(f"{_SEVERITY[f.severity]} `{f.location()}` {_cell(f.message)} \\[{f.rule}\\]")
        found.errors += f.severity == "error"
        found.warnings += f.severity == "warning"
    found.approval = status(project, issue_file, rendered).text
    with tempfile.TemporaryDirectory(prefix="newsletter-base-") as tmp:
        before, subject, preheader, note = _render_at(root, base, rel, Path(tmp))
    found.base_note = note
    if before is not None:
        found.was_subject = subject if subject != found.subject else None
        found.was_preheader = preheader if preheader != found.preheader else None
    html, text = for_reader(rendered, project.settings)
    diff = difflib.unified_diff(
        (before or "").splitlines(keepends=True),
        text.splitlines(keepends=True),
        f"{rel} (plain text) at the base",
        f"{rel} (plain text) in this pull request",
        n=2,
    )
    found.diff = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
    return found, html, text


def _to_review(root: Path, base: str, head: str) -> list[str]:
    issues = changed.changed_issues(root, base, head)
    if issues or not changed.shared_changed(root, base, head):
        return issues
    newest = latest(root)
    return [newest.path.resolve().relative_to(root.resolve()).as_posix()] if newest is not None else []


def comment(reviews: list[IssueReview]) -> str:
    out = [MARKER, "## Newsletter review", ""]
    if not reviews:
        out += ["This pull request changes no issue, template or setting of the newsletter.", ""]
        return "\n".join(out)
    out += ["The built emails (HTML and plain text) are in this run's artifact **newsletter-review**.", ""]
    for r in reviews:
        out += [f"### `{r.file}`", ""]
        if r.problem:
            out += ["It does not build:", "", _fence(r.problem + "\n", "text"), ""]
            continue
        subject = _cell(r.subject) + (f" (was: {_cell(r.was_subject)})" if r.was_subject is not None else "")
        preheader = _cell(r.preheader) + (f" (was: {_cell(r.was_preheader)})" if r.was_preheader is not None else "")
        out += [
            "| | |",
            "| --- | --- |",
            f"| Subject | {subject} |",
            f"| Preheader | {preheader} |",
            f"| Check | {r.errors} error(s), {r.warnings} warning(s) |",
            f"| Approval | {_cell(r.approval)} |",
            "",
        ]
        if r.findings:
            out += ["<details><summary>Check findings</summary>", ""] + [f"- {f}" for f in r.findings]
            out += ["", "</details>", ""]
        what = f"the plain text, {r.base_note}" if r.base_note else "the plain text, changed since the base"
        if not r.diff:
            out += ["The plain text is the same as at the base.", ""]
            continue
        shown = r.diff
        if len(shown) > MAX_DIFF:
            shown = shown[:MAX_DIFF].rsplit("\n", 1)[0] + "\n… (cut: the whole diff is in the artifact)\n"
        out += [f"<details open><summary>{what.capitalize()}</summary>", "", _fence(shown, "diff"), "", "</details>", ""]
    return "\n".join(out)


def review(root: Path, base: str, head: str, out: Path) -> list[IssueReview]:
    """Write ``comment.md`` and each issue's built email into ``out``; the reviews."""
    _, head_commit = changed.commits(root, base, head)
    here = git(root, "rev-parse", "HEAD").out.strip()
    if here != head_commit:
        raise UsageError(f"the work tree is at {here[:12] or 'no commit'}, not at {head}: check out {head} first")
    Project.find(root)  # a project is here, or a clear error
    from newsletter.files import write_files

    reviews: list[IssueReview] = []
    files: dict[Path, bytes | str] = {}
    for rel in _to_review(root, base, head):
        found, html, text = review_issue(root, base, rel)
        reviews.append(found)
        if html:
            files[out / f"{found.slug}.html"] = html
            files[out / f"{found.slug}.txt"] = text
            files[out / f"{found.slug}.diff"] = found.diff
    files[out / COMMENT] = comment(reviews)
    write_files(files)
    return reviews


def shown(out: Path) -> str:
    return display_path(out / COMMENT)
