"""A SendGrid-compatible ``/v3/mail/send`` server on 127.0.0.1 for tests and benchmarks.

It checks the key, validates every request body against SendGrid's own schema
(``components.requestBodies.PostMailSend`` of ``tests/data/tsg_mail_v3.json``, a copy
of ``shared/sendgrid/tsg_mail_v3.json``) and records the accepted personalisations.
It can be told to misbehave for the next requests: answer 429 (with or without
``Retry-After`` or ``X-RateLimit-Reset``), 500, 400, 401, 413, stall past the
client's timeout, or drop the connection after reading the body.

The other endpoints the tool uses (suppression lists, unsubscribe groups, batch ids,
scheduled sends, category statistics) are answered from ``server.account``
(:mod:`tests.sendgrid_feedback`), each request and answer validated against SendGrid's
OpenAPI files in ``tests/data/``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
import orjson

from tests.sendgrid_feedback import Account, FeedbackApi

SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "tsg_mail_v3.json"
KEY = "SG.test-key.server"
_BREAK = re.compile(r"[\r\n\x00]")


def _validator() -> Any:
    from jsonschema import Draft7Validator, FormatChecker

    doc = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    body = doc["components"]["requestBodies"]["PostMailSend"]["content"]["application/json"]["schema"]
    schema = {**body, "components": doc["components"]}  # so "#/components/..." refs resolve
    return Draft7Validator(schema, format_checker=FormatChecker())


def check_body(body: Any, validator: Any = None) -> list[str]:
    """Schema errors plus the rules SendGrid applies beyond its schema."""
    errors: list[str] = []
    for err in (validator or _validator()).iter_errors(body):
        where = ".".join(str(p) for p in err.absolute_path)
        errors.append(f"{where}: {err.message}"[:300])
    if not isinstance(body, dict):
        return errors or ["body is not an object"]
    people = body.get("personalizations") or []
    if not people:
        errors.append("personalizations: at least one is required")
    if not body.get("content") and not body.get("template_id"):
        errors.append("content: required without a template")
    for i, p in enumerate(people if isinstance(people, list) else []):
        headers = p.get("headers", {}) if isinstance(p, dict) else {}
        for name, value in headers.items():
            if not isinstance(value, str) or _BREAK.search(value):
                errors.append(f"personalizations.{i}.headers.{name}: invalid header value")
    send_at = body.get("send_at")
    if isinstance(send_at, int) and send_at > time.time() + 72 * 3600:
        errors.append("send_at: cannot be more than 72 hours in the future")
    for i, p in enumerate(people if isinstance(people, list) else []):  # a personalisation's own time too
        own = p.get("send_at") if isinstance(p, dict) else None
        if isinstance(own, int) and own > time.time() + 72 * 3600:
            errors.append(f"personalizations.{i}.send_at: cannot be more than 72 hours in the future")
    return errors


class _LeanTo(msgspec.Struct):
    email: str


class _LeanPersonalization(msgspec.Struct):
    to: list[_LeanTo]


class _LeanSandbox(msgspec.Struct):
    enable: bool = False


class _LeanSettings(msgspec.Struct):
    sandbox_mode: _LeanSandbox = msgspec.field(default_factory=_LeanSandbox)


class _LeanBody(msgspec.Struct):
    """What the server counts of a mail send it neither validates nor keeps."""

    personalizations: list[_LeanPersonalization]
    batch_id: str | None = None
    mail_settings: _LeanSettings | None = None


_LEAN = msgspec.json.Decoder(_LeanBody)


def _addresses(people: Any) -> list[str]:
    if people and isinstance(people[0], _LeanPersonalization):
        return [t.email for p in people for t in p.to]
    return [t["email"] for p in people for t in p["to"]]


@dataclass
class Fault:
    """What to do with one request instead of accepting it."""

    kind: str  # ok | 429 | 500 | 400 | 401 | 403 | 413 | stall | drop | hang (never processed nor answered) | hold (answer once released)
    retry_after: str | None = None
    reset_in: float | None = None
    message: str = ""


@dataclass
class Log:
    accepted: list[str] = field(default_factory=list)
    """Every accepted recipient address, in order (one entry per acceptance)."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of accepted requests (when ``keep_bodies``)."""
    times: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, personalisations) of each request received."""
    sandboxed: int = 0
    answers: list[int] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    connections: int = 0
    """Connections accepted (TCP, and TLS when the server has a certificate)."""


class SendGridServer:
    """Run with ``with SendGridServer() as server:``; ``server.url`` is the API host."""

    def __init__(
        self,
        *,
        key: str = KEY,
        validate: str = "all",
        keep_bodies: bool = True,
        delay: float = 0.0,
        port: int = 0,
        stall: float = 3.0,
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        self.key = key
        self.validate = validate  # all | first | none
        self.keep_bodies = keep_bodies
        self.delay = delay
        self.stall = stall
        self.faults: deque[Fault] = deque()
        self.released = threading.Event()
        """Set to end every ``hang`` (else each lasts ``stall`` seconds)."""
        self.release = threading.Event()
        """Set it to let a request held by a ``hold`` fault be answered."""
        self.holding = threading.Event()
        """Set while a ``hold`` fault holds a request (it has been read whole)."""
        self.log = Log()
        self.lock = threading.Lock()
        self._validator = _validator() if validate != "none" else None
        self._validated = 0
        self.account = Account()
        self.api = FeedbackApi(self.account, self.log.invalid, self.lock, validate)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        scheme = "http"
        if cert is not None:  # TLS with a test certificate (trusted by clients via SSL_CERT_FILE)
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*cert)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.log.accepted)

    def fail_next(self, *faults: Fault | str) -> None:
        for f in faults:
            self.faults.append(Fault(f) if isinstance(f, str) else f)

    def __enter__(self) -> SendGridServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- request handling ------------------------------------------------------------

    def lean(self) -> bool:
        """Whether the next mail send's body is neither validated nor kept: then only what
        the server counts is decoded from it (:data:`_LEAN`; the JSON is still checked whole),
        which keeps the benchmark's stand-in for SendGrid from taking a third of the CPU."""
        return not self.keep_bodies and (self._validator is None or (self.validate == "first" and self._validated > 0))

    def errors_in(self, body: Any) -> list[str]:
        """Every request is checked (with ``validate="first"``, the benchmark's, only the first)."""
        if self._validator is None or (self.validate == "first" and self._validated > 0):
            return []
        self._validated += 1
        return check_body(body, self._validator)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                with server.lock:
                    server.log.connections += 1
                super().setup()

            def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                with server.lock:
                    server.log.answers.append(status)
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None) -> None:
                body = orjson.dumps({"errors": [{"message": message, "field": field, "help": None}]})
                self._answer(status, body, headers)

            def _authorized(self) -> bool:
                """Log the key the request carried; answer 401 (and say False) if it is not the server's."""
                auth = self.headers.get("Authorization", "")
                with server.lock:
                    server.log.auth_headers.append(auth)
                if auth != f"Bearer {server.key}":
                    self._error(401, "The provided authorization grant is invalid, expired, or revoked")
                    return False
                return True

            def _feedback(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                raw = self.rfile.read(length) if length else b""
                if not self._authorized():
                    return
                status, body, headers = server.api.handle(method, self.path, self.headers, raw)
                with server.lock:
                    server.log.answers.append(status)
                self.send_response(status)
                headers.setdefault("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PATCH(self) -> None:
                self._feedback("PATCH")

            def do_DELETE(self) -> None:
                self._feedback("DELETE")

            def do_GET(self) -> None:
                if self.path.startswith("/v3/"):
                    self._feedback("GET")
                    return
                with server.lock:
                    counts = server.counts
                    stats = {
                        "accepted": len(server.log.accepted),
                        "unique": len(counts),
                        "connections": server.log.connections,
                        "max_per_address": max(counts.values(), default=0),
                        "requests": len(server.log.times),
                        "invalid": len(server.log.invalid),
                    }
                self._answer(200, orjson.dumps(stats))

            def do_POST(self) -> None:
                if self.path != "/v3/mail/send":
                    self._feedback("POST")
                    return
                self._logging = True
                server.account.logs.receiving()
                try:
                    self._mail_send()
                except OSError:  # the client went away (killed mid-request): nothing to answer
                    self.close_connection = True
                finally:
                    self._logged()

            def _logged(self) -> None:
                """The mail send is logged or refused: the Email Logs are caught up with it."""
                if self._logging:
                    self._logging = False
                    server.account.logs.received()

            def _mail_send(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if not self._authorized():
                    return
                body: Any
                people: list[Any]
                if server.lean():
                    try:
                        lean = _LEAN.decode(raw)
                    except msgspec.DecodeError as exc:  # ValidationError too: not what SendGrid takes
                        self._error(400, f"Bad Request: {exc}")
                        return
                    body = {
                        "batch_id": lean.batch_id,
                        "mail_settings": {
                            "sandbox_mode": {"enable": bool(lean.mail_settings and lean.mail_settings.sandbox_mode.enable)}
                        },
                    }
                    people = lean.personalizations
                else:
                    try:
                        body = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        self._error(400, "Bad Request: body is not JSON")
                        return
                    people = body.get("personalizations", []) if isinstance(body, dict) else []
                with server.lock:
                    server.log.times.append((time.monotonic(), len(people)))
                    fault = server.faults.popleft() if server.faults else None
                if fault is not None and fault.kind == "ok":
                    fault = None
                if server.delay:
                    time.sleep(server.delay)
                if fault is not None and fault.kind == "hang":  # had the body, never processes it
                    self._logged()
                    server.released.wait(server.stall)
                    self.close_connection = True
                    return
                if fault is not None and fault.kind == "hold":
                    server.holding.set()
                    server.release.wait(120)
                    fault = None
                if fault is not None and fault.kind not in ("stall", "drop"):
                    self._fault(fault)
                    return
                errors = server.errors_in(body)
                batch_id = body.get("batch_id") if isinstance(body, dict) else None
                if batch_id is not None and batch_id not in server.account.batches:
                    errors = [*errors, "batch_id: not a batch id of this account"]
                if errors:
                    with server.lock:
                        server.log.invalid.extend(errors)
                    self._error(400, errors[0])
                    return
                sandbox = body.get("mail_settings", {}).get("sandbox_mode", {}).get("enable")
                message_id = ""
                with server.lock:
                    if sandbox:
                        server.log.sandboxed += 1
                    else:
                        server.log.accepted.extend(_addresses(people))
                        if server.keep_bodies:
                            server.log.requests.append(body)
                if server.keep_bodies and not sandbox:  # SendGrid's Email Logs (not kept by the benchmark)
                    message_id = server.account.logs.accept(body, time.time())
                self._logged()
                if fault is not None and fault.kind == "drop":
                    self.close_connection = True
                    self.request.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None and fault.kind == "stall":
                    server.released.wait(server.stall)
                try:
                    self._answer(200 if sandbox else 202, headers={"X-Message-Id": message_id} if message_id else None)
                except OSError:
                    pass

            def _fault(self, fault: Fault) -> None:
                if fault.kind == "429":
                    headers: dict[str, str] = {}
                    if fault.retry_after is not None:
                        headers["Retry-After"] = fault.retry_after
                    if fault.reset_in is not None:
                        headers["X-RateLimit-Reset"] = str(int(time.time() + fault.reset_in + 0.999))
                    self._error(429, fault.message or "too many requests", headers=headers)
                elif fault.kind == "500":
                    self._error(500, fault.message or "internal server error")
                elif fault.kind == "413":
                    self._error(413, fault.message or "Payload Too Large")
                elif fault.kind == "403":
                    self._error(403, fault.message or "The from address does not match a verified Sender Identity.", "from")
                elif fault.kind == "401":
                    self._error(401, fault.message or "The provided authorization grant is invalid, expired, or revoked")
                else:
                    self._error(400, fault.message or "The from email does not contain a valid address.", "from.email")

        return Handler


def main() -> None:
    """Serve until killed (for bench/send.py):
    ``python -m tests.sendgrid_server PORT [all|first|none] [CERT.pem KEY.pem]``."""
    import sys

    port = int(sys.argv[1])
    validate = sys.argv[2] if len(sys.argv) > 2 else "first"
    cert = (Path(sys.argv[3]), Path(sys.argv[4])) if len(sys.argv) > 4 else None
    server = SendGridServer(port=port, validate=validate, keep_bodies=False, cert=cert)
    server.httpd.serve_forever(0.05)


if __name__ == "__main__":
    main()
