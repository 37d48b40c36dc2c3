"""SendGrid's Email Logs settle what a stop left ``unknown``: a power cut (sender and request
process killed together) or the request process killed alone, mid-request, against the
test server's Email Logs (``tests/sendgrid_logs.py``: what it really accepted, each search
validated against SendGrid's ``tsg_logs_v3.json``).

Each kill is decided from the server's state (the request has arrived, and is held
there), never from a clock.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.feedback_kit import git
from tests.sendgrid_feedback import ApiFault
from tests.sendgrid_server import KEY, SendGridServer

DEADLINE = 120.0
READERS = 25


def _project(project: Path, log_delay: float | None = 0) -> list[str]:
    emails = [f"reader{i:03d}@example.org" for i in range(READERS)]
    with (project / "subscribers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status"])
        for i, e in enumerate(emails):
            w.writerow([e, f"Reader{i}", "Y", "subscribed"])
    extra = "delivery:\n  batch_size: 10\n"
    if log_delay is not None:
        extra += f"  sendgrid:\n    log_delay: {log_delay}\n"
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write(extra)
    return emails


def _env(server: SendGridServer) -> dict[str, str]:
    return {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url, "NEWSLETTER_SECRET": "org"}


def _send(project: Path, server: SendGridServer, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", *extra, cwd=project, env=_env(server))


def _start(project: Path, server: SendGridServer) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env.update(PYTHONPATH=str(REPO), NO_COLOR="1", COLUMNS="200", **_env(server))
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for(what: str, ready, proc: subprocess.Popen[bytes]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE
    while not ready():
        if proc.poll() is not None:
            raise AssertionError(f"the send ended before {what}: {proc.communicate()[1].decode()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"deadline: {what}")
        time.sleep(0.01)


def _poster_of(pid: int) -> int | None:
    """The request process (``newsletter.delivery.poster``) the sender started, if it runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"newsletter.delivery.poster" in cmdline:
            return int(entry.name)
    return None


def _delivered_once(server: SendGridServer, emails: list[str]) -> None:
    counts = Counter(server.log.accepted)
    assert max(counts.values()) == 1, "someone got the issue twice"
    missing = set(emails) - set(counts)
    assert not missing, f"{len(missing)} never delivered"


def _states(project: Path) -> dict[str, int]:
    status = run_cli("status", EXAMPLE_ISSUE, cwd=project)
    out = {}
    for line in status.out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


@pytest.mark.slow  # a crash drill (kill -9)
@pytest.mark.parametrize("reached", [True, False], ids=["sendgrid-had-it", "sendgrid-never-had-it"])
def test_a_power_cut_mid_request_is_settled_from_the_email_logs(project: Path, reached: bool) -> None:
    emails = _project(project)
    with SendGridServer(stall=DEADLINE) as server:
        # the second request reaches the server and is held there: logged and unanswered
        # (SendGrid had it), or never processed (it did not)
        server.fail_next("ok", "stall" if reached else "hang")
        proc = _start(project, server)
        _wait_for("the second request arrived", lambda: len(server.log.times) >= 2, proc)
        os.killpg(proc.pid, signal.SIGKILL)  # a power cut: the sender and its request process
        proc.communicate()
        assert len(server.log.accepted) == (20 if reached else 10)
        again = _send(project, server)
        assert again.code == 0, again.output
        assert "SendGrid's Email Logs settled the unknown recipient(s)" in again.err
        assert ("10 were processed by SendGrid (accepted)" if reached else "10 never reached SendGrid") in again.err
        assert "'unknown'" not in again.output
        _delivered_once(server, emails)
        assert server.account.logs.searches == 1
        assert server.log.invalid == []
    assert _states(project).get("unknown", 0) == 0


