"""Messages for mistakes and hostile input that say what is wrong, where, and what to write.

Each row is an issue file (or a list) with a mistake, run through the real command line:
the message must lead with the useful words, at the file's line and field, with exit
code 2 and no traceback; ``absent`` holds words the message must no longer show (the
unhelpful lead it had, or the consequences of one mistake reported as more mistakes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli

HEAD = "title: June update\nsubject: News from June\ndate: 2024-06-14\nblocks:\n"


@dataclass(frozen=True)
class Mistake:
    text: str
    """The issue file."""
    first: str
    """The first problem line (after ``issues/bad.yaml:``), or its start."""
    count: int = 1
    """How many problems are reported."""
    absent: tuple[str, ...] = ()


MISTAKES: dict[str, Mistake] = {
    "an image with no alt key": Mistake(
        HEAD + "  - type: image\n    src: https://a.org/x.png\n",
        '5:5: block 1 (image), alt: field required: the image has no alt text (add alt: "what the image shows", '
        'for readers who cannot see it; if it adds nothing, write alt: "" and decorative: true)',
    ),
    "a hero with no alt key": Mistake(
        HEAD.replace("blocks:", "hero:\n  src: https://a.org/h.png\nblocks:") + "  - type: divider\n",
        "5:3: hero.alt: field required: the image has no alt text (add alt:",
    ),
    "'- ' forgotten between two blocks of different kinds": Mistake(
        HEAD + "  - type: image\n    src: https://a.org/x.png\n    alt: A photo\n\n    type: text\n    text: Hello\n",
        "9:5: block 1 (text), type: duplicate key (first given on line 5; keep one, or start a new item with '- '",
        absent=("unknown key",),
    ),
    "'- ' forgotten between two links": Mistake(
        HEAD + "  - type: links\n    items:\n      - title: A\n        url: https://a.org/\n"
        "        summary: One\n        title: B\n        url: https://b.org/\n",
        "10:9: block 1 (links), item 1, title: duplicate key (first given on line 7",
        count=2,
    ),
    "a month 13": Mistake(
        HEAD.replace("2024-06-14", "2024-13-01") + "  - type: divider\n",
        "3:7: date: '2024-13-01' is not a date: write it as YYYY-MM-DD, e.g. 2024-06-14 (the month must be 1 to 12)",
        absent=("input should be",),
    ),
    "a date written in words": Mistake(
        HEAD.replace("2024-06-14", "14 June 2024") + "  - type: divider\n",
        "3:7: date: '14 June 2024' is not a date: write it as YYYY-MM-DD, e.g. 2024-06-14",
        absent=("input should be", "invalid character"),
    ),
    "an event at 25 o'clock": Mistake(
        HEAD + "  - type: events\n    items:\n      - title: Cuppa\n        start: 2024-07-01 25:00\n",
        "8:16: block 1 (events), item 1, start: '2024-07-01 25:00' is not a date and time: write it as "
        "YYYY-MM-DD HH:MM, e.g. 2024-07-01 12:00",
        absent=("input should be", "unexpected extra characters"),
    ),
    "a bell in the title": Mistake(
        HEAD.replace("title: June update", 'title: "June\\a update"') + "  - type: divider\n",
        "1:8: title: control character U+0007 (\\x07) in the text, at character 5: delete it",
        absent=("MJML",),
    ),
    "an escape sequence in a block's text": Mistake(
        HEAD + '  - type: text\n    text: "Hello \\e[31mred"\n',
        "6:11: block 1 (text), text: control character U+001B (\\x1b) in the text, at character 7",
        absent=("MJML",),
    ),
    "a bell in an image's alt text": Mistake(
        HEAD + '  - type: image\n    src: https://a.org/x.png\n    alt: "A\\x07 photo"\n',
        "7:10: block 1 (image), alt: control character U+0007",
    ),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_gets_a_useful_first_line(name: str, project: Path) -> None:
    mistake = MISTAKES[name]
    (project / "issues" / "bad.yaml").write_text(mistake.text, encoding="utf-8")
    result = run_cli("build", "issues/bad.yaml", cwd=project)
    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line.strip() for line in result.err.splitlines() if line.startswith("  issues/")]
    assert lines and lines[0].startswith("issues/bad.yaml:" + mistake.first), result.err
    assert len(lines) == mistake.count, result.err
    for text in mistake.absent:
        assert text not in result.output, result.output
    assert not (project / "build").exists()


def test_tabs_and_line_breaks_stay_allowed_in_text(project: Path) -> None:
    (project / "issues" / "ok.yaml").write_text(HEAD + '  - type: text\n    text: "a\\tb\\n\\nc"\n', encoding="utf-8")
    result = run_cli("build", "issues/ok.yaml", cwd=project)
    assert result.code == 0, result.output


# --- the subscriber list: a value over the csv module's limit ---------------------------------


def test_a_long_value_is_said_to_be_too_long_not_badly_quoted(project: Path) -> None:
    """A 1 MB name on line 9: its line and the limit, and no word about quoting."""
    rows = (project / "subscribers.csv").read_text(encoding="utf-8")
    (project / "subscribers.csv").write_text(
        rows + 'big@example.org,"' + "a" * 1_000_000 + '",,subscribed,,,\n', encoding="utf-8"
    )
    result = run_cli("subscribers", "check", cwd=project)
    assert result.code == 1, result.output
    assert "subscribers.csv:9: a value on this line is longer than the limit of 131,072 characters" in result.output
    assert "quot" not in result.output, result.output


def test_an_unclosed_quote_that_runs_past_the_limit_is_blamed_on_the_quote(project: Path, tmp_path: Path) -> None:
    """A quote left open on line 2 swallows the rows after it until the limit: the quote is blamed."""
    rows = "".join(f"person{i}@example.org,Person{i}\n" for i in range(6000))
    (tmp_path / "new.csv").write_text('email,first_name\nann@example.org,"Ann\n' + rows, encoding="utf-8")
    before = (project / "subscribers.csv").read_bytes()
    result = run_cli("subscribers", "import", str(tmp_path / "new.csv"), cwd=project)
    assert result.code == 2, result.output
    assert re.search(
        r"new\.csv:2: a quoted value starting on this line runs on over [\d,]+ more lines, past the "
        r"limit of 131,072 characters: its closing quote is probably missing",
        result.output,
    ), result.output
    assert (project / "subscribers.csv").read_bytes() == before


# --- the command line ---------------------------------------------------------------------------


def _first_sentence(help_text: str) -> str:
    first = help_text.split("\n\n", 1)[0]
    return " ".join(first.split()).split(". ")[0].rstrip(".")


@pytest.mark.parametrize("group", [(), ("subscribers",), ("ci",)])
def test_help_lists_every_commands_description_whole(group: tuple[str, ...]) -> None:
    """At 80 columns, each command's first sentence is shown whole (wrapped), never cut with '...'."""
    from newsletter.cli import cli

    command: click.Command = cli
    for name in group:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert isinstance(command, click.Group)
    result = run_cli(*group, "--help", cwd=REPO, env={"COLUMNS": "80"})
    assert result.code == 0, result.output
    listing = result.out.split("Commands:", 1)[1]
    rows: dict[str, str] = {}
    current = ""
    for line in listing.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            current, _, words = line.strip().partition(" ")
            rows[current] = words.strip()
        elif line.strip():
            rows[current] += " " + line.strip()
    assert set(rows) == {n for n, c in command.commands.items() if not c.hidden}
    for name, sub in command.commands.items():
        assert not rows[name].endswith("..."), (name, rows[name])
        wrapped = rows[name].replace("- ", "-")  # the help formatter may break a line after a hyphen
        assert _first_sentence(sub.help or "").replace("- ", "-") in wrapped, (name, rows[name])


# --- build and check -------------------------------------------------------------------------


def test_build_says_what_it_checked_and_points_to_check(project: Path) -> None:
    """``check`` finds warnings in the example; ``build`` never says "no warnings" about it."""
    checked = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert "warning" in checked.out, checked.output
    built = run_cli("build", EXAMPLE_ISSUE, cwd=project)
    assert built.code == 0, built.output
    assert "no warnings" not in built.out, built.out
    assert "rendering: size, preheader and unsubscribe link fine" in built.out
    assert f"run `newsletter check {EXAMPLE_ISSUE}` before sending" in built.out
