"""Files the project writes: whole or not at all, and with the right mode whatever the umask:
personal data (messages, reports, fix lists, caches, the journal) owner-only, build output as
the user's umask says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.files import create_file, write_files
from tests.conftest import EXAMPLE_ISSUE, REPO

SLUG = "2024-06-june-team-update"


def cli(project: Path, umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=project,
        env=env,
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        preexec_fn=lambda: os.umask(umask),
    )


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
def test_personal_files_are_owner_only_and_build_output_follows_the_umask(project: Path, umask: int) -> None:
    assert cli(project, umask, "build", EXAMPLE_ISSUE).returncode == 0
    assert mode(project / "build" / f"{SLUG}.html") == 0o666 & ~umask
    assert mode(project / "build" / f"{SLUG}.txt") == 0o666 & ~umask
    dry = cli(project, umask, "send", EXAMPLE_ISSUE, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    samples = project / "build" / "dry-run" / SLUG
    for path in samples.iterdir():
        assert mode(path) == 0o600, path
    sent = cli(project, umask, "send", EXAMPLE_ISSUE, "--yes")
    assert sent.returncode == 0, sent.stderr
    personal = [
        *(project / "outbox" / SLUG).glob("*.eml"),
        project / ".newsletter" / "journal.sqlite3",
        project / ".newsletter" / "secret",
        *(project / ".newsletter" / "cache").glob("*.json"),
        *(project / ".newsletter" / "outcomes").glob("*.log"),
    ]
    assert cli(project, umask, "report", EXAMPLE_ISSUE).returncode == 0
    assert cli(project, umask, "subscribers", "check", "--report", "fix.csv").returncode in (0, 1)
    personal += [project / "unsent.csv", project / "fix.csv"]
    assert len(personal) >= 10
    for path in personal:
        assert mode(path) == 0o600, path


def test_writing_is_all_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    good, bad = target / "a.txt", target / "missing-folder-is-fine" / "b.txt"
    write_files({good: "a", bad: "b"})
    assert good.read_text() == "a" and bad.read_text() == "b"
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(OSError):
        write_files({target / "c.txt": "c", tmp_path / "blocker" / "d.txt": "d"})
    assert not (target / "c.txt").exists()
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == []  # no temporary left
    assert create_file(good, "other") is False and good.read_text() == "a"
    assert create_file(target / "new.txt", "n", personal=True) and mode(target / "new.txt") == 0o600


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_the_web_edition_follows_the_umask(project: Path, umask: int) -> None:
    """Its files are created with the mode the umask gives (the kernel applies it: no file
    of the site is made owner-only and widened afterwards, nor the other way round)."""
    done = cli(project, umask, "publish")
    assert done.returncode == 0, done.stderr
    made = [p for p in (project / "site").rglob("*") if p.is_file()]
    assert len(made) >= 5
    assert {mode(p) for p in made} == {0o666 & ~umask}
