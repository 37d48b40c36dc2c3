"""The Makefile's set-up runs the installer only when pyproject.toml changed (issue 15):
a second ``make run`` starts in seconds. Observed with real ``make`` on a copy of the
Makefile whose environment's ``python`` only records how it was called."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../calls.log"
"""


def _make(folder: Path, target: str) -> list[str]:
    """Run ``make target`` in ``folder``; the calls the environment's python received."""
    log = folder / ".venv" / "calls.log"
    log.unlink(missing_ok=True)
    subprocess.run(["make", "-s", target], cwd=folder, check=True, capture_output=True, timeout=60)
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_setup_installs_only_when_pyproject_changes(tmp_path: Path) -> None:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)

    first = _make(tmp_path, "setup")
    assert any(call.startswith("-m pip install") for call in first), first
    second = _make(tmp_path, "setup")
    assert not any("pip" in call for call in second), second

    stamp = tmp_path / ".venv" / ".installed"
    later = stamp.stat().st_mtime + 10
    os.utime(tmp_path / "pyproject.toml", (later, later))
    third = _make(tmp_path, "setup")
    assert any(call.startswith("-m pip install") for call in third), third
