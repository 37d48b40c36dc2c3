"""What a stopped send tells the editor to do next, run as printed: the resume command names
the send's provider (the default one is another send), unknown recipients are named with the
command that settles them and what each choice costs, and the figures add up."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.smtp_server import SmtpServer
from tests.test_smtp_refusals import write_list

DEADLINE = 60.0


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        assert proc.poll() is None, f"the send ended before {what}"
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.01)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env.update(PYTHONPATH=str(REPO), NO_COLOR="1", **extra)
    return env


def _printed_command(text: str) -> list[str]:
    found = re.search(r"`(newsletter send [^`]*)`", text)
    assert found, text
    return shlex.split(found.group(1))[1:]


def test_a_ctrl_c_of_an_smtp_send_prints_a_resume_command_that_resumes_it(project: Path) -> None:
    readers = [f"reader{i:03d}@example.org" for i in range(300)]
    write_list(project, readers)
    with SmtpServer() as server:
        server.handler.hold = readers[0]  # the first batch is on its way when Ctrl-C comes
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp"],
            cwd=project,
            env=_env(SMTP_URL=server.url),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            _wait_for(server.handler.holding.is_set, "the held message", proc)
            proc.send_signal(signal.SIGINT)
        finally:
            server.handler.release.set()
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 130 and "Traceback" not in err, out + err
        command = _printed_command(err)
        assert command == ["send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp"], err
        status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
        assert f"resume with: newsletter send {EXAMPLE_ISSUE} --yes --provider smtp" in status.out, status.out
        # run as printed, where SMTP_URL is set and no SendGrid key (the default provider is the outbox)
        again = run_cli(*command, cwd=project, env={"SMTP_URL": server.url})
        assert again.code == 0 and "Finished" in again.out, again.output
        assert server.handler.accepted == {r: 1 for r in readers}  # the SMTP send finished, nobody twice
    assert not (project / "outbox").exists()


def test_unknown_recipients_of_an_smtp_send_are_named_with_the_command_that_settles_them(project: Path) -> None:
    readers = ["amina@example.org", "li@example.org"]
    write_list(project, readers)
    with SmtpServer() as server:
        server.handler.drop_after_data = 1  # the first message is taken and never answered
        first = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        assert first.code == 1, first.output
        assert "send all 1 again with --resend-unknown instead (whoever already has it then gets it twice)" in first.err, (
            first.err
        )
        command = _printed_command(first.err)
        assert command == ["send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", "--mark-unknown-sent"], first.err
        stuck = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        assert stuck.code == 1 and _printed_command(stuck.err) == command, stuck.output
        done = run_cli(*command, cwd=project, env={"SMTP_URL": server.url})
        assert done.code == 0 and "Finished" in done.out, done.output
        assert sum(server.handler.accepted.values()) == 2


def test_a_send_whose_output_reader_goes_away_goes_on_and_blames_no_disk(project: Path) -> None:
    """`newsletter send … | head -1`: the pipe closes after the first line; the send is not
    stopped by it, and nothing says the disk is full."""
    write_list(project, [f"reader{i:03d}@example.org" for i in range(50)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox"],
        cwd=project,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # as head does once it has its line (here: before the first)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "space" not in err and "Broken pipe" not in err, err
    status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
    assert "with outbox: finished" in status.out and "accepted    50" in status.out, status.out


def test_with_only_smtp_url_set_a_send_goes_over_smtp(project: Path) -> None:
    """SMTP_URL and no SendGrid key: the send goes to that server (not to the outbox), and an
    explicit outbox run's last line names the command that sends for real."""
    readers = ["amina@example.org", "li@example.org"]
    write_list(project, readers)
    with SmtpServer() as server:
        sent = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project, env={"SMTP_URL": server.url})
        assert sent.code == 0 and "with smtp" in sent.out, sent.output
        assert server.handler.accepted == {r: 1 for r in readers}
        assert not (project / "outbox").exists()
        files = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project, env={"SMTP_URL": server.url})
        assert files.code == 0, files.output
        assert f"(to send for real: newsletter send {EXAMPLE_ISSUE} --provider smtp)" in files.out, files.out
