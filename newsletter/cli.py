"""The command line: options and help text only; each command calls one function.

Command modules are imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from newsletter import __version__

ISSUE = click.argument(
    "issue_path",
    metavar="ISSUE.yaml",
    type=click.Path(path_type=Path, dir_okay=False),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
def cli() -> None:
    """Write a monthly email update as YAML; preview, check and send it safely."""


@cli.command()
@ISSUE
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("build"),
    show_default=True,
    help="Folder to write <slug>.html and <slug>.txt into.",
)
def build(issue_path: Path, out_dir: Path) -> None:
    """Render ISSUE.yaml to HTML and plain text."""
    from newsletter.commands import build as command
    from newsletter.report import print_build_summary

    result = command.build(issue_path, out_dir)
    print_build_summary(result)


def main() -> None:
    # pydantic scans every installed package's metadata for plugins on first use; a
    # command-line tool has none to load, and the scan costs a noticeable part of start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    cli(prog_name="newsletter")
