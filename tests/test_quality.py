"""The quality gates of ``make check`` (run by ``make test`` and ``make test-fast`` before
their tests): ruff (lint, import order, formatting) and mypy --strict pass on the code base
with the stub packages the [test] extras declare, and the layers contract holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")  # installed by the [test] extra
GATES = {
    "ruff": [sys.executable, "-m", "ruff", "check", "."],
    "ruff-format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "mypy": [sys.executable, "-m", "mypy", "--strict"],
    "layers": [LINT_IMPORTS],
}


@pytest.mark.parametrize("gate", list(GATES))
def test_gate_passes(gate: str) -> None:
    proc = subprocess.run(GATES[gate], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _dry_run(target: str) -> list[str]:
    proc = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def _first(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def test_make_check_runs_every_gate() -> None:
    lines = _dry_run("check")
    for text in ("-m ruff check .", "-m ruff format --check .", "-m mypy --strict", "lint-imports"):
        _first(lines, text)
    assert not any("pytest" in line for line in lines)  # the gate alone: no tests


def test_make_test_runs_the_gates_before_the_suite() -> None:
    lines = _dry_run("test")
    pytest_run = next(i for i, line in enumerate(lines) if line.rstrip().endswith("-m pytest"))
    assert all(_first(lines, text) < pytest_run for text in ("-m ruff check", "-m mypy --strict", "lint-imports"))


def test_make_test_fast_runs_the_gates_then_all_but_the_slow_tests() -> None:
    lines = _dry_run("test-fast")
    pytest_run = _first(lines, '-m pytest -m "not slow"')
    assert all(_first(lines, text) < pytest_run for text in ("-m ruff check", "-m mypy --strict", "lint-imports"))


def test_gate_tools_are_pinned_and_stub_packages_declared() -> None:
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    names = {e.split(">")[0].split("<")[0].split("=")[0].strip(): e for e in extras}
    assert {"ruff", "mypy", "import-linter", "types-PyYAML", "types-requests", "lxml-stubs"} <= names.keys()
    for tool in ("ruff", "mypy", "import-linter"):  # a new release cannot turn the gate red
        assert "==" in names[tool], names[tool]
