"""Crash safety: the sender is SIGKILLed at random moments at least 20 times and restarted."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.crash import run_drill
from tests.sendgrid_server import SendGridServer


def test_killed_twenty_times_nobody_twice_nobody_skipped(project: Path) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  batch_size: 500\n")
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    with SendGridServer(delay=0.1) as server:
        try:
            drill = run_drill(project, server, kills=20, eligible=5000, suppressed=250, seed=seed,
                              kill_window=(0.55, 1.0))
        except AssertionError as exc:
            raise AssertionError(f"{exc} (replay with CRASH_SEED={seed})") from exc
    assert drill.kills >= 20, f"seed {seed}"
    assert drill.finished_sends >= 1
    assert server.log.invalid == []
    assert any(drill.in_flight_at_kills), f"no kill landed mid-request (seed {seed})"
