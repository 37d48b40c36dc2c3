"""Settling a stopped send from its outcome log: every case of what the log can say, and a
log written before the machine restarted (lines may be missing: nothing is resent)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import orjson
import pytest

from newsletter.delivery.api import parse_api_host
from newsletter.delivery.base import Rejected, Unknown
from newsletter.delivery.outcomes import OutcomeLog, boot_id, read, settle
from newsletter.delivery.posting import ApiHost, MailSender, post_recorded
from tests.disk_kit import fill, small_disk
from tests.sendgrid_server import KEY, SendGridServer

BATCH = {7: [1, 2, 3]}


def _log(path: Path, *events: dict[str, object], boot: str | None = None) -> Path:
    lines = [{"boot": boot if boot is not None else boot_id(), "pid": 1}, *events]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in lines))
    return path


@pytest.mark.parametrize(
    ("events", "state"),
    [
        ([], "retry"),  # handed over never: it never started
        ([{"b": 7, "e": "started"}], "unknown"),
        ([{"b": 7, "e": "started"}, {"b": 7, "e": "answered", "status": 202, "id": "m1", "why": ""}], "accepted"),
        ([{"b": 7, "e": "started"}, {"b": 7, "e": "answered", "status": 500, "id": "", "why": "oops"}], "retry"),
        ([{"b": 7, "e": "started"}, {"b": 7, "e": "answered", "status": 302, "id": "", "why": "moved"}], "retry"),
        ([{"b": 7, "e": "started"}, {"b": 7, "e": "answered", "status": 199, "id": "", "why": ""}], "retry"),
        ([{"b": 7, "e": "started"}, {"b": 7, "e": "not_sent", "why": "reset"}], "retry"),
        ([{"b": 7, "e": "started"}, {"b": 7, "e": "lost", "why": "no answer"}], "unknown"),
        ([{"b": 6, "e": "started"}, {"b": 6, "e": "answered", "status": 202, "id": "m", "why": ""}], "retry"),
    ],
)
def test_a_request_is_settled_from_what_its_log_says(tmp_path: Path, events: list[dict[str, object]], state: str) -> None:
    result = settle(BATCH, read(_log(tmp_path / "1.log", *events)))
    got = {"accepted": result.accepted, "retry": sorted(result.retry), "unknown": sorted(result.unknown)}
    assert {k for k, v in got.items() if v} == {state} and sorted(got[state]) == [1, 2, 3]


def test_after_a_restart_a_request_with_no_line_is_unknown_never_resent(tmp_path: Path) -> None:
    before = _log(tmp_path / "1.log", boot="an-earlier-boot")
    assert not read(before).complete
    result = settle(BATCH, read(before))
    assert sorted(result.unknown) == [1, 2, 3] and "restarted" in result.unknown[1]
    answered = _log(tmp_path / "2.log", {"b": 7, "e": "answered", "status": 202, "id": "m", "why": ""}, boot="an-earlier-boot")
    assert settle(BATCH, read(answered)).accepted == [1, 2, 3]  # a line that survived is the truth


def test_messages_are_settled_one_by_one(tmp_path: Path) -> None:
    log = _log(
        tmp_path / "1.log",
        {"b": 7, "s": 1, "e": "started"},
        {"b": 7, "s": 1, "e": "done", "state": "accepted", "why": ""},
        {"b": 7, "s": 2, "e": "started"},
    )
    result = settle(BATCH, read(log))
    assert result.accepted == [1] and list(result.unknown) == [2] and list(result.retry) == [3]
    restarted = _log(tmp_path / "2.log", {"b": 7, "s": 1, "e": "done", "state": "accepted", "why": ""}, boot="an-earlier-boot")
    after = settle(BATCH, read(restarted))
    assert after.accepted == [1] and sorted(after.unknown) == [2, 3]


def test_a_message_refused_for_good_stays_failed_and_is_never_resent(tmp_path: Path) -> None:
    log = _log(
        tmp_path / "1.log",
        {"b": 7, "s": 1, "e": "started"},
        {"b": 7, "s": 1, "e": "done", "state": "failed", "why": "550 no"},
        {"b": 7, "s": 2, "e": "started"},
        {"b": 7, "s": 2, "e": "done", "state": "retry", "why": "451 later"},
        {"b": 7, "s": 3, "e": "started"},
        {"b": 7, "s": 3, "e": "lost", "why": "no answer"},
    )
    result = settle(BATCH, read(log))
    assert result.failed == {1: "550 no"} and result.retry == {2: "451 later"} and list(result.unknown) == [3]
    assert result.accepted == []


def test_a_torn_last_line_and_no_log_at_all(tmp_path: Path) -> None:
    path = _log(tmp_path / "1.log", {"b": 7, "e": "started"})
    with path.open("ab") as fh:
        fh.write(b'{"b": 7, "e": "answ')  # a crash mid-line
    assert sorted(settle(BATCH, read(path)).unknown) == [1, 2, 3]
    assert sorted(settle(BATCH, read(tmp_path / "none.log")).unknown) == [1, 2, 3]  # no log: cannot know


def test_the_log_is_owner_only_and_says_its_boot_first(tmp_path: Path) -> None:
    log = OutcomeLog(tmp_path / "1.log")
    log.started(3)
    log.close()
    assert oct((tmp_path / "1.log").stat().st_mode & 0o777) == "0o600"
    first = orjson.loads((tmp_path / "1.log").read_bytes().split(b"\n")[0])
    assert first["boot"] == boot_id()


class _Silent:
    """A server on 127.0.0.1 that takes one request whole and closes without an answer,
    noting the outcome log's events as the request's first byte arrives."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.at_first_byte: list[str] | None = None
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        self.sock.close()
        conn.settimeout(30)
        with conn:
            data = conn.recv(1)
            self.at_first_byte = [e["e"] for e in read(self.log_path).events]
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
            while len(body) < length:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                body += chunk
            self.received = len(body)


