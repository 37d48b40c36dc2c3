"""Lighthouse's accessibility and SEO scores of the web edition are 100: an issue's page
(with a subscribe link and a correction note), the index, in light and in dark mode, and
an issue whose events come right under its title (the winter issue of tests/test_publish.py).

Lighthouse is pinned in ``tests/lighthouse/package-lock.json``; ``make test`` installs it
with ``npm ci`` (``make lighthouse``). It drives Debian's Chromium, with the flags every
browser test uses here (nothing resolves but 127.0.0.1), against the site served over
HTTP by a thread of this test: the SEO audits (the status code, crawlability by
robots meta tag and header, robots.txt) are about a page served over HTTP, not a file.
The test is skipped only where Node is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, EXAMPLE_ISSUE, REPO, run_cli
from tests.test_publish import EXAMPLE_SLUG, NOW, WINTER, WINTER_SLUG

pytestmark = pytest.mark.slow  # Lighthouse in Chromium

LIGHTHOUSE = REPO / "tests" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("accessibility", "seo")
# Audits that must have been applied (and passed) on every page: a score of 100 from a
# page that Lighthouse could not read would say nothing.
APPLIED = {
    "color-contrast",
    "document-title",
    "html-has-lang",
    "html-lang-valid",
    "meta-viewport",
    "link-name",
    "image-alt",
    "heading-order",
    "meta-description",
    "http-status-code",
    "is-crawlable",
    "link-text",
    "crawlable-anchors",
    "canonical",
}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on 127.0.0.1 (a thread of this test): its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(project: Path) -> Iterator[str]:
    """The example's site (and the winter issue) with a subscribe link and a corrected event,
    served on 127.0.0.1."""
    (project / "issues" / f"{WINTER_SLUG}.yaml").write_text(WINTER, encoding="utf-8")
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "subscribe_url: https://www.coproductioncollective.co.uk/join\n", encoding="utf-8"
    )
    env = {"SOURCE_DATE_EPOCH": str(NOW)}
    published = run_cli("publish", cwd=project, env=env)
    assert published.code == 0, published.output
    issue = project / EXAMPLE_ISSUE
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("start: 2024-08-06 15:00", "start: 2024-08-06 16:00"), encoding="utf-8"
    )
    corrected = run_cli("correct", EXAMPLE_ISSUE, cwd=project, env=env)
    assert corrected.code == 0, corrected.output
    with serve(project / "site") as address:
        yield address


def _chrome_flag(flag: str) -> str:
    """One ``--chrome-flags`` value: Lighthouse splits them at spaces unless a value is quoted."""
    name, _, value = flag.partition("=")
    return f'--chrome-flags={name}="{value}"' if " " in value else f"--chrome-flags={flag}"


def lighthouse(url: str, *, dark: bool = False) -> dict[str, Any]:
    """Lighthouse's report (its JSON) on ``url``: accessibility and SEO only."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: Lighthouse runs on Node (make test installs Lighthouse where Node is)")
    assert LIGHTHOUSE.is_file(), "Lighthouse is not installed: run `make lighthouse` (npm ci in tests/lighthouse)"
    assert CHROMIUM.exists(), "Debian's chromium is not installed: run `make browser`"
    flags = [*CHROMIUM_ARGS, *(["--force-dark-mode"] if dark else [])]  # prefers-color-scheme: dark
    proc = subprocess.run(
        [
            node,
            str(LIGHTHOUSE),
            url,
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            "--max-wait-for-load=60000",
            *map(_chrome_flag, flags),
        ],
        env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report: dict[str, Any] = json.loads(proc.stdout)
    assert report.get("runtimeError") is None, report["runtimeError"]
    assert report["finalDisplayedUrl"] == url
    return report


def failing(report: dict[str, Any]) -> list[str]:
    """Each audit that lost points, with the elements it names."""
    out = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if audit["scoreDisplayMode"] in ("binary", "numeric") and audit["score"] is not None and audit["score"] < 1:
                items = (audit.get("details") or {}).get("items") or []
                nodes = [str((item.get("node") or {}).get("snippet", item))[:160] for item in items[:5]]
                out.append(f"{category}: {ref['id']} ({audit['title']}): {nodes}")
    return out


def applied(report: dict[str, Any]) -> set[str]:
    return {name for name, audit in report["audits"].items() if audit["scoreDisplayMode"] == "binary"}


@pytest.mark.parametrize(
    ("name", "dark"),
    [
        (f"{EXAMPLE_SLUG}.html", False),
        (f"{EXAMPLE_SLUG}.html", True),
        (f"{WINTER_SLUG}.html", False),
        ("index.html", False),
        ("index.html", True),
    ],
    ids=["issue-light", "issue-dark", "winter-light", "index-light", "index-dark"],
)
def test_lighthouse_accessibility_and_seo_are_100(served: str, name: str, dark: bool) -> None:
    report = lighthouse(served + name, dark=dark)
    scores = {category: report["categories"][category]["score"] for category in CATEGORIES}
    assert scores == {"accessibility": 1, "seo": 1}, failing(report)
    assert failing(report) == []
    assert APPLIED <= applied(report), sorted(APPLIED - applied(report))


def test_lighthouse_reads_the_page_in_dark_mode(project: Path) -> None:
    """The dark runs above are really dark: dark colours too faint for their background,
    which light mode never shows, cost the index its contrast."""
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + 'dark_colours:\n  muted: "#333333"\n', encoding="utf-8")
    assert run_cli("publish", cwd=project, env={"SOURCE_DATE_EPOCH": str(NOW)}).code == 0
    with serve(project / "site") as address:
        report = lighthouse(address + "index.html", dark=True)
    assert report["audits"]["color-contrast"]["score"] == 0
    assert report["categories"]["accessibility"]["score"] < 1
