"""The SMTP path against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.delivery.run import RunResult, deliver
from newsletter.delivery.smtp import SmtpProvider, parse_smtp_url
from newsletter.delivery.state import load_secret, unsubscribe_token
from newsletter.errors import UsageError
from tests.delivery_kit import Kit, make_kit, people, person
from tests.smtp_server import SmtpServer, make_certificate


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def run(kit: Kit, server: SmtpServer, connections: int = 3, **changes: object) -> RunResult:
    settings = kit.delivery(**changes)
    options = settings.smtp.model_copy(update={"connections": connections, "timeout": 5.0})
    provider = SmtpProvider(parse_smtp_url(server.url), options)
    try:
        result = deliver(
            kit.journal, kit.send, kit.message, provider, kit.maker(), settings, source=kit.source(), sleep=lambda s: None
        )
        kit.refresh()
        return result
    finally:
        provider.close()


def states(kit: Kit) -> dict[str, int]:
    return {k: v for k, v in kit.journal.counts(kit.send).items() if v}


def test_multipart_alternative_with_one_click_unsubscribe(project: Path, smtp_server: SmtpServer) -> None:
    kit = make_kit(project, [person("chloe@example.org", "Chloé", "Martin & Co")])
    result = run(kit, smtp_server)
    assert result.outcome == "done" and states(kit) == {"accepted": 1}
    [(mail_from, rcpts, raw)] = smtp_server.handler.messages
    assert mail_from == "news@example.org" and rcpts == ["chloe@example.org"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    [to] = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Chloé Martin & Co", "chloe@example.org")
    assert str(msg["From"]) == "Co-Production Collective <news@example.org>"
    assert str(msg["Reply-To"]) == "Co-Production Collective team <hello@example.org>"
    assert str(msg["Subject"]) == "June Team Update: Building on meaningful conversations"
    assert msg["Date"] and msg["Message-ID"].endswith("@example.org>")
    unsub = str(msg["List-Unsubscribe"])
    assert unsub.startswith("<https://www.coproductioncollective.co.uk/unsubscribe?token=") and "chloe" not in unsub
    assert str(msg["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    text, html = (part for part in msg.iter_parts())
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert "Dear Chloé," in text.get_content()
    assert "Chlo&eacute;" in html.get_content() or "Chloé" in html.get_content()
    token = unsub[len("<https://www.coproductioncollective.co.uk/unsubscribe?token=") : -1]
    assert token in html.get_content() and token in text.get_content()
    assert "__nl_" not in text.get_content() + html.get_content()
    assert token == unsubscribe_token(load_secret(kit.root), "chloe@example.org")


def test_connections_are_reused(project: Path, smtp_server: SmtpServer) -> None:
    kit = make_kit(project, people(60))
    run(kit, smtp_server, connections=3, batch_size=20)
    assert len(smtp_server.handler.messages) == 60
    assert len(smtp_server.handler.sessions) <= 3
    assert Counter(r[0] for _, r, _ in smtp_server.handler.messages) == Counter(p.email for p in people(60))


def test_a_refused_address_fails_and_the_rest_go(project: Path, smtp_server: SmtpServer) -> None:
    kit = make_kit(project, people(10))
    smtp_server.handler.refuse.add("reader000003@example.org")
    run(kit, smtp_server)
    assert states(kit) == {"accepted": 9, "failed": 1}
    [(addr, state, reason)] = list(kit.journal.not_accepted(kit.send))
    assert addr == "reader000003@example.org" and state == "failed" and "550" in reason


def test_connection_lost_after_the_data_makes_only_that_message_unknown(project: Path, smtp_server: SmtpServer) -> None:
    kit = make_kit(project, people(12))
    smtp_server.handler.drop_after_data = 1
    result = run(kit, smtp_server, connections=1)
    assert states(kit) == {"accepted": 11, "unknown": 1}
    assert result.failed_requests == 1
    received = Counter(r[0] for _, r, _ in smtp_server.handler.messages)
    assert len(received) == 12 and max(received.values()) == 1  # nobody got it twice


@pytest.mark.parametrize("url", ["http://host", "smtp://", "smtp://host:notaport", "not a url"])
def test_bad_smtp_url_is_a_usage_error_without_echoing_it(url: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_smtp_url(url.replace("host", "user:s3cret@host"))
    assert "s3cret" not in str(info.value)


def test_smtp_url_parts() -> None:
    url = parse_smtp_url("smtp://me%40x.org:p%40ss@mail.example.org:587?starttls=1")
    assert (url.host, url.port, url.user, url.password, url.starttls, url.tls) == (
        "mail.example.org",
        587,
        "me@x.org",
        "p@ss",
        True,
        False,
    )
    assert "p@ss" not in repr(url)


def test_login_and_a_refused_login(project: Path) -> None:
    with SmtpServer(login=("editor", "s3cret pass")) as server:
        kit = make_kit(project, people(5))
        options = kit.settings.delivery.smtp.model_copy(update={"connections": 2, "timeout": 5.0})
        bad = SmtpProvider(parse_smtp_url(f"smtp://editor:wrong@127.0.0.1:{server.port}"), options)
        try:
            result = deliver(
                kit.journal,
                kit.send,
                kit.message,
                bad,
                kit.maker(),
                kit.settings.delivery,
                source=kit.source(),
                sleep=lambda s: None,
            )
        finally:
            bad.close()
        assert result.outcome == "stopped" and "refused the login" in result.message
        assert server.handler.messages == []
        kit.refresh()
        good = SmtpProvider(parse_smtp_url(f"smtp://editor:s3cret%20pass@127.0.0.1:{server.port}"), options)
        try:
            result = deliver(
                kit.journal,
                kit.send,
                kit.message,
                good,
                kit.maker(),
                kit.settings.delivery,
                source=kit.source(),
                sleep=lambda s: None,
            )
        finally:
            good.close()
        assert result.outcome == "done" and len(server.handler.messages) == 5


def _send_over(kit: Kit, url: str) -> RunResult:
    options = kit.settings.delivery.smtp.model_copy(update={"connections": 2, "timeout": 5.0})
    provider = SmtpProvider(parse_smtp_url(url), options)
    try:
        return deliver(
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


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_tls_with_a_login_that_only_goes_over_tls(
    project: Path, certificate: tuple[Path, Path], tls: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """STARTTLS (``?starttls=1``) and smtps://: the certificate is verified, the login and
    every message go over the encrypted connection (the server refuses AUTH before TLS)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's own certificate
    with SmtpServer(login=("editor", "s3cret"), tls=tls, cert=certificate) as server:
        kit = make_kit(project, people(6))
        scheme, rest = server.url.split("://")
        result = _send_over(kit, f"{scheme}://editor:s3cret@{rest}")
        assert result.outcome == "done" and states(kit) == {"accepted": 6}
        assert server.handler.count == 6 and server.handler.over_tls == 6


