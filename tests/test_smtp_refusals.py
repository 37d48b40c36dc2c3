"""What an SMTP server's refusals do, against a real SMTP server on loopback (aiosmtpd): a
5xx fails the recipient with the server's reply, a "no such mailbox" one (5.1.x) also makes
the address ``bounced`` in the list, a 4xx is tried again and changes nothing; and a kill
of the sender mid-send leaves only the message on its way ``unknown``."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from newsletter.audience.csvfile import open_list
from newsletter.delivery.refusals import mailbox_gone, reason
from newsletter.delivery.run import deliver
from newsletter.delivery.smtp import SmtpProvider, parse_smtp_url
from newsletter.feedback.smtp_bounces import bounce_refused
from tests.conftest import EXAMPLE_ISSUE, REPO, CliResult, run_cli
from tests.crash import distinct_copy
from tests.delivery_kit import make_kit, person
from tests.smtp_server import SmtpServer

DEADLINE = 60.0
GONE = "gone@example.org"
GONE_REPLY = f"550 5.1.1 <{GONE}>: Recipient address rejected: User unknown"
NOBODY = "nobody@example.org"
NOBODY_REPLY = "550-5.1.1 The email account that you tried to reach does not exist.\x1b[2J\r\n550 5.1.1 Please check the address"
LATER = "later@example.org"
FULL = "full@example.org"
FILTERED = "filtered@example.org"
FILTER_REPLY = "554 5.7.1 rejected by content filter"


# -- which replies make an address bounced (pure, milliseconds) ------------------------------


@pytest.mark.parametrize(
    ("stage", "code", "reply", "gone"),
    [
        ("recipient", 550, "5.1.1 <a@example.org>: Recipient address rejected: User unknown", True),
        ("recipient", 550, "5.1.2 Host unknown", True),
        ("recipient", 553, "5.1.3 Bad recipient address syntax", True),
        ("recipient", 550, "5.1.6 Mailbox has moved", True),
        ("recipient", 556, "5.1.10 Recipient address has null MX", True),
        ("message", 550, "5.1.1 No such user", True),  # one recipient per message: the refusal is theirs
        ("recipient", 550, "5.1.0 Address rejected", False),  # unspecified
        ("recipient", 550, "5.1.7 Bad sender's mailbox address syntax", False),  # about our sender
        ("recipient", 550, "5.1.8 Bad sender's system address", False),
        ("recipient", 550, "5.1.11 Something new", False),
        ("message", 554, "5.7.1 rejected by content filter", False),
        ("recipient", 550, "5.7.1 Relaying denied", False),
        ("recipient", 550, "User unknown", False),  # no enhanced code: the words are not read
        ("recipient", 550, "No such user here", False),
        ("recipient", 450, "4.1.1 Mailbox unavailable, try later", False),  # temporary
        ("recipient", 550, "4.1.1 mismatched classes", False),
        ("recipient", 451, "5.1.1 mismatched classes", False),
        ("recipient", 550, "5.1.1x not a code", False),
    ],
)
def test_only_a_permanent_no_such_mailbox_code_bounces(stage: str, code: int, reply: str, gone: bool) -> None:
    assert mailbox_gone(reason(stage, code, reply)) is gone  # type: ignore[arg-type]


def test_a_reason_keeps_the_reply_on_one_line_without_control_characters() -> None:
    why = reason("recipient", 550, "5.1.1 first line\n5.1.1 second\x1b[2J line\x00".encode())
    assert why == "SMTP server refused the recipient: 550 5.1.1 first line 5.1.1 second [2J line"
    assert mailbox_gone(why)
    assert len(reason("message", 554, "5.7.1 " + "x" * 5000)) < 400
    assert not mailbox_gone("the SMTP server does not offer SMTPUTF8, which an address … needs")


# -- a real send over SMTP --------------------------------------------------------------------


def write_list(project: Path, emails: list[str]) -> Path:
    path = project / "subscribers.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["email", "first_name", "last_name", "status"])
        for i, address in enumerate(emails):
            w.writerow([address, f"Reader{i}", "Y", "subscribed"])
    return path


def list_rows(path: Path) -> dict[str, dict[str, str]]:
    """The list as the tool reads it: {address: {column: cell}}."""
    with open_list(path) as reader:
        names = list(reader.header.cells)
        found = {}
        for _line, cells, problem in reader.records():
            assert problem is None, problem
            row = dict(zip(names, cells))
            found[row["email"]] = row
    return found


def send(project: Path, server: SmtpServer, issue: str = EXAMPLE_ISSUE, *extra: str) -> CliResult:
    return run_cli("send", issue, "--yes", "--provider", "smtp", *extra, cwd=project, env={"SMTP_URL": server.url})


def report(project: Path) -> dict[str, tuple[str, str]]:
    result = run_cli("report", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 0, result.output
    text = (project / "unsent.csv").read_text(encoding="utf-8")
    return {r["address"]: (r["state"], r["reason"]) for r in csv.DictReader(io.StringIO(text))}


def test_refusals_fail_with_the_reply_and_only_no_such_mailbox_bounces(project: Path) -> None:
    readers = ["amina@example.org", GONE, LATER, NOBODY, FULL, FILTERED]
    path = write_list(project, readers)
    with SmtpServer() as server:
        server.handler.rcpt_replies = {
            GONE: [GONE_REPLY] * 5,
            NOBODY: [NOBODY_REPLY] * 5,
            LATER: ["451 4.7.1 Greylisted, please try again later"],
        }
        server.handler.data_replies = {FULL: ["452 4.2.2 Mailbox full"], FILTERED: [FILTER_REPLY]}
        first = send(project, server)
        assert first.code == 1 and "3 recipient(s) failed" in first.err, first.output
        assert "2 address(es) the SMTP server said do not exist are now 'bounced' in subscribers.csv" in first.out
        # the 4xx were tried again and accepted once; the refused were tried once and never accepted
        assert server.handler.accepted == {"amina@example.org": 1, LATER: 1, FULL: 1}
        assert server.handler.rcpts[LATER] == 2 and server.handler.rcpts[GONE] == 1

        rows = list_rows(path)
        assert {a: rows[a]["status"] for a in readers} == {
            "amina@example.org": "subscribed",
            GONE: "bounced",
            LATER: "subscribed",
            NOBODY: "bounced",
            FULL: "subscribed",
            FILTERED: "subscribed",
        }
        assert rows[GONE]["status_reason"] == f"SMTP server refused the recipient: {GONE_REPLY}"
        assert rows[GONE]["status_at"] and not rows[FILTERED]["status_at"]

        unsent = report(project)
        assert unsent == {
            GONE: ("failed", f"SMTP server refused the recipient: {GONE_REPLY}"),
            NOBODY: (
                "failed",
                "SMTP server refused the recipient: 550 5.1.1 The email account that you tried "
                "to reach does not exist. [2J 5.1.1 Please check the address",
            ),
            FILTERED: ("failed", f"SMTP server refused the message: {FILTER_REPLY}"),
        }
        status = " ".join(run_cli("status", EXAMPLE_ISSUE, cwd=project).out.split())
        assert "finished" in status and "accepted 3 failed 3" in status, status

        # the next issue goes to everyone still subscribed, and never to the bounced
        issue = EXAMPLE_ISSUE.replace(".yaml", "-2.yaml")
        distinct_copy(project / EXAMPLE_ISSUE, project / issue, 2)
        second = send(project, server, issue)
        assert second.code == 0, second.output
        assert "bounced" not in second.out
        assert server.handler.rcpts[GONE] == 1 and server.handler.rcpts[NOBODY] == 1
        assert server.handler.accepted == {"amina@example.org": 2, LATER: 2, FULL: 2, FILTERED: 1}
    assert list_rows(path) == rows  # nothing new to record: the list was not rewritten


def test_a_4xx_that_lasts_waits_for_the_next_run_and_never_bounces(project: Path) -> None:
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("delivery:\n  retries: 0\n")
    path = write_list(project, ["amina@example.org", LATER])
    before = path.read_bytes()
    with SmtpServer() as server:
        # refused when first read from the list, and again when the run goes over what is pending
        server.handler.rcpt_replies = {
            LATER: ["450 4.1.1 <later@example.org>: Recipient address rejected: unverified address"] * 2
        }
        first = send(project, server)
        assert first.code == 1 and "1 recipient(s) still to send" in first.err, first.output
        assert report(project) == {
            LATER: (
                "pending",
                "SMTP server refused the recipient: 450 4.1.1 "
                "<later@example.org>: Recipient address rejected: "
                "unverified address",
            )
        }
        assert path.read_bytes() == before  # a temporary refusal never changes the list
        again = send(project, server)
        assert again.code == 0, again.output
        assert server.handler.accepted == {"amina@example.org": 1, LATER: 1}
    assert list_rows(path)[LATER]["status"] == "subscribed"


def test_the_list_update_changes_only_rows_it_holds_once_and_never_loosens(project: Path) -> None:
    """Straight on the journal of a send: run twice, the second changes nothing (the list is
    not rewritten); an address gone from the list is not added back; an unsubscribe stays."""
    readers = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    kit = make_kit(project, [person(a) for a in readers])
    with SmtpServer() as server:
        server.handler.rcpt_replies = {a: [f"550 5.1.1 <{a}>: User unknown"] for a in readers[1:]}
        provider = SmtpProvider(parse_smtp_url(server.url), kit.settings.delivery.smtp)
        try:
            deliver(
                kit.journal,
                kit.send,
                kit.message,
                provider,
                kit.maker(),
                kit.settings.delivery,
                source=kit.source(),
                sleep=lambda s: None,
            )
        finally:
            provider.close()
    path = project / "list.csv"
    path.write_text(
        "email,status\na@example.org,subscribed\nb@example.org,subscribed\nc@example.org,unsubscribed\n", encoding="utf-8"
    )  # d@ has left the list since
    changed = bounce_refused(kit.journal, kit.send, path)
    assert [(c.email, c.line, c.old, c.new, c.kind) for c in changed] == [("b@example.org", 3, "subscribed", "bounced", "smtp")]
    after, inode = path.read_bytes(), path.stat().st_ino
    assert {a: r["status"] for a, r in list_rows(path).items()} == {
        "a@example.org": "subscribed",
        "b@example.org": "bounced",
        "c@example.org": "unsubscribed",
    }
    assert bounce_refused(kit.journal, kit.send, path) == []
    assert path.read_bytes() == after and path.stat().st_ino == inode  # not written again
    kit.journal.close()


# -- a kill mid-send ----------------------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        assert proc.poll() is None, f"the send ended before {what}"
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.01)


def _ended(project: Path) -> int:
    """Messages whose end is in the send's outcome log (accepted, failed or to retry)."""
    return sum(p.read_bytes().count(b'"e":"done"') for p in (project / ".newsletter" / "outcomes").glob("*.log"))


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_kill_mid_send_leaves_only_the_message_on_its_way_unknown(project: Path) -> None:
    """Four connections share each batch of 100; one message is held by the server after it
    was received whole, the other connections finish their part, and the sender is killed.
    Only that message may have been delivered without the sender knowing: its connection's
    other messages never started, and are sent by the next run."""
    readers = [f"reader{i:03d}@example.org" for i in range(300)]
    gone_early, gone_in_flight, held = readers[10], readers[101], readers[100]
    path = write_list(project, readers)
    before = path.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    with SmtpServer() as server:
        server.handler.rcpt_replies = {gone_early: [GONE_REPLY], gone_in_flight: [GONE_REPLY]}
        server.handler.hold = held  # the first of its connection's 25 in the second batch
        env.update(PYTHONPATH=str(REPO), NO_COLOR="1", SMTP_URL=server.url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(server.handler.holding.is_set, "the held message", proc)
            # the first batch, and the other three connections' 75 of the second, are recorded
            _wait_for(lambda: _ended(project) == 175, "the other connections to finish", proc)
            proc.kill()
            proc.wait(timeout=DEADLINE)
        finally:
            server.handler.release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=DEADLINE)
        assert path.read_bytes() == before  # the killed run never reached its end

        resumed = send(project, server)
        assert resumed.code == 1 and "1 recipient(s) are 'unknown'" in resumed.err, resumed.output
        assert "24 were not sent and will be" in resumed.err and "1 were refused" in resumed.err
        status = run_cli("status", EXAMPLE_ISSUE, cwd=project).out
        assert f"unknown: {held}" in status and status.count("unknown:") == 1, status

        done = send(project, server, EXAMPLE_ISSUE, "--mark-unknown-sent")  # the server has it
        assert done.code == 1 and "2 recipient(s) failed" in done.err, done.output
        assert "2 address(es) the SMTP server said do not exist are now 'bounced'" in done.out
        assert set(server.handler.accepted.values()) == {1}  # nobody twice
        assert set(server.handler.accepted) == set(readers) - {gone_early, gone_in_flight}  # nobody missing
    rows = list_rows(path)
    assert [a for a in readers if rows[a]["status"] == "bounced"] == [gone_early, gone_in_flight]