@pytest.mark.slow  # a crash drill (kill -9)
def test_the_request_process_killed_alone_is_settled_in_the_same_run(project: Path) -> None:
    emails = _project(project)
    with SendGridServer(stall=DEADLINE) as server:
        server.fail_next("stall")  # the first request is logged by SendGrid, then held unanswered
        proc = _start(project, server)
        _wait_for("the first request arrived", lambda: len(server.log.accepted) >= 10, proc)
        poster = _poster_of(proc.pid)
        assert poster is not None, "no request process"
        os.kill(poster, signal.SIGKILL)
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 0, err.decode()
        assert "10 were processed by SendGrid (accepted)" in err.decode()
        _delivered_once(server, emails)
        assert server.log.invalid == []


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_log_that_cannot_be_asked_leaves_unknown_for_the_editor(project: Path) -> None:
    _project(project)
    with SendGridServer(stall=DEADLINE) as server:
        server.fail_next("ok", "hang")
        proc = _start(project, server)
        _wait_for("the second request arrived", lambda: len(server.log.times) >= 2, proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        server.account.faults.append(ApiFault("403", message="access forbidden: email logs"))
        again = _send(project, server)
        assert again.code == 1, again.output
        assert "SendGrid's Email Logs could not be asked" in again.output
        assert "'unknown'" in again.err and "--resend-unknown" in again.err
        assert len(server.log.accepted) == 10  # nothing sent while unknown


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_request_the_log_does_not_show_yet_stays_unknown_until_log_delay(project: Path) -> None:
    _project(project, log_delay=3600)
    with SendGridServer(stall=DEADLINE) as server:
        server.fail_next("ok", "hang")
        proc = _start(project, server)
        _wait_for("the second request arrived", lambda: len(server.log.times) >= 2, proc)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        again = _send(project, server)
        assert again.code == 1, again.output
        assert "do not show this request yet" in again.output and "run the same command again after" in again.output
        assert len(server.log.accepted) == 10


def test_the_search_is_sendgrids_filter_for_one_reader_of_this_sends_category(project: Path) -> None:
    from newsletter.feedback.emaillogs import query

    text = query("reader001@example.org", "newsletter-send-0123456789ab", 1718352000.0)
    assert text == (
        "to_email = \"reader001@example.org\" AND categories IN ('newsletter-send-0123456789ab')"
        ' AND sg_message_id_created_at >= TIMESTAMP "2024-06-14T07:50:00Z"'
    )
    with pytest.raises(ValueError):
        query('x"@example.org', "c", 0.0)


def _stopped_then_cloned(project: Path, tmp_path: Path, server: SendGridServer, stop: str) -> Path:
    """A send of the example stopped after 20 of 25 readers on this clone, by the editor's Ctrl-C
    (``interrupt``: the request on its way is answered first, the record says ``stopped``) or a
    power cut (``cut``: the record still says ``sending``); its record committed, and the
    project cloned afresh (an empty ``.newsletter/``). Returns the clone."""
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "the project")
    server.fail_next("ok", "stall")  # the second request is held at the server until released
    proc = _start(project, server)
    _wait_for("the second request arrived", lambda: len(server.log.accepted) >= 20, proc)
    if stop == "interrupt":
        os.kill(proc.pid, signal.SIGINT)
        server.released.set()
        proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 130
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=DEADLINE)
    git(project, "add", "sends")
    git(project, "commit", "-qm", "Send record")
    other = tmp_path / "colleague"
    subprocess.run(["git", "clone", "-q", str(project), str(other)], check=True, timeout=60)
    assert not (other / ".newsletter").exists()
    return other


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_send_stopped_on_one_clone_is_resumed_on_another_nobody_twice(project: Path, tmp_path: Path) -> None:
    emails = _project(project)
    with SendGridServer(stall=DEADLINE) as server:
        other = _stopped_then_cloned(project, tmp_path, server, "interrupt")
        record = (project / "sends" / f"{Path(EXAMPLE_ISSUE).stem}.json").read_text()
        assert '"state": "stopped"' in record and '"accepted": 20' in record
        check = run_cli("check", EXAMPLE_ISSUE, cwd=other)
        assert "[begun-elsewhere]" in check.out and check.code == 0, check.output
        resumed = _send(other, server)
        assert resumed.code == 0, resumed.output
        assert "Resuming the send begun on another clone" in resumed.out
        assert "20 of this list's 25 are accepted, 5 to send" in resumed.out
        _delivered_once(server, emails)
        assert len(server.log.accepted) == READERS
        assert server.log.invalid == []
        assert '"state": "finished"' in (other / "sends" / f"{Path(EXAMPLE_ISSUE).stem}.json").read_text()


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_send_that_may_still_be_running_elsewhere_is_not_taken_over(project: Path, tmp_path: Path) -> None:
    _project(project)
    with SendGridServer(stall=DEADLINE) as server:
        other = _stopped_then_cloned(project, tmp_path, server, "cut")
        record = (project / "sends" / f"{Path(EXAMPLE_ISSUE).stem}.json").read_text()
        assert '"state": "sending"' in record and '"lease_until": "' in record
        refused = _send(other, server)
        assert refused.code == 1, refused.output
        assert "may still be sending" in refused.err and "Nothing was sent" in refused.err
        assert len(server.log.accepted) == 20


def test_every_message_of_a_send_is_listed_though_a_search_gives_a_page_at_most() -> None:
    from newsletter.delivery.api import client, parse_api_host
    from newsletter.feedback.emaillogs import Searcher

    with SendGridServer() as server:
        logs = server.account.logs
        base = 1_718_352_000.0
        mine = {f"reader{i:03d}@example.org" for i in range(40)}
        for i, email in enumerate(sorted(mine)):  # 40 messages of this send over 4 seconds, 10 a second
            body = {
                "from": {"email": "news@example.org"},
                "subject": "s",
                "categories": ["june", "send-a"],
                "personalizations": [{"to": [{"email": email}]}],
            }
            logs.accept(body, base + i * 0.1)
        logs.accept(
            {
                "from": {"email": "news@example.org"},
                "subject": "s",
                "categories": ["june", "send-b"],
                "personalizations": [{"to": [{"email": "other@example.org"}]}],
            },
            base + 1,
        )
        searcher = Searcher(client(KEY, parse_api_host(server.url)), page=7, limit=100)
        assert searcher.every("send-a", base - 600, base + 600) == mine
        assert 100 - searcher.left > 6  # full pages were split
        assert server.log.invalid == []
        tight = Searcher(client(KEY, parse_api_host(server.url)), page=7, limit=3)
        from newsletter.feedback.account import SendGridError

        with pytest.raises(SendGridError, match="more than 3 searches"):
            tight.every("send-a", base - 600, base + 600)


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_log_that_shows_fewer_readers_than_the_record_counts_stops_the_resume(project: Path, tmp_path: Path) -> None:
    _project(project)
    with SendGridServer(stall=DEADLINE) as server:
        other = _stopped_then_cloned(project, tmp_path, server, "interrupt")
        with server.account.logs.lock:  # the log has lost the first request (past its 30 days)
            del server.account.logs.messages[:10]
        refused = _send(other, server)
        assert refused.code == 1, refused.output
        assert "show 10 reader(s) of this send where its record counts 20 accepted" in refused.err
        assert len(server.log.accepted) == 20
        again = run_cli("status", EXAMPLE_ISSUE, cwd=other)
        assert "not sent yet" not in again.out  # the record still shows; no half-made send was kept


