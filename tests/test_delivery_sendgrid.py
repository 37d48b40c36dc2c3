"""The SendGrid path end to end against the local SendGrid-compatible server: payloads, retries."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from newsletter.delivery.journal import Journal
from newsletter.delivery.run import RunResult, deliver
from newsletter.delivery.sendgrid import SendGridProvider
from newsletter.errors import InputError
from tests.delivery_kit import Kit, make_kit, people, person
from tests.sendgrid_server import KEY, Fault, SendGridServer


class Waits(list[float]):
    """Records each wait of the send loop and really waits (briefly)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 2.0))


BACKGROUND = [False]


@pytest.fixture(autouse=True, params=["in-process", "background"])
def posting(request: pytest.FixtureRequest) -> str:
    """Every test here runs twice: requests posted by the sender itself, and by the
    request process a real send starts (newsletter.delivery.poster)."""
    BACKGROUND[0] = request.param == "background"
    return str(request.param)


def run(kit: Kit, server: SendGridServer, waits: Waits | None = None, *, sandbox: bool = False, **changes: object) -> RunResult:
    settings = kit.delivery(**changes)
    options = (
        settings.sendgrid.model_copy(update={"timeout": changes.pop("timeout", 2.0)})
        if "timeout" in changes
        else settings.sendgrid
    )
    provider = SendGridProvider(KEY, options, host=server.url, sandbox=sandbox, background=BACKGROUND[0])
    try:
        result = deliver(
            kit.journal,
            kit.send,
            kit.message,
            provider,
            kit.maker(),
            settings,
            source=kit.source(),
            sleep=waits if waits is not None else Waits(),
        )
    finally:
        provider.close()
    kit.refresh()
    return result


def states(kit: Kit) -> dict[str, int]:
    return {k: v for k, v in kit.journal.counts(kit.send).items() if v}


def test_every_recipient_accepted_once_with_valid_payloads(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(2500))
    result = run(kit, sendgrid_server)
    assert result.outcome == "done" and result.requests == 3
    assert sendgrid_server.log.invalid == []
    assert sorted(sendgrid_server.counts.values()) == [1] * 2500
    assert states(kit) == {"accepted": 2500}
    body = sendgrid_server.log.requests[0]
    assert len(body["personalizations"]) == 1000
    first = body["personalizations"][0]
    assert first["to"] == [{"email": "reader000000@example.org", "name": "Reader0 Test"}]
    assert first["custom_args"] == {"send_id": "test-send"}
    unsub = first["headers"]["List-Unsubscribe"]
    assert unsub.startswith("<https://www.coproductioncollective.co.uk/unsubscribe?token=") and unsub.endswith(">")
    assert "reader000000" not in unsub
    assert first["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["substitutions"]["__nl_greeting_html__"] == "Dear Reader0,"
    assert body["categories"] == ["2024-06-june-team-update"]
    assert body["tracking_settings"]["click_tracking"]["enable"] is False
    assert body["tracking_settings"]["open_tracking"]["enable"] is False
    assert "asm" not in body and "send_at" not in body
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]


def test_values_are_escaped_per_context(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, [person("amp@example.org", 'Tom & "Jerry" <b>', "Q")])
    run(kit, sendgrid_server)
    subs = sendgrid_server.log.requests[0]["personalizations"][0]["substitutions"]
    assert subs["__nl_greeting_html__"] == "Dear Tom &amp; &quot;Jerry&quot; &lt;b&gt;,"
    assert subs["__nl_greeting_text__"] == 'Dear Tom & "Jerry" <b>,'
    link = subs["__nl_unsubscribe_url_html__"]
    assert link.startswith("https://www.coproductioncollective.co.uk/unsubscribe?token=")
    assert "amp@example.org" not in link


def test_429_waits_for_retry_after(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(10))
    sendgrid_server.fail_next(Fault("429", retry_after="1"))
    waits = Waits()
    result = run(kit, sendgrid_server, waits)
    assert waits == [1.0]
    assert result.outcome == "done" and sendgrid_server.log.answers == [429, 202]
    assert sorted(sendgrid_server.counts.values()) == [1] * 10


def test_429_waits_for_rate_limit_reset(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(10))
    sendgrid_server.fail_next(Fault("429", reset_in=1))
    waits = Waits()
    run(kit, sendgrid_server, waits)
    assert len(waits) == 1 and 0.0 < waits[0] <= 2.0
    assert sendgrid_server.log.answers == [429, 202]


