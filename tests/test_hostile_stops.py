"""What a stopped send says and leaves behind, for SMTP and SendGrid, against real servers on
loopback: a second Ctrl-C of an SMTP send stops at once while the server still holds a
message (and the journal calls that message ``unknown``), and a pause that left ``unknown``
rows never tells the editor to just run again when the next run needs a choice.

Every wait is for an observed state (a message held at the server, a line on stderr, a
process gone), each with a deadline.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.sendgrid_feedback import ApiFault
from tests.sendgrid_server import KEY, SendGridServer
from tests.smtp_server import HOLD_DEADLINE, SmtpServer

DEADLINE = 60.0


def _readers(project: Path, count: int, extra_settings: str = "") -> list[str]:
    emails = [f"reader{i:03d}@example.org" for i in range(count)]
    with (project / "subscribers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status"])
        for i, e in enumerate(emails):
            w.writerow([e, f"Reader{i}", "Y", "subscribed"])
    if extra_settings:
        with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
            fh.write(extra_settings)
    return emails


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env.update(PYTHONPATH=str(REPO), NO_COLOR="1", COLUMNS="200", **extra)
    return env


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the send ended before {what}")
        if time.monotonic() > end:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _states(project: Path) -> dict[str, dict[str, str]]:
    """state → {email: reason} of the journal's rows."""
    db = sqlite3.connect(project / ".newsletter" / "journal.sqlite3")
    try:
        found: dict[str, dict[str, str]] = {}
        for email, state, why in db.execute("SELECT email, state, coalesce(reason, '') FROM recipients"):
            found.setdefault(state, {})[email] = why
        return found
    finally:
        db.close()


def test_a_second_ctrl_c_of_an_smtp_send_stops_while_the_server_holds_a_message(project: Path) -> None:
    """Issue 27 item 11: the server holds one message after receiving it whole; two Ctrl-C
    later the sender is gone while the server still holds it (it never answered), and the
    journal calls that message unknown, not sent and not lost; the words say the next run
    needs a choice for it."""
    # the client would wait for the reply longer than the server holds it (300 s against 60 s):
    # only a stop that cuts the connection ends the send while the server still holds the message
    readers = _readers(project, 40, "delivery:\n  smtp:\n    connections: 2\n    timeout: 300\n")
    with SmtpServer() as server:
        server.handler.hold = readers[0]
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp"],
            cwd=project,
            env=_env(SMTP_URL=server.url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            start_new_session=True,
        )
        try:
            assert proc.stderr is not None
            _wait_for(server.handler.holding.is_set, "the held message", proc)
            proc.send_signal(signal.SIGINT)
            stderr = proc.stderr
            seen: list[str] = []

            def stop_note_seen() -> bool:
                seen.append(stderr.readline())
                return "Stopping once" in seen[-1]

            _wait_for(stop_note_seen, "the first stop note", proc)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=HOLD_DEADLINE + DEADLINE)
            # the sender ended while the server still held the message: it never waited for the reply
            assert not server.handler.answered_held.is_set(), "the send waited for the held message's reply"
        finally:
            server.handler.release.set()
        err = "".join(seen) + err
        assert proc.returncode == 130 and "Traceback" not in err, out + err
        assert "stopped at once (second Ctrl-C)" in err, err
        states = _states(project)
        assert set(states.get("unknown", {})) == {readers[0]}, states
        assert "lost after the message was sent" in states["unknown"][readers[0]]
        assert "in_flight" not in states
        accepted = set(states.get("accepted", {}))
        assert accepted == {r for r, n in server.handler.accepted.items() if n} - {readers[0]}
        # the next run needs a choice for the held message: the words never say "Nothing is lost: run …"
        assert "Nothing is lost" not in err, err
        assert (
            "1 recipient(s) are 'unknown' (the server may have them; nothing can tell), so the next run "
            "stops until you decide" in err
        ), err
        assert "send all 1 again with --resend-unknown" in err, err


def test_an_sendgrid_pause_with_unknown_rows_names_the_choice_and_the_whole_batch(project: Path) -> None:
    """Issue 27 item 13: a request lost after SendGrid had the body leaves its whole batch
    unknown; too many failed requests pause the send. The stop words never say "run again to
    resume" as if nothing were needed, and say how many --resend-unknown would send again:
    the whole batch (10 here; up to 1,000)."""
    _readers(project, 25, "delivery:\n  batch_size: 10\n  max_failed_requests: 1\n  sendgrid:\n    log_delay: 3600\n")
    with SendGridServer() as server:
        server.fail_next("drop")  # the body is taken whole, then the connection is dropped unanswered
        env = {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url, "NEWSLETTER_SECRET": "org"}
        # the key may not read the account (the domain check) nor the Email Logs: they cannot settle it
        server.account.faults.extend([ApiFault("403", message="access forbidden")] * 2)
        first = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env)
        assert first.code == 1 and "Traceback" not in first.output, first.output
        assert "send paused" in first.err, first.err
        assert len(_states(project).get("unknown", {})) == 10, (first.output, _states(project).keys())
        assert "Nothing is lost" not in first.err and "run the command again to resume" not in first.err, first.err
        assert "send all 10 again with --resend-unknown" in first.err, first.err
        assert re.search(
            r"count them as sent with `newsletter send \S+ --yes --provider sendgrid "
            r"--mark-unknown-sent`",
            first.err,
        ), first.err
        # and it is so: the same command again sends nothing more until the editor chooses
        server.account.faults.extend([ApiFault("403", message="access forbidden")] * 2)
        again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env)
        assert again.code == 1 and "--resend-unknown" in again.err, again.output
        assert "send all 10 again with --resend-unknown" in again.err, again.err


def test_an_smtp_pause_with_unknown_rows_names_the_choice(project: Path) -> None:
    """The same for SMTP: a message taken whole and never answered is unknown (that message
    alone); the pause's words name the choice and how many --resend-unknown sends again."""
    readers = _readers(project, 3, "delivery:\n  max_failed_requests: 1\n  smtp:\n    connections: 1\n")
    with SmtpServer() as server:
        server.handler.drop_after_data = 1
        first = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        assert first.code == 1 and "Traceback" not in first.output, first.output
        assert "Nothing is lost" not in first.err and "run the command again to resume" not in first.err, first.err
        assert "send all 1 again with --resend-unknown" in first.err, first.err
        assert set(_states(project)["unknown"]) == {readers[0]}