def test_results_pull_who_was_not_delivered_into_report_and_the_list(project: Path) -> None:
    emails = _project(project)
    with SendGridServer() as server:
        sent = _send(project, server)
        assert sent.code == 0, sent.output
        logs = server.account.logs
        assert logs.event(emails[0], "bounce") == 1
        assert logs.event(emails[1], "dropped", reason="Invalid SMTPAPI header") == 1
        assert logs.event(emails[2], "deferred") == 1
        assert logs.event(emails[3], "blocked", reason="550 5.7.1 blocked by policy") == 1
        for email in emails[4:]:
            logs.event(email, "delivered")
        assert logs.event(emails[4], "spamreport") == 1
        server.account.add("spam_reports", emails[4])  # SendGrid's spam report list has them too
        server.account.add("spam_reports", "not-a-reader@example.net")  # another send's: not this one's
        pulled = run_cli("results", EXAMPLE_ISSUE, cwd=project, env=_env(server))
        assert pulled.code == 0, pulled.output
        assert "blocked 1, bounced 1, deferred 1, dropped 1, spam report 1" in pulled.out
        assert "2 address(es) that hard-bounced or reported spam are now 'bounced' or 'complained'" in pulled.out
        kept = project / ".newsletter" / "deliveries" / f"{Path(EXAMPLE_ISSUE).stem}.json"
        assert kept.stat().st_mode & 0o777 == 0o600
        first = kept.read_bytes()
        listed = (project / "subscribers.csv").read_bytes()
        with (project / "subscribers.csv").open(encoding="utf-8", newline="") as fh:
            status = {row["email"]: row["status"] for row in csv.DictReader(fh)}
        assert status[emails[0]] == "bounced" and status[emails[4]] == "complained"
        assert "not-a-reader@example.net" not in status
        assert {status[e] for e in emails[1:4] + emails[5:]} == {"subscribed"}  # dropped, deferred, blocked: not for good
        report = run_cli("report", EXAMPLE_ISSUE, cwd=project)
        assert report.code == 0, report.output
        rows = list(csv.reader((project / "unsent.csv").read_text(encoding="utf-8").splitlines()))
        assert rows[0] == ["address", "state", "reason"]
        by_address = {r[0]: (r[1], r[2]) for r in rows[1:]}
        assert by_address[emails[0]][0] == "accepted, then bounced" and "5.1.1" in by_address[emails[0]][1]
        assert by_address[emails[1]] == ("accepted, then dropped", "Invalid SMTPAPI header")
        assert by_address[emails[3]][0] == "accepted, then blocked"
        assert by_address[emails[4]] == ("accepted, then spam report", "marked the email as spam")
        assert len(rows) == 6
        again = run_cli("results", EXAMPLE_ISSUE, cwd=project, env=_env(server))  # idempotent
        assert again.code == 0, again.output
        assert kept.read_bytes() == first and (project / "subscribers.csv").read_bytes() == listed
        assert "now 'bounced'" not in again.out
        assert server.log.invalid == []


def test_a_log_search_against_a_server_that_never_answers_gives_up_within_its_timeout() -> None:
    import socket
    import threading

    from newsletter.delivery.api import client, parse_api_host
    from newsletter.feedback.account import SendGridError
    from newsletter.feedback.emaillogs import Searcher

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        searcher = Searcher(client(KEY, parse_api_host(url), 0.5))  # the timeout every call is given
        outcome: list[BaseException] = []

        def search() -> None:
            try:
                searcher.find("reader001@example.org", "newsletter-send-0123456789ab", 1718352000.0)
            except BaseException as exc:  # noqa: BLE001 - what the search ended with is the point
                outcome.append(exc)

        asking = threading.Thread(target=search, daemon=True)
        asking.start()
        asking.join(timeout=60)  # the test's own deadline, far above the search's
        assert not asking.is_alive(), "the search waited past its timeout"
        assert len(outcome) == 1 and isinstance(outcome[0], SendGridError), outcome
        assert held, "the search never reached the server"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()