def test_a_list_that_breaks_mid_send_keeps_the_bounce_for_the_next_run(project: Path) -> None:
    """The list gets a row that cannot be read while the send is out: the send's end says so,
    names the row, changes nothing, and is not marked finished; once the row is fixed the
    same command records the bounce."""
    held = "held@example.org"
    path = write_list(project, ["amina@example.org", GONE, held])
    good = path.read_text(encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    with SmtpServer() as server:
        server.handler.rcpt_replies = {GONE: [GONE_REPLY]}
        server.handler.hold = held
        env.update(PYTHONPATH=str(REPO), NO_COLOR="1", SMTP_URL=server.url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp"],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for(server.handler.holding.is_set, "the held message", proc)
            broken = project / "broken.csv"
            broken.write_text(good + "someone@example.org,x,y,subscribed,one field too many\n", encoding="utf-8")
            os.replace(broken, path)
        finally:
            server.handler.release.set()
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 1, out + err
        assert (
            "the send is recorded, but the addresses the SMTP server said do not exist could not be marked "
            "bounced in subscribers.csv"
            in err
            and "subscribers.csv:5: row has 5 fields" in err
        ), err
        assert "Traceback" not in err
        path.write_text(good, encoding="utf-8")  # the editor fixes the row
        again = send(project, server)
        assert again.code == 1 and "1 recipient(s) failed" in again.err, again.output
        assert "1 address(es) the SMTP server said do not exist are now 'bounced'" in again.out
        assert sum(server.handler.accepted.values()) == 2
    assert list_rows(path)[GONE]["status"] == "bounced"
