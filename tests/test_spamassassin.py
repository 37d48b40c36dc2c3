"""SpamAssassin (Debian's package, local rules only: ``spamassassin -L -t``) on the worked
example's message exactly as the dry run writes it: no rule may add points because of
the project's own markup (hidden preheader, colours, headers). Rules about how the
message travelled (no Received header: it was never relayed) score nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = [
    pytest.mark.skipif(SPAMASSASSIN is None, reason="SpamAssassin is not installed (make spamassassin installs Debian's)"),
    pytest.mark.slow,
]
RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s", re.MULTILINE)


def _report(message: Path, home: Path) -> tuple[float, dict[str, float]]:
    proc = subprocess.run(
        [SPAMASSASSIN or "spamassassin", "-L", "-t"],
        input=message.read_bytes(),
        capture_output=True,
        timeout=300,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    out = proc.stdout.decode("utf-8", "replace")
    head = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", out, re.MULTILINE)
    assert head is not None, out[-2000:] + proc.stderr.decode("utf-8", "replace")[-2000:]
    details = out.split("Content analysis details:", 1)[1]
    return float(head.group(1)), {name: float(points) for points, name in RULE.findall(details)}


def test_example_message_scores_no_points(project: Path, tmp_path: Path) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--dry-run", cwd=project)
    assert result.code == 0, result.output
    message = next((project / "build" / "dry-run").rglob("sample-1.eml"))
    score, rules = _report(message, tmp_path)
    assert rules, "SpamAssassin's report lists the rules it ran into"
    assert "HTML_FONT_LOW_CONTRAST" not in rules  # the preheader is hidden without a colour
    assert {name: points for name, points in rules.items() if points > 0} == {}
    assert score <= 0


@pytest.mark.parametrize("address", ["farah.haddad@example.org", "amina.okafor@example.org"])
def test_readers_with_and_without_a_name_score_no_points(project: Path, tmp_path: Path, address: str) -> None:
    """Farah has no first name in the example list: her greeting must not be one that
    SpamAssassin scores ("Dear friend" is DEAR_FRIEND, 2.7 points)."""
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project)
    assert result.code == 0, result.output
    [message] = [p for p in (project / "outbox").rglob("*.eml") if address.encode() in p.read_bytes().split(b"\r\n\r\n")[0]]
    score, rules = _report(message, tmp_path)
    assert rules, "SpamAssassin's report lists the rules it ran into"
    assert {name: points for name, points in rules.items() if points > 0} == {}
    assert score <= 0
