"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can misbehave."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HOLD_DEADLINE = 60.0
"""The longest a held message waits for its release (seconds)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Recorder:
    """aiosmtpd handler: keeps (mail_from, rcpt_tos, content) of every accepted message."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    """Replies to ``RCPT TO`` for an address, one per try, before it is accepted (a 451 once…)."""
    data_replies: dict[str, list[str]] = field(default_factory=dict)
    """Replies to a message for an address, one per try, before one is accepted."""
    hold: str | None = None
    """An address whose message, once received whole, is answered only after :attr:`release`."""
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    answered_held: threading.Event = field(default_factory=threading.Event)
    """Set once the held message's wait is over (released, or its deadline passed)."""
    accepted: Counter[str] = field(default_factory=Counter)
    """Messages received whole and accepted (or held), by recipient (when kept)."""
    rcpts: Counter[str] = field(default_factory=Counter)
    """Every ``RCPT TO``, by address, whatever the reply (when kept)."""
    keep: bool = True
    """Keep each message and count each address (tests); the benchmark only counts messages."""
    count: int = 0
    drop_after_data: int = 0
    over_tls: int = 0
    """Messages that came over an encrypted connection."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.sessions.add(id(session))
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.keep:
            with self.lock:
                self.rcpts[address] += 1
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        with self.lock:
            queued = self.rcpt_replies.get(address)
            if queued:
                return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            queued = [reply for r in envelope.rcpt_tos if (reply := self.data_replies.get(r))]
            if queued:
                return queued[0].pop(0)
            self.count += 1
            self.over_tls += server.transport.get_extra_info("ssl_object") is not None
            if self.keep:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                self.accepted.update(envelope.rcpt_tos)
            drop = self.drop_after_data > 0
            if drop:
                self.drop_after_data -= 1
        if drop:
            server.transport.close()
        if self.hold in envelope.rcpt_tos and not self.release.is_set():  # received whole, not answered yet
            self.holding.set()
            deadline = time.monotonic() + HOLD_DEADLINE
            while not self.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            self.answered_held.set()
        return "250 Message accepted for delivery"


def _login(user: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (user.encode(), password.encode())
        return AuthResult(success=ok, handled=False)

    return check


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem): trusted by a client
    only when it is named in ``SSL_CERT_FILE``."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class SmtpServer:
    """``tls``: None (plain), ``"starttls"`` (required before MAIL and AUTH) or ``"smtps"``
    (TLS from the first byte), with the certificate ``cert`` (cert.pem, key.pem)."""

    def __init__(
        self,
        port: int = 0,
        keep: bool = True,
        login: tuple[str, str] | None = None,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
        smtputf8: bool = True,
    ) -> None:
        self.handler = Recorder(keep=keep)
        self.port = port or free_port()
        self.tls = tls
        options: dict[str, Any] = {}
        if login:  # plain-text AUTH only after STARTTLS, unless the test is on plain loopback
            # (with smtps the connection is encrypted from the first byte, but aiosmtpd only
            # counts STARTTLS as TLS for AUTH: the messages' session.ssl shows it)
            options = {"authenticator": _login(*login), "auth_require_tls": tls == "starttls"}
        if tls is not None:
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            if tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
            else:
                options.update(ssl_context=context)
        options["enable_SMTPUTF8"] = smtputf8  # offered by default, as aiosmtpd's controller does
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "smtps" else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}" + ("?starttls=1" if self.tls == "starttls" else "")

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def main() -> None:
    """Serve until SIGTERM, then print how many messages came (for bench/send.py):
    ``python -m tests.smtp_server PORT``."""
    import signal
    import sys

    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # before the server's threads start
    with SmtpServer(int(sys.argv[1]), keep=False) as server:
        print("ready", flush=True)
        signal.sigwait(stop)
        print(server.handler.count, flush=True)


if __name__ == "__main__":
    main()
