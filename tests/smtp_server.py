"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can misbehave."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller


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
    keep: bool = True
    """Keep each message (tests); the benchmark only counts them."""
    count: int = 0
    drop_after_data: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.lock:
            self.sessions.add(id(session))
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
            if self.keep:
                self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            drop = self.drop_after_data > 0
            if drop:
                self.drop_after_data -= 1
        if drop:
            server.transport.close()
        return "250 Message accepted for delivery"


def _login(user: str, password: str) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (user.encode(), password.encode())
        return AuthResult(success=ok, handled=False)

    return check


class SmtpServer:
    def __init__(self, port: int = 0, keep: bool = True, login: tuple[str, str] | None = None) -> None:
        self.handler = Recorder(keep=keep)
        self.port = port or free_port()
        auth: dict[str, Any] = {}
        if login:  # loopback only, so plain-text AUTH is acceptable here
            auth = {"authenticator": _login(*login), "auth_require_tls": False}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **auth)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

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
