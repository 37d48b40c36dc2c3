"""The send workflow's steps, run as GitHub Actions runs them, in fresh clones of one shared
repository, against the SendGrid test server: twice at once is one send; a run killed
mid-way is resumed by the next run from the record it pushed; nobody twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.ci_kit import (
    READERS,
    prepare,
    readers,
    remote_record,
    run_step,
    runner,
    shared_repository,
    start_step,
    step_env,
)
from tests.conftest import EXAMPLE_ISSUE
from tests.sendgrid_server import SendGridServer

DEADLINE = 150.0
SEND, RECORD = "Send", "Commit the send record, whatever happened"


def _once(server: SendGridServer) -> None:
    counts = Counter(server.log.accepted)
    assert sorted(counts) == readers(), "someone never got it"
    assert max(counts.values()) == 1, "someone got it twice"


@pytest.mark.slow  # two CI runners racing over git (over 5 s)
def test_the_send_step_twice_at_once_sends_once(project: Path, tmp_path: Path) -> None:
    origin = shared_repository(project, tmp_path)
    with SendGridServer() as server:
        env = step_env(tmp_path, server)
        clones = [runner(origin, tmp_path / name) for name in ("run-1", "run-2")]
        for clone in clones:
            prepare(clone, env)
        started = [start_step(SEND, clone, env) for clone in clones]
        done = [(p.wait(timeout=DEADLINE), "".join(p.communicate())) for p in started]
        for clone in clones:  # the last step runs whatever happened
            code, output = run_step(RECORD, clone, env)
            assert code == 0, output
        _once(server)
        assert server.log.invalid == []
    codes = sorted(code for code, _ in done)
    assert codes[0] == 0 and codes[1] != 0, done
    loser = next(output for code, output in done if code != 0)
    assert (
        "another run began sending this issue first" in loser or "may still be sending" in loser or "[already-sent]" in loser
    ), loser
    record = remote_record(origin)
    assert record is not None and record["state"] == "finished" and record["counts"]["accepted"] == READERS


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_run_killed_mid_way_is_resumed_by_the_next_run_nobody_twice(project: Path, tmp_path: Path) -> None:
    origin = shared_repository(project, tmp_path)
    with SendGridServer(stall=DEADLINE) as server:
        env = step_env(tmp_path, server)
        first = runner(origin, tmp_path / "run-1")
        prepare(first, env)
        server.fail_next("ok", "stall")  # the second request reaches SendGrid and is held there
        proc = start_step(SEND, first, env)
        deadline = time.monotonic() + DEADLINE
        while len(server.log.accepted) < 20:
            assert proc.poll() is None, "".join(proc.communicate())
            assert time.monotonic() < deadline, "deadline: the second request never arrived"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # the runner is lost: its last step never runs
        proc.communicate()
        record = remote_record(origin)
        assert record is not None and record["state"] == "sending", "the record was not pushed before sending"
        # the next run, at once: the killed run may still be sending, as far as it can tell
        second = runner(origin, tmp_path / "run-2")
        prepare(second, env)
        code, output = run_step(SEND, second, env)
        assert code == 1 and "may still be sending" in output and "Nothing was sent" in output, output
        code, output = run_step(RECORD, second, env)
        assert code == 0 and "nothing to push" in output, output
        assert len(server.log.accepted) == 20
        # a run after the lease the record promises (read from the record itself, bounded)
        lease = dt.datetime.fromisoformat(record["lease_until"].replace("Z", "+00:00")).timestamp()
        deadline = time.monotonic() + DEADLINE
        while time.time() <= lease:
            assert time.monotonic() < deadline, "deadline: the record's lease never ran out"
            time.sleep(0.5)
        third = runner(origin, tmp_path / "run-3")
        prepare(third, env)
        code, output = run_step(SEND, third, env)
        assert code == 0, output
        assert "Resuming the send begun on another clone" in output and "20 of this list's 25 are accepted" in output
        code, output = run_step(RECORD, third, env)
        assert code == 0, output
        server.released.set()
        _once(server)
    record = remote_record(origin)
    assert record is not None and record["state"] == "finished"


@pytest.mark.slow  # two CI runners racing over git (over 5 s)
def test_the_record_pushed_first_wins(project: Path, tmp_path: Path) -> None:
    origin = shared_repository(project, tmp_path)
    with SendGridServer() as server:
        when = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)).replace(microsecond=0)
        env = step_env(tmp_path, server, send_at=when.isoformat())
        first, late = runner(origin, tmp_path / "run-1"), runner(origin, tmp_path / "run-2")
        for clone in (first, late):
            prepare(clone, env)
        code, output = run_step(SEND, first, env)
        assert code == 0, output
        assert all(body.get("send_at") == int(when.timestamp()) for body in server.log.requests)  # SendGrid holds it
        assert run_step(RECORD, first, env)[0] == 0
        # a run whose work tree predates that record (it began before the push) sends anyway:
        # its own record's push is refused, and it stops before any request
        stale = subprocess.run(
            [
                sys.executable,
                "-m",
                "newsletter",
                "send",
                EXAMPLE_ISSUE,
                "--yes",
                "--provider",
                "sendgrid",
                "--require-approval",
                "--push-record",
            ],
            cwd=late,
            env=env,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            stdin=subprocess.DEVNULL,
        )
        assert stale.returncode == 1, stale.stderr
        assert "another run began sending this issue first" in stale.stderr and "Nothing was sent" in stale.stderr
        _once(server)
        slug = Path(EXAMPLE_ISSUE).stem
        shown = subprocess.run(["git", "show", f"main:sends/{slug}.json"], cwd=origin, capture_output=True, timeout=60)
        assert (late / "sends" / f"{slug}.json").read_bytes() == shown.stdout  # its tree now holds the winner's
        code, output = run_step(RECORD, late, env)
        assert code == 0 and "nothing to push" in output, output
        status = subprocess.run(
            [sys.executable, "-m", "newsletter", "status", EXAMPLE_ISSUE],
            cwd=late,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "sent from another clone" in status.stdout  # the lost run left no send in its journal