def test_429_without_a_hint_backs_off(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(10))
    sendgrid_server.fail_next("429", "429")
    waits = Waits()
    run(kit, sendgrid_server, waits, backoff=0.1, backoff_cap=0.15)
    assert len(waits) == 2 and 0.05 <= waits[0] <= 0.1 and 0.075 <= waits[1] <= 0.15
    assert sorted(sendgrid_server.counts.values()) == [1] * 10


def test_5xx_is_retried_with_capped_backoff(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(10))
    sendgrid_server.fail_next("500", "500", "500")
    waits = Waits()
    result = run(kit, sendgrid_server, waits, backoff=0.05, backoff_cap=0.12)
    assert result.outcome == "done"
    assert sendgrid_server.log.answers == [500, 500, 500, 202]
    assert 0.025 <= waits[0] <= 0.05 and 0.05 <= waits[1] <= 0.1 and 0.06 <= waits[2] <= 0.12
    assert states(kit) == {"accepted": 10}


def test_connection_refused_is_retried_until_the_server_is_up(project: Path) -> None:
    kit = make_kit(project, people(10))
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    servers: list[SendGridServer] = []
    waits = Waits()

    def start_later() -> None:  # once the first try was refused (however long start-up took)
        deadline = time.monotonic() + 30
        while not waits and time.monotonic() < deadline:
            time.sleep(0.02)
        servers.append(SendGridServer(port=port).__enter__())

    threading.Thread(target=start_later).start()
    host = SendGridServer.__new__(SendGridServer)
    host.url = f"http://127.0.0.1:{port}"
    try:
        result = run(kit, host, waits, backoff=0.2, backoff_cap=0.3, retries=8)
    finally:
        time.sleep(0.5)
        for s in servers:
            s.__exit__()
    assert result.outcome == "done" and len(waits) >= 1
    assert sorted(servers[0].counts.values()) == [1] * 10


@pytest.mark.parametrize("fault", ["stall", "drop"])
def test_no_answer_after_the_body_was_sent_makes_the_batch_unknown(
    project: Path, sendgrid_server: SendGridServer, fault: str
) -> None:
    kit = make_kit(project, people(25))
    sendgrid_server.stall = 2.0
    sendgrid_server.fail_next(fault)
    result = run(kit, sendgrid_server, batch_size=10, timeout=0.5)
    assert states(kit) == {"accepted": 15, "unknown": 10}
    unknown = kit.journal.unknown(kit.send)
    assert {b for _, b, _ in unknown} == {1}
    assert "after the request was sent" in unknown[0][2]
    assert result.failed_requests == 1
    again = run(kit, sendgrid_server)  # resuming never resends unknown rows by itself
    assert again.requests == 0
    assert max(sendgrid_server.counts.values()) == 1


@pytest.mark.slow  # a crash drill (kill -9)
def test_a_request_process_that_dies_leaves_its_batch_unknown_and_the_rest_go_on(
    project: Path, sendgrid_server: SendGridServer, posting: str
) -> None:
    if posting != "background":
        pytest.skip("only a send with a request process has one to lose")
    kit = make_kit(project, people(25))
    sendgrid_server.fail_next("stall")
    provider = SendGridProvider(KEY, kit.settings.delivery.sendgrid, host=sendgrid_server.url, background=True)
    poster = provider._poster
    assert poster is not None
    # the first request stalls at the server: the process posting it is killed once the
    # server has it (seen from the server's log, with a deadline)
    sendgrid_server.stall = 30.0
    done = threading.Event()

    def kill_when_received() -> None:
        deadline = time.monotonic() + 60
        while not sendgrid_server.log.times and not done.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        if sendgrid_server.log.times:
            os.kill(poster._proc.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_received, daemon=True)
    killer.start()
    try:
        result = deliver(
            kit.journal,
            kit.send,
            kit.message,
            provider,
            kit.maker(),
            kit.delivery(batch_size=10),
            source=kit.source(),
            sleep=Waits(),
        )
    finally:
        done.set()
        killer.join()
        provider.close()
    kit.refresh()
    assert states(kit) == {"accepted": 15, "unknown": 10}
    unknown = kit.journal.unknown(kit.send)
    assert {b for _, b, _ in unknown} == {1}
    assert "request process stopped" in unknown[0][2]
    assert result.failed_requests == 1
    assert max(sendgrid_server.counts.values()) == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("400", "The from email does not contain a valid address."),
        ("401", "The provided authorization grant is invalid"),
        ("403", "verified Sender Identity"),
        ("413", "Payload Too Large"),
    ],
)
def test_refusals_stop_with_sendgrids_message_and_lose_nothing(
    project: Path, sendgrid_server: SendGridServer, fault: str, words: str
) -> None:
    kit = make_kit(project, people(30))
    sendgrid_server.fail_next(fault)
    result = run(kit, sendgrid_server, batch_size=10)
    assert result.outcome == "stopped" and words in result.message and f"({fault})" in result.message
    # the refused batch, and with a request process the one read while it was out;
    # the rest were not read yet
    assert states(kit) == {"pending": 20 if BACKGROUND[0] else 10}
    assert sendgrid_server.log.accepted == []
    result = run(kit, sendgrid_server, batch_size=10)
    assert result.outcome == "done" and sorted(sendgrid_server.counts.values()) == [1] * 30


