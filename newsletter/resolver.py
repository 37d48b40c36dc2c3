"""The DNS resolver of every DNS look-up the tool makes (``subscribers --check-dns``,
``doctor`` and the send's domain check); dnspython is imported only when one is made.

By default it is the system's resolver (``/etc/resolv.conf``). ``NEWSLETTER_DNS_SERVER``
(``host`` or ``host:port``) points it at another server, e.g. a company resolver or a
test server on 127.0.0.1.
"""

from __future__ import annotations

import os
from typing import Any

from newsletter.errors import UsageError

ENV = "NEWSLETTER_DNS_SERVER"


def make_resolver(purpose: str, timeout: float) -> Any:
    """A ``dns.resolver.Resolver`` that gives up on one look-up after ``timeout`` seconds
    (``purpose`` names the command in messages)."""
    import dns.resolver

    server = os.environ.get(ENV, "").strip()
    if not server:
        try:
            res = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise UsageError(f"{purpose}: this machine has no DNS resolver set up; set {ENV}") from None
    else:
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        if port and not port.isdigit():
            raise UsageError(f"{ENV}={server!r}: the port must be a number (host or host:port)")
        res = dns.resolver.Resolver(configure=False)
        try:
            res.nameservers = [host]
        except ValueError:
            raise UsageError(f"{ENV}={server!r}: not an IP address (host or host:port)") from None
        if port:
            res.port = int(port)
    res.lifetime = timeout
    res.timeout = timeout
    res.cache = dns.resolver.LRUCache()
    return res
