"""Golden files for the worked example: ``python -m tests.golden`` (or ``make golden``)
regenerates them; ``tests/test_golden.py`` compares fresh renders against them."""

from __future__ import annotations

from pathlib import Path

from newsletter.project import open_issue

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = ["issues/2024-06-june-team-update.yaml"]


def render_example(relative: str) -> tuple[str, str, str]:
    """(slug, html, text) of an example issue, rendered from the repository's project."""
    _, issue_file, rendered = open_issue(REPO / relative)
    return issue_file.slug, rendered.html, rendered.text


REVIEW_GOLDEN = GOLDEN / "review-comment.md"


def review_example(work: Path) -> str:
    """The pull request comment of a fixed pair of commits: the example issue, then the same
    with its subject and one word of its intro changed (``newsletter ci review BASE HEAD``)."""
    import os
    import shutil
    import subprocess
    import sys

    project = work / "project"
    project.mkdir()
    for name in ("newsletter.yaml", "subscribers.csv"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(REPO / "issues", project / "issues")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.email=editor@example.org", "-c", "user.name=Editor", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "June")
    base = git("rev-parse", "HEAD")
    issue = project / EXAMPLES[0]
    text = issue.read_text(encoding="utf-8")
    text = text.replace("busy month", "quiet month").replace('subject: "June Team Update', 'subject: "Our June Update', 1)
    issue.write_text(text, encoding="utf-8")
    git("commit", "-qam", "June: subject and intro")
    head = git("rev-parse", "HEAD")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "ci", "review", base, head, "--out", str(work / "out")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr)
    return (work / "out" / "comment.md").read_text(encoding="utf-8")


def main() -> None:
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        REVIEW_GOLDEN.write_text(review_example(Path(tmp)), encoding="utf-8")
        print("wrote tests/golden/review-comment.md")
    for relative in EXAMPLES:
        slug, html, text = render_example(relative)
        (GOLDEN / f"{slug}.html").write_text(html, encoding="utf-8")
        (GOLDEN / f"{slug}.txt").write_text(text, encoding="utf-8")
        print(f"wrote tests/golden/{slug}.html and .txt")


if __name__ == "__main__":
    main()
