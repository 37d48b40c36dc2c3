"""Bounded waits: every call to the outside world ends, whatever the other side does.

Each test runs the real command line against a misbehaving server on 127.0.0.1 (see
:mod:`tests.stub_servers`); the subprocess timeout of each run is the test's deadline.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import orjson
import pytest

from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.feedback_kit import env
from tests.sendgrid_server import KEY, SendGridServer
from tests.stub_servers import Scripted, Silent, endless


def _timeout(project: Path, seconds: float = 1) -> None:
    settings = project / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "delivery:" not in text
    settings.write_text(text + f"delivery:\n  sendgrid:\n    timeout: {seconds}\n", encoding="utf-8")


def _api(url: str) -> dict[str, str]:
    return {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": url}


def _scheduled(project: Path) -> None:
    with SendGridServer() as server:
        when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
        sent = run_cli("send", EXAMPLE_ISSUE, "--yes", "--send-at", when.isoformat(), cwd=project, env=env(server))
        assert sent.code == 0, sent.output


COMMANDS = {
    "subscribers sync": ("subscribers", "sync"),
    "send --yes (syncs first)": ("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid"),
    "results": ("results", EXAMPLE_ISSUE, "--since", "2024-06-14"),
    "cancel": ("cancel", EXAMPLE_ISSUE),
    "pause": ("pause", EXAMPLE_ISSUE),
    "pause --unpause": ("pause", EXAMPLE_ISSUE, "--unpause"),
}


@pytest.mark.slow  # waits out SendGrid's timeouts, for each command
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_sendgrid_that_never_answers_is_given_up_on(project: Path, name: str) -> None:
    """Issue item 1: each command that calls SendGrid's API stops after its timeout."""
    if name in ("cancel", "pause", "pause --unpause"):
        _scheduled(project)
    _timeout(project)
    with Silent() as silent:
        result = run_cli(*COMMANDS[name], cwd=project, env=_api(silent.url), timeout=60)
        assert silent.requests >= 1
    assert result.code == 2, result.output
    assert "did not answer in time" in result.err and "delivery.sendgrid.timeout" in result.err
    assert "Traceback" not in result.output and KEY not in result.output


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "declared length"])
def test_an_endless_answer_is_not_read_whole(project: Path, declared: bool) -> None:
    """Issue item 1: a 300 MB answer stops the read at 16 MB, with SendGrid's host named."""
    with Scripted(lambda h: endless(h, declared=declared)) as server:
        result = run_cli("subscribers", "sync", cwd=project, env=_api(server.url), timeout=60)
    assert result.code == 2, result.output
    assert "answer is too large" in result.err and "SENDGRID_API_HOST" in result.err
    assert "Traceback" not in result.output


def test_the_api_client_has_a_timeout_and_a_size_bound() -> None:
    """The official client as the package makes it: a silent host ends in TimeoutError
    after the timeout given, and an endless answer in AnswerTooLarge."""
    from python_http_client.exceptions import HTTPError

    from newsletter.delivery.api import AnswerTooLarge, client, parse_api_host

    with Silent() as silent:
        sg = client(KEY, parse_api_host(silent.url), 0.5)
        with pytest.raises(TimeoutError):
            sg.client.suppression.bounces.get()
    with Scripted(endless) as server:
        sg = client(KEY, parse_api_host(server.url), 30)
        with pytest.raises(AnswerTooLarge):
            sg.client.suppression.bounces.get()
    with Scripted(lambda h: h.send_error(500)) as server:
        sg = client(KEY, parse_api_host(server.url), 30)
        with pytest.raises(HTTPError):
            sg.client.suppression.bounces.get()


