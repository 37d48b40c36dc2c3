"""With no terminal (a CI job, a script), a send never waits for an answer: it needs --yes,
and it refuses, with what to do, where a person must decide (recipients whose delivery is
unknown, an email not approved). Standard input is a pipe that is never written to or
closed, so a send that read an answer from it would hang until the deadline."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, REPO
from tests.sendgrid_feedback import ApiFault
from tests.sendgrid_server import KEY, SendGridServer

DEADLINE = 120.0


def _env(server: SendGridServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env.update(
        PYTHONPATH=str(REPO),
        NO_COLOR="1",
        COLUMNS="200",
        SENDGRID_API_KEY=KEY,
        SENDGRID_API_HOST=server.url,
        NEWSLETTER_SECRET="org",
        CI="true",
    )
    return env


def _send_unattended(project: Path, server: SendGridServer, *extra: str) -> tuple[int, str]:
    """The send with standard input held open and never answered; its exit code and output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--provider", "sendgrid", "--no-sync", *extra],
        cwd=project,
        env=_env(server),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        code = proc.wait(timeout=DEADLINE)  # stdin stays open: an answer is never given
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("the send waited for an answer") from None
    out, err = proc.communicate()  # only now is standard input closed
    return code, out + err


def test_without_yes_it_refuses_instead_of_asking(project: Path, sendgrid_server: SendGridServer) -> None:
    code, output = _send_unattended(project, sendgrid_server)
    assert code == 2, output
    assert "no terminal to ask in: 5 recipient(s) would get this; add --yes" in output
    assert sendgrid_server.log.requests == []
    code, output = _send_unattended(project, sendgrid_server, "--yes")
    assert code == 0, output
    assert len(sendgrid_server.log.accepted) == 5


def test_an_unapproved_email_is_refused_without_asking(project: Path, sendgrid_server: SendGridServer) -> None:
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("approval: required\n")
    code, output = _send_unattended(project, sendgrid_server, "--yes")
    assert code == 1 and "not approved yet" in output and "newsletter approve" in output, output
    assert sendgrid_server.log.requests == []


def test_unknown_recipients_are_refused_without_asking(project: Path) -> None:
    with (project / "subscribers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status"])
        for i in range(20):
            w.writerow([f"reader{i:03d}@example.org", f"R{i}", "Y", "subscribed"])
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("delivery:\n  batch_size: 10\n")
    with SendGridServer(stall=DEADLINE) as server:
        server.fail_next("ok", "hang")  # the second request is never answered: then a power cut
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync"],
            cwd=project,
            env=_env(server),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + DEADLINE
        while len(server.log.times) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the second request never arrived"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        server.account.faults.append(ApiFault("403", message="access forbidden: email logs"))  # nobody can know
        code, output = _send_unattended(project, server, "--yes")
        assert code == 1, output
        assert "'unknown'" in output and "--mark-unknown-sent" in output and "--resend-unknown" in output
        assert len(server.log.accepted) == 10
        server.released.set()
