"""What a send promises, each shown against real servers on loopback: any address the list
accepts is sent or refused with a reason, one header builder, one connection per send,
no credential ever follows a redirect, and the safety rails (the dry run, the refused-share
pause, the one-send lock, the test send's token) each fail a test when removed."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
import threading
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.delivery.base import Recipient
from newsletter.delivery.headers import ascii_address, clean_name, encoded_mailbox, quoted_name
from newsletter.delivery.mime import MimeBuilder
from newsletter.delivery.state import load_secret, unsubscribe_token
from tests.conftest import EXAMPLE_ISSUE, REPO, run_cli
from tests.delivery_kit import make_kit
from tests.sendgrid_server import KEY, SendGridServer
from tests.smtp_server import SmtpServer, make_certificate

ISSUE_SLUG = "2024-06-june-team-update"


def write_list(project: Path, rows: list[tuple[str, str, str]]) -> None:
    lines = ["email,first_name,last_name,status"]
    for address, first, last in rows:
        lines.append(f'{address},"{first}","{last}",subscribed')
    (project / "subscribers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def sendgrid_env(server: SendGridServer, **more: str) -> dict[str, str]:
    return {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url, **more}


# -- any address the list accepts ----------------------------------------------------------


@pytest.mark.parametrize("smtputf8", [False, True])
def test_idn_and_non_ascii_local_parts_over_smtp(project: Path, smtputf8: bool) -> None:
    write_list(project, [("reader@bücher.de", "Rea", "Der"), ("jöe@bücher.de", "Jö", "E"), ("plain@example.org", "Plain", "P")])
    with SmtpServer(smtputf8=smtputf8) as server:
        result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        got = {rcpts[0]: raw for _, rcpts, raw in server.handler.messages}
    assert "Traceback" not in result.output
    assert "reader@xn--bcher-kva.de" in got and "plain@example.org" in got
    to = email.message_from_bytes(got["reader@xn--bcher-kva.de"], policy=email.policy.default)["To"]
    assert to.addresses[0].addr_spec == "reader@xn--bcher-kva.de" and to.addresses[0].display_name == "Rea Der"
    if smtputf8:
        assert result.code == 0, result.output
        assert "jöe@xn--bcher-kva.de" in got
    else:
        assert result.code == 1 and "1 recipient(s) failed" in result.err, result.output
        assert len(got) == 2
        run_cli("report", EXAMPLE_ISSUE, cwd=project)
        report = (project / "unsent.csv").read_text(encoding="utf-8")
        assert "jöe@bücher.de,failed," in report and "SMTPUTF8" in report


def test_idn_in_the_outbox_never_crashes(project: Path) -> None:
    write_list(project, [("reader@bücher.de", "Rea", "Der"), ("jöe@bücher.de", "Jö", "E")])
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0 and "Traceback" not in result.output, result.output
    files = sorted((project / "outbox" / ISSUE_SLUG).glob("*.eml"))
    assert len(files) == 2
    tos = [str(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"]) for f in files]
    assert any("reader@xn--bcher-kva.de" in t for t in tos) and any("jöe@xn--bcher-kva.de" in t for t in tos)
    assert all(oct(f.stat().st_mode & 0o777) == "0o600" for f in files)  # names and addresses: owner only


def test_sendgrid_gets_ascii_domains_and_never_a_local_part_it_would_drop(project: Path, sendgrid_server: SendGridServer) -> None:
    write_list(project, [("reader@bücher.de", "Smith, Jo", "X"), ("jöe@bücher.de", "Jö", "E")])
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", cwd=project, env=sendgrid_env(sendgrid_server))
    assert result.code == 1 and "1 recipient(s) failed" in result.err, result.output
    assert sendgrid_server.log.accepted == ["reader@xn--bcher-kva.de"]
    [person] = sendgrid_server.log.requests[0]["personalizations"]
    assert person["to"] == [{"email": "reader@xn--bcher-kva.de", "name": '"Smith, Jo X"'}]
    run_cli("report", EXAMPLE_ISSUE, cwd=project)
    report = (project / "unsent.csv").read_text(encoding="utf-8")
    assert "jöe@bücher.de,failed," in report and "non-ASCII characters before the @" in report


# -- one header builder --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Smith, Jo", 'Jo "the" Smith', "Jo; Smith", "Jo\x1b[31m\x00Smith", "Ünïcødé " * 25, "x" * 200])
def test_names_are_cleaned_quoted_and_folded(project: Path, name: str) -> None:
    kit = make_kit(project, [])
    recipient = Recipient(
        1,
        "reader@example.org",
        name,
        {"unsubscribe_url": "https://example.org/u?t=x", "first_name": "R", "last_name": "", "email": "reader@example.org"},
        "tok",
    )
    raw = MimeBuilder(kit.message).build(recipient)
    head = raw.split(b"\r\n\r\n", 1)[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    [to] = msg["To"].addresses
    assert to.addr_spec == "reader@example.org"
    # decoded the RFC 2047 way (the email package's own parser trips on a character split
    # across two encoded words, which RFC 2047 allows and mail programs join)
    raw_to = email.message_from_bytes(raw, policy=email.policy.compat32)["To"]
    decoded = " ".join(str(make_header(decode_header(raw_to.replace("\r\n", "")))).split())
    expected = clean_name(name)
    assert decoded in (
        f"{expected} <reader@example.org>",
        f'"{expected}" <reader@example.org>',
        f'"{expected.replace(chr(34), chr(92) + chr(34))}" <reader@example.org>',
    ), decoded
    assert b"\x1b" not in head and b"\x00" not in head
    for line in head.split(b"\r\n"):
        assert len(line) <= 998
        if b"=?utf-8?" in line:
            assert len(line) <= 78, line


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(st.characters(exclude_categories=["Cs"]), max_size=120),
    local=st.from_regex(r"[a-z0-9._-]{1,20}", fullmatch=True),
)
def test_header_lines_keep_rfc_5322_lengths(project: Path, name: str, local: str) -> None:
    """Whatever the name: one To header, no control character, encoded lines folded to 78."""
    address = f"{local.strip('.') or 'x'}@example.org"
    line = encoded_mailbox(name, address)
    from newsletter.delivery.headers import header_line

    folded = header_line("To", line)
    assert folded.endswith(b"\r\n")
    for part in folded[:-2].split(b"\r\n"):
        assert len(part) <= 998
        assert not any(b < 32 and b != 9 for b in part)
        if b"=?utf-8?" in part and b" " in part.strip():
            assert len(part) <= 78
    parsed = email.message_from_bytes(folded + b"\r\n", policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == address


def test_sendgrid_names_with_commas_or_semicolons_are_quoted() -> None:
    assert quoted_name("Smith, Jo") == '"Smith, Jo"'
    assert quoted_name('Jo; "Smithy"') == '"Jo; \\"Smithy\\""'
    assert quoted_name("Jo Smith") == "Jo Smith"
    assert quoted_name("Jo\x00\x1bSmith") == "JoSmith"
    assert ascii_address("a@bücher.de") == "a@xn--bcher-kva.de"


def test_the_preview_shows_the_headers_the_send_builds(project: Path) -> None:
    """The preview's Headers tab is made by the same builder: the mailto part included."""
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + "delivery:\n  list_unsubscribe_mailto: unsub@example.org\n")
    from newsletter.preview.site import Site
    from newsletter.preview.views import issue

    snapshot = Site(project).rebuild()
    build = next(b for b in snapshot.issues if b.slug == ISSUE_SLUG)
    headers = dict(issue(snapshot, build, "")["email"]["headers"])
    assert headers["List-Unsubscribe"].endswith(", <mailto:unsub@example.org?subject=unsubscribe>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# -- one connection per send, no credential follows a redirect ------------------------------------


def test_one_tls_connection_for_every_request_of_a_send(project: Path, tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    rows = [(f"r{i:04d}@example.org", f"R{i}", "T") for i in range(2500)]
    write_list(project, rows)
    with SendGridServer(cert=cert) as server:
        assert server.url.startswith("https://")
        # --no-sync: the list's sync with SendGrid (its own few calls, through the official
        # client) is not part of the mail-send path counted here; nor is the domain check,
        # whose answers `doctor` leaves in the day's cache for the send to use
        env = sendgrid_env(server, SSL_CERT_FILE=str(cert[0]))
        assert run_cli("doctor", cwd=project, env=env).code == 0
        before = server.log.connections
        result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env)
        assert result.code == 0, result.output
        assert len(server.log.times) == 3 and len(server.log.accepted) == 2500
        assert server.log.connections - before == 1  # one handshake for three requests


def test_an_untrusted_certificate_stops_the_send_with_nothing_sent(project: Path, tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    with SendGridServer(cert=cert) as server:
        result = run_cli(
            "send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=sendgrid_env(server)
        )
        synced = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", cwd=project, env=sendgrid_env(server))
    assert result.code == 1 and "not trusted" in result.err and "Traceback" not in result.output
    assert synced.code == 2 and "CERTIFICATE_VERIFY_FAILED" in synced.err and "Traceback" not in synced.output
    assert server.log.times == []


class _Listener:
    """A second host that logs every request's headers (a credential must never arrive here)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                outer.seen.append(dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Redirector:
    def __init__(self, status: int, target: str) -> None:
        outer = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                outer.hits += 1
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(status)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("sync", ["--no-sync", "sync first"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirecting_api_host_gets_nothing_counted_and_never_forwards_the_key(project: Path, status: int, sync: str) -> None:
    other = _Listener()
    redirector = _Redirector(status, other.url)
    try:
        flags = ["--no-sync"] if sync == "--no-sync" else []
        result = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            *flags,
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": redirector.url},
        )
        assert result.code in (1, 2) and "redirect" in result.err and "not followed" in result.err, result.output
        assert "Traceback" not in result.output
        assert other.seen == []  # the key never reached the second host, nor did anything else
        status_out = " ".join(run_cli("status", EXAMPLE_ISSUE, cwd=project).out.split())
        assert "Finished" not in result.out
        assert "accepted 0" in status_out or "not sent yet" in status_out  # nobody counted as sent
    finally:
        redirector.close()
        other.close()


def test_the_official_client_for_other_api_calls_never_follows_a_redirect() -> None:
    from python_http_client import exceptions

    from newsletter.delivery.api import client, parse_api_host

    other = _Listener()
    redirector = _Redirector(302, other.url)
    try:
        sg = client(KEY, parse_api_host(redirector.url))
        with pytest.raises(exceptions.HTTPError):
            sg.client.suppression.bounces.get()
        assert redirector.hits == 1 and other.seen == []
    finally:
        redirector.close()
        other.close()


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("api.eu.sendgrid.com", "must start with https://"),
        ("ftp://api.sendgrid.com", "must start with https://"),
        ("https://api.sendgrid.com/v3", "only the scheme and host"),
        ("http://api.sendgrid.com", "unencrypted"),
        ("http://localhost.evil.example", "unencrypted"),  # only this machine's own names are exempt
        ("http://127.0.0.1.evil.example", "unencrypted"),
        ("https://", "must start with https://"),
    ],
)
def test_a_bad_api_host_is_refused_before_anything(project: Path, host: str, words: str) -> None:
    result = run_cli(
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--provider",
        "sendgrid",
        cwd=project,
        env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": host},
    )
    assert result.code == 2 and words in result.err and "Traceback" not in result.output, result.output
    assert KEY not in result.output
    assert not (project / ".newsletter" / "journal.sqlite3").exists()


def test_an_smtp_password_is_never_sent_in_clear_unless_asked(project: Path) -> None:
    result = run_cli(
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--provider",
        "smtp",
        cwd=project,
        env={"SMTP_URL": "smtp://user:s3cret@mail.example.org:587"},
    )
    assert result.code == 2 and "in clear" in result.err and "s3cret" not in result.output
    from newsletter.delivery.smtp import parse_smtp_url

    assert parse_smtp_url("smtp://user:pw@mail.example.org:587?insecure=1").password == "pw"
    assert parse_smtp_url("smtp://user:pw@mail.example.org:587?starttls=1").starttls
    assert parse_smtp_url("smtp://user:pw@127.0.0.1:2525").password == "pw"  # never leaves the machine


# -- the safety rails, each of which a planted fault removed ------------------------------------


def test_a_dry_run_never_connects_to_the_provider(project: Path, sendgrid_server: SendGridServer) -> None:
    result = run_cli("send", EXAMPLE_ISSUE, "--dry-run", "--provider", "sendgrid", cwd=project, env=sendgrid_env(sendgrid_server))
    assert result.code == 0, result.output
    assert sendgrid_server.log.connections == 0  # not a request, not even a connection
    assert not (project / "outbox").exists() and not (project / ".newsletter" / "journal.sqlite3").exists()


def test_more_than_the_allowed_share_refused_pauses_the_send(project: Path) -> None:
    rows = [(f"r{i:04d}@example.org", f"R{i}", "T") for i in range(300)]
    write_list(project, rows)
    with SmtpServer() as server:
        server.handler.refuse = {f"r{i:04d}@example.org" for i in range(0, 300, 10)}  # 10% > 5%
        result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        delivered = server.handler.count
    assert result.code == 1 and "paused" in result.err and "were refused" in result.err, result.output
    assert delivered < 270  # it stopped before sending on to everyone
    status = " ".join(run_cli("status", EXAMPLE_ISSUE, cwd=project).out.split())
    assert "not finished" in status and "accepted 90 failed 10" in status


def test_only_one_send_of_a_project_runs_at_a_time(project: Path) -> None:
    """The first send holds the lock while its request is held by the server (until told):
    decided from state, never from a delay."""
    settings = project / "newsletter.yaml"  # the held request must not time out however loaded the machine
    settings.write_text(settings.read_text(encoding="utf-8") + "delivery:\n  sendgrid:\n    timeout: 300\n", encoding="utf-8")
    with SendGridServer() as server:
        server.fail_next("hold")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
        env.update(PYTHONPATH=str(REPO), **sendgrid_env(server))
        first = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", EXAMPLE_ISSUE, "--yes"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        try:
            import time

            end = time.monotonic() + 60
            while not server.holding.wait(0.05):  # the first send is mid-request, holding the lock
                assert time.monotonic() < end and first.poll() is None, "the first send never started"
            second = run_cli("send", EXAMPLE_ISSUE, "--yes", cwd=project, env=sendgrid_env(server))
            assert second.code == 2 and "another `newsletter send` of this project is running" in second.err
        finally:
            server.release.set()
            first.communicate(timeout=60)
        assert first.returncode == 0
        assert sorted(server.counts.values()) == [1] * 5


def test_a_test_send_carries_the_test_address_token(project: Path, sendgrid_server: SendGridServer) -> None:
    result = run_cli(
        "send",
        EXAMPLE_ISSUE,
        "--test-to",
        "editor@example.com",
        "--as",
        "chloe.martin@example.org",
        cwd=project,
        env=sendgrid_env(sendgrid_server),
    )
    assert result.code == 0, result.output
    [person] = sendgrid_server.log.requests[0]["personalizations"]
    secret = load_secret(project)
    mine, hers = unsubscribe_token(secret, "editor@example.com"), unsubscribe_token(secret, "chloe.martin@example.org")
    blob = json.dumps(person)
    assert mine in person["headers"]["List-Unsubscribe"] and mine in blob
    assert hers not in blob  # unsubscribing from the test never unsubscribes the reader it imitates


class _Garbage:
    """A host that reads the request and answers bytes that are not HTTP."""

    def __init__(self, answer: bytes) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests = 0
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
                )
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                if b"POST /v3/mail/send" in head:
                    self.requests += 1
                conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("answer", [b"garbage\r\n\r\n", b"HTTP/1.1 2O2 Accepted\r\n\r\n", b"\x00\xff" * 100])
def test_a_garbage_answer_is_never_taken_for_a_delivery(project: Path, answer: bytes) -> None:
    """The request went out and what came back is not HTTP: unknown, reported, never resent by
    itself and never counted as accepted."""
    host = _Garbage(answer)
    try:
        env = {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": host.url}
        result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env)
        assert result.code == 1 and "Traceback" not in result.output, result.output
        assert "'unknown'" in result.err and "Finished" not in result.out
        again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env)
        assert again.code == 1 and host.requests == 1  # asked, not resent
        status = " ".join(run_cli("status", EXAMPLE_ISSUE, cwd=project).out.split())
        assert "accepted 0" in status and "unknown 5" in status
    finally:
        host.close()