def test_every_sendgrid_client_the_package_makes_is_given_the_settings_timeout() -> None:
    """Every call of ``client(...)`` (the feedback commands' SendGrid client) passes a timeout;
    the client's own default is the documented 30 s, never "none"."""
    from newsletter.delivery import api
    from newsletter.feedback import account

    assert account.TIMEOUT == api.TIMEOUT == 30.0
    bare = []
    for path in sorted((REPO / "newsletter").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "client":
                if not node.args and not node.keywords:
                    bare.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert bare == []


def _same_page(handler: BaseHTTPRequestHandler) -> None:
    body = orjson.dumps([{"email": f"reader{i}@example.org", "created": 1718000000} for i in range(500)])
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_a_server_repeating_a_full_page_is_stopped_at_the_second(project: Path) -> None:
    """Issue item 2: a page that does not advance stops the sync at once, over one connection."""
    with Scripted(_same_page) as server:
        result = run_cli("subscribers", "sync", cwd=project, env=_api(server.url), timeout=60)
        assert server.requests == 2 and server.connections == 1
    assert result.code == 2, result.output
    assert "gave the same page again for offset 500" in result.err and "Traceback" not in result.output


def test_a_sync_reads_every_list_over_one_connection(project: Path, sendgrid_server: SendGridServer) -> None:
    """Issue item 2: the five suppression lists (and the group's) come over one connection."""
    from tests.feedback_kit import set_group

    set_group(project, 77)
    sendgrid_server.account.group(77)
    for i in range(1200):
        sendgrid_server.account.add("bounces", f"b{i}@example.org", created=1718000000 + i)
    result = run_cli("subscribers", "sync", cwd=project, env=env(sendgrid_server), timeout=120)
    assert result.code == 0, result.output
    assert len(sendgrid_server.log.answers) >= 9  # group, its check, 3 pages of bounces, 4 more lists
    assert sendgrid_server.log.connections == 1


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_tokens_from_a_device_or_a_pipe_is_refused_at_once(project: Path, tmp_path: Path, source: str) -> None:
    """Issue item 3: a device is never read without end, a pipe never waited on."""
    import os

    path = source
    if source == "fifo":
        path = str(tmp_path / "tokens.fifo")
        os.mkfifo(path)
    before = (project / "subscribers.csv").read_bytes()
    result = run_cli("subscribers", "unsubscribe", "--tokens-from", path, cwd=project, timeout=30)
    assert result.code == 2, result.output
    assert "not an ordinary file" in result.err and "Traceback" not in result.output
    assert (project / "subscribers.csv").read_bytes() == before


@pytest.mark.slow  # reads a log of many megabytes
def test_tokens_from_a_big_log_are_read_a_piece_at_a_time(project: Path, tmp_path: Path) -> None:
    """Issue item 21: a million tokens that match nobody print a bounded report; a token
    cut by the reader's piece boundary is still found whole (and no longer run is cut
    into one)."""
    log = tmp_path / "big.log"
    with log.open("w", encoding="ascii") as fh:
        for i in range(1_000_000):
            fh.write(f"GET /u?token={i:032x} 200\n")
        fh.write("x" * ((1 << 20) - 20) + " " + "a" * 40 + "\n")  # 40 digits across the boundary: no token
    result = run_cli("subscribers", "unsubscribe", "--tokens-from", str(log), cwd=project, timeout=120)
    assert result.code == 0, result.output
    assert len(result.err.splitlines()) < 60 and "more unmatched tokens" in result.err
    assert "1000000 token(s): 0 unsubscribed now, 0 already, 1000000 matched nobody" in result.out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_tokens_from_a_utf16_log(project: Path, tmp_path: Path, encoding: str) -> None:
    """Issue item 21: a log a Windows tool saved as UTF-16 (with or without its BOM) gives its tokens."""
    from tests.test_feedback_tokens import tokens_sent

    sent = tokens_sent(project)
    log = tmp_path / "iis.log"
    log.write_text(
        f"2024-06-14 09:12:01 GET /unsubscribe token={sent['amina.okafor@example.org']} 200\r\n"
        "2024-06-14 09:12:02 GET /favicon.ico - 404\r\n",
        encoding=encoding,
    )
    result = run_cli("subscribers", "unsubscribe", "--tokens-from", str(log), cwd=project)
    assert result.code == 0, result.output
    assert "1 token(s): 1 unsubscribed now" in result.out


def _bounces_with_odd_dates(handler: BaseHTTPRequestHandler) -> None:
    entries: list[dict[str, object]] = []
    if handler.path.startswith("/v3/suppression/bounces") and "offset=0" in handler.path:
        odd = [-1, 10**20, 1e300, 2**64, 1718000000.5, True]
        entries = [
            {"email": f"odd{i}@example.org", "created": c, "reason": "550 no such user", "status": "5.1.1"}
            for i, c in enumerate(odd)
        ]
    body = json.dumps(entries).encode()  # orjson refuses 2**64
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_sendgrid_dates_that_are_no_dates_are_left_out(project: Path) -> None:
    """Issue item 5: a ``created`` negative, huge, 1e300 or 2**64 is no date; the entry still
    counts, and the next sync (and send) works too."""
    import csv

    with Scripted(_bounces_with_odd_dates) as server:
        for _ in range(2):
            result = run_cli("subscribers", "sync", cwd=project, env=_api(server.url), timeout=60)
            assert result.code == 0, result.output
            assert "Traceback" not in result.output
    with (project / "subscribers.csv").open(encoding="utf-8") as fh:
        rows = {r["email"]: r for r in csv.DictReader(fh)}
    assert all(rows[f"odd{i}@example.org"]["status"] == "bounced" for i in range(6))
    assert rows["odd4@example.org"]["status_at"] == "2024-06-10"
    # no date from SendGrid: the day of the sync, never 1969 or a year past 9999
    today = {dt.date.today().isoformat(), dt.datetime.now(dt.UTC).date().isoformat()}
    assert {rows[f"odd{i}@example.org"]["status_at"] for i in (0, 1, 2, 3, 5)} <= today
