"""The crash drill shared by the test suite and bench/send.py: SIGKILL the sender at random
moments, restart it, and check that nobody got the issue twice and nobody was skipped."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.sendgrid_server import KEY, SendGridServer

REPO = Path(__file__).resolve().parent.parent
ISSUE = "issues/2024-06-june-team-update.yaml"


def write_list(path: Path, eligible: int, suppressed: int) -> tuple[list[str], list[str]]:
    """A subscriber list: ``eligible`` subscribed addresses and ``suppressed`` others."""
    good: list[str] = []
    bad: list[str] = []
    statuses = ("unsubscribed", "bounced", "complained")
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status", "tags"])
        for i in range(eligible + suppressed):
            if i % max(1, (eligible + suppressed) // max(1, suppressed)) == 1 and len(bad) < suppressed:
                email = f"gone{i:07d}@example.net"
                w.writerow([email, f"Gone{i}", "X", statuses[i % 3], "community"])
                bad.append(email)
            else:
                email = f"reader{i:07d}@example.org"
                w.writerow([email, f"Reader{i}", "Y", "subscribed", "community"])
                good.append(email)
    return good, bad


@dataclass
class Drill:
    root: Path
    server: SendGridServer
    seed: int
    kills: int = 0
    finished_sends: int = 0
    in_flight_at_kills: list[set[str]] = field(default_factory=list)
    stopped_for_unknown: int = 0
    log: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
        env.update(PYTHONPATH=str(REPO), SENDGRID_API_KEY=KEY, SENDGRID_API_HOST=self.server.url,
                   NO_COLOR="1", COLUMNS="200")
        return env

    def command(self, issue: str, *extra: str) -> list[str]:
        # --no-sync: the drill is about the send journal; the sync's own kill -9 test is in
        # tests/test_feedback_sync_errors.py (and its requests would shift the kill window)
        return [sys.executable, "-m", "newsletter", "send", issue, "--yes", "--provider", "sendgrid",
                "--list", "list.csv", "--no-sync", *extra]

    def in_flight(self) -> tuple[set[str], set[int]]:
        path = self.root / ".newsletter" / "journal.sqlite3"
        if not path.exists():
            return set(), set()
        db = sqlite3.connect(path)
        try:
            rows = db.execute("SELECT email, batch FROM recipients WHERE state = 'in_flight'").fetchall()
        finally:
            db.close()
        return {r[0] for r in rows}, {r[1] for r in rows}

    def run_once(self, issue: str, rng: random.Random, kill_window: tuple[float, float]) -> int | None:
        """One run, killed after a random delay; returns its exit code, or None if killed."""
        proc = subprocess.Popen(self.command(issue, "--mark-unknown-sent"), cwd=self.root, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        delay = rng.uniform(*kill_window)
        try:
            code = proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            self.kills += 1
            emails, batches = self.in_flight()
            assert len(batches) <= 1, f"rows of several batches in flight at one kill: {batches}"
            self.in_flight_at_kills.append(emails)
            return None
        out, err = proc.communicate()
        self.log.append(err.decode())
        assert code in (0, 1), err.decode()
        return code

    def check_unknown_stop(self, issue: str) -> None:
        """Without a decision, a run after a crash mid-request stops and lists the addresses."""
        emails, _ = self.in_flight()
        if not emails:
            return
        proc = subprocess.run(self.command(issue), cwd=self.root, env=self.env(), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert "--mark-unknown-sent" in proc.stderr and sorted(emails)[0] in proc.stderr
        self.stopped_for_unknown += 1


def run_drill(root: Path, server: SendGridServer, *, kills: int, eligible: int, suppressed: int,
              seed: int, kill_window: tuple[float, float]) -> Drill:
    good, bad = write_list(root / "list.csv", eligible, suppressed)
    drill = Drill(root, server, seed)
    rng = random.Random(seed)
    send_no = 0
    while drill.kills < kills:
        send_no += 1
        issue = ISSUE if send_no == 1 else ISSUE.replace(".yaml", f"-{send_no}.yaml")
        if send_no > 1:
            shutil.copy(root / ISSUE, root / issue)
        slug = Path(issue).stem
        while True:
            before = drill.kills
            code = drill.run_once(issue, rng, kill_window)
            if code == 0:
                break
            if drill.kills > before and drill.stopped_for_unknown < 2:
                drill.check_unknown_stop(issue)
        drill.finished_sends += 1
        verify(root, server, slug, good, bad, drill)
    return drill


def verify(root: Path, server: SendGridServer, slug: str, good: list[str], bad: list[str], drill: Drill) -> None:
    """Every eligible address accepted exactly once, except reported unknowns (at most once)."""
    counts: Counter[str] = Counter()
    for body in server.log.requests:
        if body["categories"][0] == slug:
            counts.update(t["email"] for p in body["personalizations"] for t in p["to"])
    db = sqlite3.connect(root / ".newsletter" / "journal.sqlite3")
    try:
        send_id = db.execute("SELECT id FROM sends WHERE key = ?", (slug,)).fetchone()[0]
        states = dict(db.execute("SELECT state, count(*) FROM recipients WHERE send_id = ? GROUP BY state",
                                 (send_id,)).fetchall())
        unknown = {r[0] for r in db.execute(
            "SELECT email FROM recipients WHERE send_id = ? AND reason LIKE 'marked sent%'", (send_id,))}
    finally:
        db.close()
    assert states == {"accepted": len(good)}, states
    assert max(counts.values()) == 1, "someone got the issue twice"
    assert not set(bad) & set(counts), "a suppressed address was in a request"
    missing = set(good) - set(counts)
    assert missing <= unknown, "someone was skipped without being reported unknown"
    reported = set().union(*drill.in_flight_at_kills) if drill.in_flight_at_kills else set()
    assert unknown <= reported, "an unknown address was not in flight at any kill"
    assert set(counts) <= set(good)
