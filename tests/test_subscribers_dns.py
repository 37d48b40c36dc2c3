"""``--check-dns``: domains looked up through a real DNS server on 127.0.0.1 (dnspython's
wire format), one look-up per domain, undeliverable domains reported at their lines."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from tests.conftest import run_cli

ZONE = {
    ("mail-ok.example.org.", "MX"): "10 mx.mail-ok.example.org.",
    ("null-mx.example.org.", "MX"): "0 .",
    ("a-only.example.org.", "A"): "93.184.215.14",
}
NAMES = {name for name, _ in ZONE}


class LoopbackDns:
    """Answers from ZONE over UDP; NXDOMAIN for names it does not know."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries: Counter[tuple[str, str]] = Counter()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name, rtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            self.queries[(name, rtype)] += 1
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.AA
            if name not in NAMES:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rtype) in ZONE:
                reply.answer.append(dns.rrset.from_text(name, 300, "IN", rtype, ZONE[(name, rtype)]))
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dns_server() -> Iterator[LoopbackDns]:
    server = LoopbackDns()
    yield server
    server.close()


def test_check_dns_reports_undeliverable_domains(tmp_path: Path, dns_server: LoopbackDns) -> None:
    lines = ["email,status"]
    lines += [f"person{i}@mail-ok.example.org,subscribed" for i in range(30)]
    lines += ["x@nowhere.example.org,subscribed", "y@null-mx.example.org,", "z@a-only.example.org,"]
    (tmp_path / "subscribers.csv").write_text("\n".join(lines) + "\n")
    env = {"NEWSLETTER_DNS_SERVER": f"127.0.0.1:{dns_server.port}"}

    plain = run_cli("subscribers", "check", cwd=tmp_path, env=env)
    assert plain.code == 0, plain.output
    assert not dns_server.queries  # no DNS unless asked

    r = run_cli("subscribers", "check", "--check-dns", cwd=tmp_path, env=env)
    assert r.code == 1, r.output
    assert (
        "subscribers.csv:32: email: 'x@nowhere.example.org': the domain cannot receive email: "
        "The domain name nowhere.example.org does not exist." in r.out
    )
    assert (
        "subscribers.csv:33: email: 'y@null-mx.example.org': the domain cannot receive email: "
        "The domain name null-mx.example.org does not accept email." in r.out
    )
    assert "subscribers.csv: 33 rows, 2 invalid, 0 duplicates, 31 eligible" in r.out
    assert dns_server.queries[("mail-ok.example.org.", "MX")] == 1  # one look-up for 30 addresses

    s = run_cli("subscribers", "stats", "--check-dns", "--format", "json", cwd=tmp_path, env=env)
    assert s.code == 0 and '"invalid": 2' in s.out


def test_a_bad_dns_server_setting_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "subscribers.csv").write_text("email\nx@example.org\n")
    r = run_cli("subscribers", "check", "--check-dns", cwd=tmp_path, env={"NEWSLETTER_DNS_SERVER": "127.0.0.1:dns"})
    assert r.code == 2 and "NEWSLETTER_DNS_SERVER='127.0.0.1:dns': the port must be a number" in r.err
    assert "Traceback" not in r.output