def test_started_is_written_before_the_first_byte_and_no_answer_after_the_body_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "1.log"
    server = _Silent(path)
    log = OutcomeLog(path)
    body = b'{"x": "' + b"a" * (32 << 20) + b'"}'  # larger than the socket buffers: the send blocks
    sender = MailSender(KEY, ApiHost("http", "127.0.0.1", server.port), 30.0)
    try:
        with pytest.raises(Unknown):
            post_recorded(sender, body, log, 7)
    finally:
        sender.close()
        log.close()
    server.thread.join(30)
    assert not server.thread.is_alive() and server.received == len(body)
    assert server.at_first_byte == ["started"]  # on record before anything reached the server
    assert [e["e"] for e in read(path).events] == ["started", "lost"]
    assert sorted(settle({7: [1, 2]}, read(path)).unknown) == [1, 2]  # never resent


def test_a_request_unanswered_within_the_timeout_is_lost(tmp_path: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.fail_next("hang")  # reads the body whole, never answers
    log = OutcomeLog(tmp_path / "1.log")
    sender = MailSender(KEY, parse_api_host(sendgrid_server.url), 0.5)
    try:
        with pytest.raises(Unknown):
            post_recorded(sender, b'{"personalizations": []}', log, 7)
    finally:
        sender.close()
        log.close()
    assert [e["e"] for e in read(tmp_path / "1.log").events] == ["started", "lost"]


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
def test_a_full_disk_lets_no_request_out_unrecorded(tmp_path: Path, sendgrid_server: SendGridServer) -> None:
    with small_disk(tmp_path, 64) as disk:
        log = OutcomeLog(disk / "1.log")
        with (disk / "1.log").open("ab") as fh:  # the log's page full (a line read() skips)
            fh.write(b"x" * (4095 - fh.tell()) + b"\n")
        fill(disk)
        sender = MailSender(KEY, parse_api_host(sendgrid_server.url), 5.0)
        try:
            with pytest.raises(Rejected, match="outcome log"):
                post_recorded(sender, b'{"personalizations": []}', log, 7)
        finally:
            sender.close()
            log.close()
        assert [e["e"] for e in read(disk / "1.log").events] == []
    assert sendgrid_server.log.times == []  # nothing reached SendGrid
