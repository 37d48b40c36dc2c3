"""DKIM for the SMTP path: messages signed with the key from the environment (dkimpy),
covering the one-click unsubscribe headers (RFC 8058), verified with the public key
served by a DNS server on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import dkim
import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.dns_server import DnsServer
from tests.smtp_server import SmtpServer


def _key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(
        "ascii"
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(public).decode("ascii")


def _txt(value: str) -> str:
    return " ".join(f'"{value[i : i + 200]}"' for i in range(0, len(value), 200))


def _dnsfunc(server: DnsServer) -> Callable[[bytes, int], bytes]:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        answer = resolver.resolve(name.decode("ascii"), "TXT", lifetime=timeout)
        return b"".join(b"".join(r.strings) for r in answer)

    return lookup


def test_smtp_messages_are_signed_and_verify(project: Path) -> None:
    pem, public = _key()
    with (
        DnsServer({("news2024._domainkey.example.org", "TXT"): [_txt(f"v=DKIM1; k=rsa; p={public}")]}) as names,
        SmtpServer() as server,
    ):
        r = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "smtp",
            cwd=project,
            env={
                "SMTP_URL": server.url,
                "NEWSLETTER_DKIM_KEY": pem,
                "NEWSLETTER_DKIM_SELECTOR": "news2024",
                "NEWSLETTER_DNS_SERVER": names.address,
            },
        )
        assert r.code == 0, r.output
        assert "DKIM" not in r.err  # the doctor finds the key published
        assert len(server.handler.messages) == 5
        lookup = _dnsfunc(names)
        for _, _, raw in server.handler.messages:
            assert raw.startswith(b"DKIM-Signature: ")
            head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
            signed = head.split(b" h=", 1)[1].split(b";", 1)[0].replace(b" ", b"").lower().split(b":")
            assert b"list-unsubscribe" in signed and b"list-unsubscribe-post" in signed and b"from" in signed
            assert b"d=example.org" in head and b"s=news2024" in head
            assert dkim.verify(raw, dnsfunc=lookup)
            tampered = raw.replace(b"List-Unsubscribe: <https://", b"List-Unsubscribe: <http://", 1)
            assert not dkim.verify(tampered, dnsfunc=lookup)


def test_a_bad_key_is_refused_before_anything_is_sent(project: Path) -> None:
    with SmtpServer() as server:
        r = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "smtp",
            cwd=project,
            env={
                "SMTP_URL": server.url,
                "NEWSLETTER_DKIM_KEY": "-----BEGIN PRIVATE KEY-----\nnot a key\n",
                "NEWSLETTER_DKIM_SELECTOR": "news2024",
            },
        )
        assert r.code == 2, r.output
        assert "NEWSLETTER_DKIM_KEY is not an RSA or Ed25519 private key in PEM form" in r.err
        assert "not a key" not in r.output and "Traceback" not in r.output
        assert server.handler.messages == []
        half = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--provider",
            "smtp",
            cwd=project,
            env={"SMTP_URL": server.url, "NEWSLETTER_DKIM_SELECTOR": "news2024"},
        )
        assert half.code == 2 and "NEWSLETTER_DKIM_KEY is not set" in half.err
