"""A DNS server on 127.0.0.1 (dnslib) answering from a zone held in memory.

``zone`` maps (name, type) to record data in zone-file syntax, e.g.
``("example.org", "TXT"): ['"v=spf1 include:sendgrid.net ~all"']``; other names
are NXDOMAIN, other types of a known name an empty answer. ``silent`` makes it drop
queries (a resolver that never answers). Queries are counted.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter

from dnslib import QTYPE, RCODE, RR, DNSRecord


class DnsServer:
    def __init__(self, zone: dict[tuple[str, str], list[str]] | None = None) -> None:
        self.zone = {(n.lower().rstrip("."), t.upper()): v for (n, t), v in (zone or {}).items()}
        self.silent = False
        self.queries: Counter[tuple[str, str]] = Counter()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                query = DNSRecord.parse(data)
            except Exception:  # noqa: BLE001 - a malformed packet is ignored, as a server would
                continue
            name = str(query.q.qname).lower().rstrip(".")
            rtype = QTYPE[query.q.qtype]
            self.queries[(name, rtype)] += 1
            if self.silent:
                continue
            reply = query.reply()
            names = {n for n, _ in self.zone}
            if name not in names:
                reply.header.rcode = RCODE.NXDOMAIN
            for data_text in self.zone.get((name, rtype), []):
                reply.add_answer(*RR.fromZone(f"{name}. 300 IN {rtype} {data_text}"))
            self.sock.sendto(reply.pack(), peer)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> DnsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
