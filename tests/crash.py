"""The crash drill shared by the test suite and bench/send.py.

``newsletter send`` is killed with SIGKILL at random moments, each chosen from what the
journal and the outcome log show (never from a clock): before any request, right after
a request has started, or after some number of recipients were accepted. Each time the
same command runs again, with no flag.

* ``kill="sender"``: only the sender dies; its request process finishes and records the
  request it was posting. The goal: nobody twice, nobody missing, and no run ever stops
  to ask the editor about ``unknown`` recipients.
* ``kill="group"`` (a power cut): the request process dies too. A request that had
  started may have been delivered: its rows become ``unknown``, and the next run asks
  SendGrid's Email Logs (the test server's, which log what it really accepted): a request
  SendGrid processed is accepted, one it never saw is sent again. With the project's
  ``log_delay`` at 0 (the test server's log is never behind: a search waits for every
  mail send that has begun to arrive), no run may stop to ask; with the log out of reach
  (``log_delay`` left at its default, or no log at all) the run asks, and the drill
  resolves it the way an editor who checked would (``--mark-unknown-sent`` when the server
  got it, else ``--resend-unknown``). Either way: nobody twice and nobody missing.

The verifier counts from the server's own record: a recipient the journal calls
accepted (or marked sent) whom the server never accepted is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.sendgrid_server import KEY, SendGridServer

REPO = Path(__file__).resolve().parent.parent
ISSUE = "issues/2024-06-june-team-update.yaml"
DEADLINE = 600.0
"""The whole drill's deadline (seconds); one run's is a tenth of it."""


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
    kill: str = "sender"
    kills: int = 0
    mid_request: int = 0
    """Kills that landed while a request had started and had no recorded answer."""
    finished_sends: int = 0
    questions: int = 0
    """Runs that stopped to ask about ``unknown`` recipients."""
    unknown_batches: int = 0
    settled_from_log: int = 0
    """Runs that settled unknown recipients from SendGrid's Email Logs."""
    log: list[str] = field(default_factory=list)
    deadline: float = 0.0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
        env.update(PYTHONPATH=str(REPO), SENDGRID_API_KEY=KEY, SENDGRID_API_HOST=self.server.url, NO_COLOR="1", COLUMNS="200")
        return env

    def command(self, issue: str, *extra: str) -> list[str]:
        # --no-sync: the drill is about the send journal; the sync's own kill -9 test is in
        # tests/test_feedback_sync_errors.py (and its requests would shift the kill window)
        return [
            sys.executable,
            "-m",
            "newsletter",
            "send",
            issue,
            "--yes",
            "--provider",
            "sendgrid",
            "--list",
            "list.csv",
            "--no-sync",
            *extra,
        ]

    # -- what the journal and the outcome log show ------------------------------------

    def _db(self) -> sqlite3.Connection | None:
        path = self.root / ".newsletter" / "journal.sqlite3"
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) if path.exists() else None

    def accepted(self, slug: str) -> int:
        db = self._db()
        if db is None:
            return 0
        try:
            row = db.execute(
                "SELECT count(*) FROM recipients r JOIN sends s ON s.id = r.send_id WHERE s.key = ? AND r.state = 'accepted'",
                (slug,),
            ).fetchone()
            return int(row[0])
        except sqlite3.OperationalError:  # the tables are not made yet
            return 0
        finally:
            db.close()

    def events(self) -> tuple[int, int]:
        """(requests started, requests ended) in every outcome log so far."""
        folder = self.root / ".newsletter" / "outcomes"
        started = ended = 0
        if folder.is_dir():
            for path in folder.iterdir():
                data = path.read_bytes()
                started += data.count(b'"e":"started"')
                ended += data.count(b'"e":"answered"') + data.count(b'"e":"not_sent"') + data.count(b'"e":"lost"')
        return started, ended

    # -- one run -----------------------------------------------------------------------

    def run_once(self, issue: str, slug: str, rng: random.Random, total: int) -> int | None:
        """One run, killed at a moment chosen from the journal's and log's state; returns
        its exit code, or None when it was killed."""
        moment = rng.choice(["start", "started", "started", "accepted", "accepted"])
        base_started, _ = self.events()
        target_started = base_started + rng.randint(1, 3)
        target_accepted = self.accepted(slug) + rng.randint(1, max(1, total // 3))
        proc = subprocess.Popen(
            self.command(issue),
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        run_deadline = time.monotonic() + DEADLINE / 10
        while proc.poll() is None:
            if time.monotonic() > min(run_deadline, self.deadline):
                os.killpg(proc.pid, signal.SIGKILL)
                raise AssertionError("a run took too long (deadline)")
            started, ended = self.events()
            due = (
                (moment == "start" and (self.root / ".newsletter" / "journal.sqlite3").exists())
                or (moment == "started" and started >= target_started)
                or (moment == "accepted" and self.accepted(slug) >= target_accepted)
            )
            if due:
                if self.kill == "group":
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
                _, err = proc.communicate()
                self.log.append(err.decode())
                self.settled_from_log += "SendGrid's Email Logs settled" in self.log[-1]
                self.kills += 1
                if self.kill == "group":  # as the power cut left it (the sender alone: as it was killed)
                    started, ended = self.events()
                self.mid_request += started > ended
                return None
            time.sleep(0.003)
        out, err = proc.communicate()
        self.log.append(err.decode())
        self.settled_from_log += "SendGrid's Email Logs settled" in self.log[-1]
        return proc.returncode

    def resolve_unknown(self, issue: str, slug: str) -> None:
        """After a power cut: what an editor does who asked SendGrid (here, the server) who got it."""
        db = self._db()
        assert db is not None
        try:
            rows = db.execute(
                "SELECT r.email, r.batch FROM recipients r JOIN sends s ON s.id = r.send_id"
                " WHERE s.key = ? AND r.state = 'unknown'",
                (slug,),
            ).fetchall()
        finally:
            db.close()
        self.unknown_batches += len({b for _, b in rows})
        assert len({b for _, b in rows}) <= 1, "more than one request unknown after one stop"
        got = {
            t["email"]
            for body in self.server.log.requests
            if body["categories"][0] == slug
            for p in body["personalizations"]
            for t in p["to"]
        }
        delivered = {e for e, _ in rows if e in got}
        assert delivered in ({e for e, _ in rows}, set()), "an unknown request was half delivered"
        flag = "--mark-unknown-sent" if delivered else "--resend-unknown"
        proc = subprocess.run(
            self.command(issue, flag),
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=DEADLINE / 10,
        )
        assert proc.returncode in (0, 1), proc.stderr.decode()


def distinct_copy(source: Path, target: Path, n: int) -> None:
    """Another issue made of ``source``: its own subject and date (``check`` refuses an issue
    that repeats another's), the same content otherwise."""
    text = source.read_text(encoding="utf-8")
    day = dt.date(2024, 6, 14) + dt.timedelta(days=n)  # later: an older issue than one sent is refused
    text = re.sub(r"(?m)^subject: \"(.*)\"$", lambda m: f'subject: "{m.group(1)} ({n})"', text, count=1)
    text = re.sub(r"(?m)^date: .*$", f"date: {day.isoformat()}", text, count=1)
    target.write_text(text, encoding="utf-8")


def run_drill(
    root: Path,
    server: SendGridServer,
    *,
    kills: int,
    eligible: int,
    suppressed: int,
    seed: int,
    kill: str = "sender",
    log_delay: float | None = None,
) -> Drill:
    good, bad = write_list(root / "list.csv", eligible, suppressed)
    if log_delay is not None:
        with (root / "newsletter.yaml").open("a", encoding="utf-8") as fh:
            fh.write(f"delivery:\n  sendgrid:\n    log_delay: {log_delay}\n")
    drill = Drill(root, server, seed, kill, deadline=time.monotonic() + DEADLINE)
    rng = random.Random(seed)
    send_no = 0
    while drill.kills < kills:
        send_no += 1
        issue = ISSUE if send_no == 1 else ISSUE.replace(".yaml", f"-{send_no}.yaml")
        if send_no > 1:
            distinct_copy(root / ISSUE, root / issue, send_no)
        slug = Path(issue).stem
        while True:
            code = drill.run_once(issue, slug, rng, eligible)
            if code == 0:
                break
            if code is not None:
                err = drill.log[-1]
                assert "'unknown'" in err and code == 1, err
                drill.questions += 1
                drill.resolve_unknown(issue, slug)
        drill.finished_sends += 1
        verify(root, server, slug, good, bad)
    return drill


def verify(root: Path, server: SendGridServer, slug: str, good: list[str], bad: list[str]) -> None:
    """Every eligible address accepted by the server exactly once, and the journal agrees:
    a recipient recorded as sent whom the server never accepted is missing."""
    counts: Counter[str] = Counter()
    for body in server.log.requests:
        if body["categories"][0] == slug:
            counts.update(t["email"] for p in body["personalizations"] for t in p["to"])
    db = sqlite3.connect(root / ".newsletter" / "journal.sqlite3")
    try:
        send_id = db.execute("SELECT id FROM sends WHERE key = ?", (slug,)).fetchone()[0]
        states = dict(
            db.execute("SELECT state, count(*) FROM recipients WHERE send_id = ? GROUP BY state", (send_id,)).fetchall()
        )
    finally:
        db.close()
    assert sum(states.values()) == len(good) and set(states) <= {"accepted", "marked_sent"}, states
    assert max(counts.values()) == 1, "someone got the issue twice"
    assert not set(bad) & set(counts), "a suppressed address was in a request"
    missing = set(good) - set(counts)
    assert not missing, f"{len(missing)} recorded as sent but never delivered, e.g. {sorted(missing)[:3]}"
    assert set(counts) <= set(good)