def test_an_untrusted_certificate_stops_the_send_before_anything_is_sent(
    project: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's CAs do not know the test's
    with SmtpServer(login=("editor", "s3cret"), tls="starttls", cert=certificate) as server:
        kit = make_kit(project, people(3))
        result = _send_over(kit, f"smtp://editor:s3cret@127.0.0.1:{server.port}?starttls=1")
        assert result.outcome == "stopped" and "certificate is not trusted" in result.message
        assert server.handler.count == 0 and states(kit) == {"pending": 3}


def test_starttls_asked_for_but_not_offered_stops_the_send(project: Path, smtp_server: SmtpServer) -> None:
    kit = make_kit(project, people(3))
    result = _send_over(kit, f"smtp://127.0.0.1:{smtp_server.port}?starttls=1")
    assert result.outcome == "stopped" and "STARTTLS extension not supported" in result.message
    assert smtp_server.handler.count == 0 and states(kit) == {"pending": 3}


def test_a_login_the_server_cannot_take_stops_the_send(project: Path, smtp_server: SmtpServer) -> None:
    kit = make_kit(project, people(2))
    result = _send_over(kit, f"smtp://editor:s3cret@127.0.0.1:{smtp_server.port}")
    assert result.outcome == "stopped" and "AUTH extension not supported" in result.message
    assert smtp_server.handler.count == 0 and states(kit) == {"pending": 2}
