"""Shared fixtures: a throwaway copy of the example project and a CLI runner.

The CLI is always run as a real subprocess (``python -m newsletter``) against the
code of this checkout, so exit codes, stderr and "no traceback" are observed as a
user would see them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.sendgrid_server import SendGridServer

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
EXAMPLE_ISSUE = "issues/2024-06-june-team-update.yaml"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


_EMPTY_DNS: list[str] = []


def _empty_dns() -> str:
    """A DNS server on 127.0.0.1 that knows no names (every name NXDOMAIN): what the
    send's domain check and other look-ups reach unless a test serves a zone."""
    if not _EMPTY_DNS:
        from tests.dns_server import DnsServer

        _EMPTY_DNS.append(DnsServer().address)
    return _EMPTY_DNS[0]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    full_env["PYTHONPATH"] = str(REPO)
    full_env["COLUMNS"] = "200"
    full_env["NO_COLOR"] = "1"
    full_env["NEWSLETTER_DNS_SERVER"] = _empty_dns()  # no DNS query leaves this machine
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(autouse=True, scope="session")
def _loopback_dns() -> Iterator[None]:
    """In-process look-ups (check --online's domain rules) also stay on this machine."""
    saved = os.environ.get("NEWSLETTER_DNS_SERVER")
    os.environ["NEWSLETTER_DNS_SERVER"] = _empty_dns()
    yield
    if saved is None:
        os.environ.pop("NEWSLETTER_DNS_SERVER", None)
    else:
        os.environ["NEWSLETTER_DNS_SERVER"] = saved


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project (settings, issues, subscribers) in a temporary folder."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    shutil.copy(REPO / "subscribers.csv", root / "subscribers.csv")
    shutil.copytree(REPO / "issues", root / "issues", ignore=shutil.ignore_patterns("examples"))  # issues only
    return root


class Cli(Protocol):
    """What the ``cli`` fixture gives: :func:`run_cli`."""

    def __call__(self, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult: ...


@pytest.fixture
def cli() -> Cli:
    return run_cli


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridServer]:
    """A SendGrid-compatible API on 127.0.0.1 validating every request (tests/sendgrid_server.py)."""
    from tests.sendgrid_server import SendGridServer

    with SendGridServer() as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright, one for the whole run (Playwright's sync API
    cannot be started twice at once, so every browser test shares this one)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    sync_api = pytest.importorskip("playwright.sync_api")
    manager = sync_api.sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        manager.stop()
