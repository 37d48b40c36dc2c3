"""The quality gates of ``make test`` (issue 15, point 9): ruff and mypy --strict pass on
the code base, with the stub packages the [test] extras declare."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize("gate", [["ruff", "check", "."], ["mypy", "--strict"]], ids=["ruff", "mypy"])
def test_gate_passes(gate: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", *gate], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_make_test_runs_the_gates_before_the_suite() -> None:
    proc = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    ruff = next(i for i, line in enumerate(lines) if "-m ruff check" in line)
    mypy = next(i for i, line in enumerate(lines) if "-m mypy --strict" in line)
    pytest_run = next(i for i, line in enumerate(lines) if line.rstrip().endswith("-m pytest"))
    assert ruff < pytest_run and mypy < pytest_run


def test_stub_packages_are_declared() -> None:
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    names = {e.split(">")[0].split("<")[0].split("=")[0].strip() for e in extras}
    assert {"ruff", "mypy", "types-PyYAML", "types-requests", "lxml-stubs"} <= names
