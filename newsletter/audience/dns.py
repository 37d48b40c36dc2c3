"""The DNS resolver used by ``--check-dns`` (only then is dnspython imported).

By default it is the system's resolver (``/etc/resolv.conf``). ``NEWSLETTER_DNS_SERVER``
(``host`` or ``host:port``) points it at another server, e.g. a company resolver or a
test server on 127.0.0.1.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from newsletter.errors import UsageError

DNS_TIMEOUT = 5.0
"""Seconds to wait for one answer."""


@lru_cache(maxsize=1)
def resolver() -> Any:
    import dns.resolver
    from email_validator import caching_resolver

    server = os.environ.get("NEWSLETTER_DNS_SERVER", "").strip()
    if not server:
        try:
            return caching_resolver(timeout=int(DNS_TIMEOUT))
        except dns.resolver.NoResolverConfiguration:
            raise UsageError("--check-dns: this machine has no DNS resolver set up; set NEWSLETTER_DNS_SERVER") from None
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    if port and not port.isdigit():
        raise UsageError(f"NEWSLETTER_DNS_SERVER={server!r}: the port must be a number (host or host:port)")
    res = dns.resolver.Resolver(configure=False)
    try:
        res.nameservers = [host]
    except ValueError:
        raise UsageError(f"NEWSLETTER_DNS_SERVER={server!r}: not an IP address (host or host:port)") from None
    if port:
        res.port = int(port)
    res.lifetime = DNS_TIMEOUT
    res.cache = dns.resolver.LRUCache()
    return res