def test_too_many_failures_pause_the_run(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(50))
    sendgrid_server.fail_next(*["500"] * 6)
    result = run(kit, sendgrid_server, batch_size=10, retries=1, backoff=0.01, max_failed_requests=3)
    assert result.outcome == "paused" and "3 requests failed" in result.message
    assert sendgrid_server.log.accepted == []
    # three refused batches (and with a request process the one read meanwhile); the rest were not read yet
    assert states(kit) == {"pending": 40 if BACKGROUND[0] else 30}
    result = run(kit, sendgrid_server, batch_size=10)
    assert result.outcome == "done" and sorted(sendgrid_server.counts.values()) == [1] * 50


def test_rate_cap_limits_the_batch_size(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(120))
    began = time.monotonic()  # the server notes arrivals on the same clock
    run(kit, sendgrid_server, rate=50.0, batch_size=1000)
    sizes = [n for _, n in sendgrid_server.log.times]
    assert sizes == [50, 50, 20]
    times = [t for t, _ in sendgrid_server.log.times]
    # handed over at 0, 1 and 2 s into the run: the last cannot arrive sooner, and the
    # second and third (after the first, whose start is first written to disk) stay apart
    assert times[-1] - began >= 2.0 and times[2] - times[1] >= 0.5


def test_rate_cap_paces_small_batches(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(100))
    began = time.monotonic()  # the server notes arrivals on the same clock
    run(kit, sendgrid_server, rate=200.0, batch_size=20)
    sent = 0
    for t, n in sendgrid_server.log.times:
        # counted from the run's start, arrivals are never ahead of the cap by more than one
        # batch (a request that reaches the server late only falls further behind it)
        assert sent <= 200 * (t - began) + 20
        sent += n
    times = [t for t, _ in sendgrid_server.log.times]
    assert times[-1] - began >= (100 - 20) / 200
    assert times[-1] - times[1] >= 0.1  # handed over 0.3 s apart; without the cap, milliseconds


def test_sandbox_mode_delivers_nothing(project: Path, sendgrid_server: SendGridServer) -> None:
    kit = make_kit(project, people(20))
    result = run(kit, sendgrid_server, sandbox=True)
    assert result.outcome == "done" and sendgrid_server.log.sandboxed == 1
    assert sendgrid_server.log.answers == [200] and sendgrid_server.log.accepted == []


@pytest.mark.parametrize("name", ["Eve\r\nBcc: all@example.org", "Eve\x00"])
def test_header_injection_in_a_name_is_refused_before_anything_is_sent(
    project: Path, sendgrid_server: SendGridServer, name: str
) -> None:
    kit = make_kit(project, [*people(3), person("eve@example.org", name, "X", line=9)])
    with pytest.raises(InputError) as info:
        run(kit, sendgrid_server)
    text = str(info.value)
    assert "list.csv:9" in text and "first_name" in text and ("CR" in text or "NUL" in text)
    assert sendgrid_server.log.times == []
    assert sum(kit.journal.counts(kit.send).values()) == 0


def test_everything_is_committed_when_the_send_returns(project: Path, sendgrid_server: SendGridServer) -> None:
    """A batch's answer may share its commit with the next batch's start; the last one
    is committed too: another connection sees every recipient accepted."""
    kit = make_kit(project, people(25))
    result = run(kit, sendgrid_server, batch_size=10)
    assert result.outcome == "done"
    other = Journal(kit.journal.path)
    try:
        assert {k: v for k, v in other.counts(kit.send).items() if v} == {"accepted": 25}
    finally:
        other.close()
