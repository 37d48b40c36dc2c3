"""The Makefile's set-up runs the installer only when pyproject.toml changed (issue 15):
a second ``make run`` starts in seconds. Observed with real ``make`` on a copy of the
Makefile whose environment's ``python`` only records how it was called."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_never_mails_anyone_whatever_the_environment_holds(tmp_path: Path) -> None:
    """``make run`` with a SendGrid key and host (and an SMTP_URL) in the environment: only
    outbox files, and the SendGrid server on loopback sees nothing at all."""
    from tests.sendgrid_server import KEY, SendGridServer

    for name in ("Makefile", "pyproject.toml", "newsletter.yaml", "subscribers.csv"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "issues", tmp_path / "issues")
    (tmp_path / "newsletter").symlink_to(REPO / "newsletter")  # what `make setup` byte-compiles
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    installed = Path(sys.executable).parent  # the environment running the tests, with the package installed
    for tool in ("python", "newsletter"):
        (venv / tool).symlink_to(installed / tool)
    for part in ("pyvenv.cfg", "lib"):  # its libraries too: `make setup` compiles the templates with them
        (tmp_path / ".venv" / part).symlink_to(installed.parent / part)
    (tmp_path / ".venv" / ".installed").touch()  # installed: make runs no pip
    with SendGridServer() as server:
        env = {
            **os.environ,
            "SENDGRID_API_KEY": KEY,
            "SENDGRID_API_HOST": server.url,
            "SMTP_URL": "smtp://127.0.0.1:9",
            "PYTHONPATH": str(REPO),
        }
        proc = subprocess.run(["make", "-s", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert server.log.times == [] and server.account.calls == [] and server.log.connections == 0
    written = sorted(p.name for p in (tmp_path / "outbox" / "2024-06-june-team-update").iterdir())
    assert len(written) == 5 and all(name.endswith(".eml") for name in written)
    assert "No email was sent: 5 message(s) written to outbox/2024-06-june-team-update/" in proc.stdout
    assert "to send for real: newsletter send issues/2024-06-june-team-update.yaml --provider sendgrid" in proc.stdout
    assert not (tmp_path / "sends").exists()
