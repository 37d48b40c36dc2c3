"""What a stop leaves behind: Ctrl-C (once and twice), kill -9 of the sender alone and of its
whole process group, against the local SendGrid-compatible server. Every wait here is for
an observed state (a request at the server, a line on stderr, a process gone), each with a
deadline; the child processes get their own SIGINT handling, whatever the test runner's."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.sendgrid_feedback import ApiFault
from tests.sendgrid_server import KEY, SendGridServer

DEADLINE = 60.0
ELIGIBLE = 5


def env_for(server: SendGridServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env.update(PYTHONPATH=str(REPO), SENDGRID_API_KEY=KEY, SENDGRID_API_HOST=server.url, NO_COLOR="1")
    return env


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # even when the test runner ignores SIGINT


def start_send(project: Path, server: SendGridServer, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", *args],
        cwd=project,
        env=env_for(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=_default_sigint,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def journal_states(project: Path) -> dict[str, int]:
    db = sqlite3.connect(project / ".newsletter" / "journal.sqlite3")
    try:
        return dict(db.execute("SELECT state, count(*) FROM recipients GROUP BY state").fetchall())
    finally:
        db.close()


def test_a_first_ctrl_c_lets_the_request_finish_then_stops_with_130(project: Path) -> None:
    with SendGridServer(delay=1.5) as server:
        proc = start_send(project, server, "--provider", "sendgrid")
        wait_for(lambda: bool(server.log.times), "the request to reach the server")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert f"Nothing is lost: run `newsletter send {EXAMPLE_ISSUE} --yes --provider sendgrid` to resume" in err
        assert "accepted 5" in out  # the summary, with the answer to the request on its way
        assert journal_states(project) == {"accepted": ELIGIBLE}
        assert sorted(server.counts.values()) == [1] * ELIGIBLE


@pytest.mark.slow  # an interrupt drill (Ctrl-C mid-send, over 5 s)
def test_a_second_ctrl_c_stops_at_once_and_the_resume_settles_from_the_outcome_log(project: Path) -> None:
    with SendGridServer(delay=3.0) as server:
        proc = start_send(project, server, "--provider", "sendgrid")
        wait_for(lambda: bool(server.log.times), "the request to reach the server")
        assert proc.stderr is not None
        proc.send_signal(signal.SIGINT)
        seen: list[str] = []
        stderr = proc.stderr

        def stop_note() -> bool:
            seen.append(stderr.readline())
            return "Stopping once" in seen[-1]

        wait_for(stop_note, "the first stop note")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 130 and "Traceback" not in err, err
        assert "stopped at once" in err
        assert journal_states(project) == {"in_flight": ELIGIBLE}  # nothing decided by the stopped run
        # the request process outlived the sender, finished the request and recorded its answer
        wait_for(lambda: bool(server.log.answers), "the server's answer")
        again = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url},
        )
        assert again.code == 0, again.output
        assert "5 were accepted" in again.err
        assert journal_states(project) == {"accepted": ELIGIBLE}
        assert sorted(server.counts.values()) == [1] * ELIGIBLE  # nobody twice, nobody asked about


@pytest.mark.slow  # an interrupt drill (Ctrl-C mid-send, over 5 s)
def test_a_second_ctrl_c_does_not_wait_for_the_answer(project: Path) -> None:
    """ "Stopped at once" is true: the sender is gone while the request is still at the server
    (whose answer comes 10 s later), and the request process records it for the next run."""
    with SendGridServer(delay=10.0) as server:
        proc = start_send(project, server, "--provider", "sendgrid")
        wait_for(lambda: bool(server.log.times), "the request to reach the server")
        assert proc.stderr is not None
        proc.send_signal(signal.SIGINT)
        seen: list[str] = []
        stderr = proc.stderr

        def stop_note() -> bool:
            seen.append(stderr.readline())
            return "Stopping once" in seen[-1]

        wait_for(stop_note, "the first stop note")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 130 and "stopped at once" in err, err
        assert not server.log.accepted  # gone before the answer came
        wait_for(lambda: bool(server.log.accepted), "the server's answer")
        again = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url},
        )
        assert again.code == 0 and "5 were accepted" in again.err, again.output
        assert sorted(server.counts.values()) == [1] * ELIGIBLE


@pytest.mark.slow  # a crash drill (kill -9)
def test_killing_the_sender_mid_request_loses_nothing_and_asks_nothing(project: Path) -> None:
    with SendGridServer(delay=1.5) as server:
        proc = start_send(project, server, "--provider", "sendgrid")
        wait_for(lambda: bool(server.log.times), "the request to reach the server")
        proc.kill()  # the sender only: its request process goes on
        proc.communicate(timeout=DEADLINE)
        assert journal_states(project) == {"in_flight": ELIGIBLE}
        again = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url},
        )
        assert again.code == 0, again.output
        assert journal_states(project) == {"accepted": ELIGIBLE}
        assert sorted(server.counts.values()) == [1] * ELIGIBLE


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_request_started_and_never_answered_is_unknown_and_never_resent_by_itself(project: Path) -> None:
    """A power cut (the whole process group killed) while the request is at the server: the
    outcome log says it started and nothing more, and SendGrid's Email Logs cannot be asked
    (the key lacks access). The resume must stop and ask, not resend."""
    with SendGridServer(delay=30.0) as server:
        proc = start_send(project, server, "--provider", "sendgrid")
        wait_for(lambda: bool(server.log.times), "the request to reach the server")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=DEADLINE)
        for _ in range(3):  # the same command, twice and more: still nothing sent, still asking
            server.account.faults.append(ApiFault("403", message="access forbidden: Email Logs"))
            again = run_cli(
                "send",
                EXAMPLE_ISSUE,
                "--yes",
                "--provider",
                "sendgrid",
                "--no-sync",
                cwd=project,
                env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url},
            )
            assert again.code == 1, again.output
            assert "may or may not have been delivered" in again.err or "'unknown'" in again.err
            assert len(server.log.times) == 1
        assert journal_states(project) == {"unknown": ELIGIBLE}
        marked = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            "--mark-unknown-sent",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url},
        )
        assert marked.code == 0, marked.output
        status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
        assert "marked sent 5" in " ".join(status.out.split()), status.out
        report = project / "unsent.csv"
        rep = run_cli("report", EXAMPLE_ISSUE, "-o", str(report), cwd=project)
        assert rep.code in (0, 1), rep.output
        text = report.read_text()
        assert text.count("marked_sent") == ELIGIBLE and "was unknown" in text


@pytest.mark.slow  # an interrupt drill (Ctrl-C mid-send, over 5 s)
@pytest.mark.parametrize("provider", ["outbox"])
def test_a_first_ctrl_c_during_an_outbox_send_stops_between_messages(project: Path, provider: str) -> None:
    """The outbox writes message by message: a Ctrl-C stops between two files, and the next run
    writes the rest; nobody is ever unknown."""
    rows = ["email,first_name,last_name,status"] + [f"r{i:05d}@example.org,R{i},T,subscribed" for i in range(3000)]
    (project / "subscribers.csv").write_text("\n".join(rows) + "\n")
    with SendGridServer() as server:
        proc = start_send(project, server, "--provider", provider)
        folder = project / "outbox" / "2024-06-june-team-update"
        wait_for(lambda: folder.is_dir() and any(folder.iterdir()), "the first message file")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode in (0, 130), err  # 0 only if it had already finished
        figures = dict(re.findall(r"(accepted|failed|unknown|suppressed|pending) (\d+)", out))
        assert sum(map(int, figures.values())) == 3000, out  # the rows not read yet are pending too
        assert "Written to the outbox: " in out and "Sent with" not in out, out
        states = journal_states(project)
        assert "unknown" not in states and "in_flight" not in states
        again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", provider, cwd=project)
        assert again.code == 0, again.output
        assert journal_states(project) == {"accepted": 3000}
        assert len(list(folder.glob("*.eml"))) == 3000
        assert not list(folder.glob(".*.tmp"))


@pytest.mark.slow  # a crash drill (kill -9)
def test_the_resume_waits_for_the_killed_senders_request_to_be_answered(project: Path) -> None:
    """The sender is killed while SendGrid holds its request; the next run starts while the
    request process still waits for the answer: it must wait for that answer (and accept),
    not read the log meanwhile and call the request unknown."""
    with SendGridServer() as server:
        server.fail_next("hold")  # read whole, answered only once released
        proc = start_send(project, server, "--provider", "sendgrid")
        wait_for(server.holding.is_set, "the request to be held at the server")
        proc.kill()  # the sender only: its request process goes on waiting for the answer
        proc.communicate(timeout=DEADLINE)
        resume = start_send(project, server, "--provider", "sendgrid")
        lock = (project / ".newsletter" / "poster.lock").resolve()

        def waiting_or_done() -> bool:
            if resume.poll() is not None:
                return True
            try:
                fds = list(Path(f"/proc/{resume.pid}/fd").iterdir())
            except OSError:
                return False
            return any(_target(fd) == str(lock) for fd in fds)

        wait_for(waiting_or_done, "the resume to wait for the request process (or to end)")
        server.release.set()
        out, err = resume.communicate(timeout=DEADLINE)
        assert resume.returncode == 0, err
        assert "5 were accepted" in err
        assert journal_states(project) == {"accepted": ELIGIBLE}
        assert sorted(server.counts.values()) == [1] * ELIGIBLE


def _target(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:
        return ""


def test_a_new_send_never_reads_a_stale_outcome_log_of_a_reused_send_id(project: Path) -> None:
    """A journal made anew numbers its sends from 1 again: the outcome log a send of an
    earlier journal left under that id must not be read as this send's."""
    from newsletter.delivery.outcomes import boot_id, read

    folder = project / ".newsletter" / "outcomes"
    folder.mkdir(parents=True, exist_ok=True)
    stale = [
        {"boot": boot_id(), "pid": 1},
        {"b": 1, "e": "started", "t": 1.0},
        {"b": 1, "e": "answered", "status": 202, "id": "stale", "why": ""},
    ]
    (folder / "1.log").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in stale))
    with SendGridServer() as server:
        done = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url},
        )
        assert done.code == 0, done.output
    events = read(folder / "1.log").events
    assert events and all(e.get("id") != "stale" and e.get("t") != 1.0 for e in events)
    assert [e["e"] for e in events] == ["started", "answered"]
