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


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for relative in EXAMPLES:
        slug, html, text = render_example(relative)
        (GOLDEN / f"{slug}.html").write_text(html, encoding="utf-8")
        (GOLDEN / f"{slug}.txt").write_text(text, encoding="utf-8")
        print(f"wrote tests/golden/{slug}.html and .txt")


if __name__ == "__main__":
    main()
