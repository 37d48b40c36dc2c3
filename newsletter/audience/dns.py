"""The DNS resolver used by ``--check-dns`` (only then is dnspython imported).

By default it is the system's resolver (``/etc/resolv.conf``). ``NEWSLETTER_DNS_SERVER``
(``host`` or ``host:port``) points it at another server, e.g. a company resolver or a
test server on 127.0.0.1.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

DNS_TIMEOUT = 5.0
"""Seconds to wait for one answer."""


@lru_cache(maxsize=1)
def resolver() -> Any:
    import dns.resolver
    from email_validator import caching_resolver

    server = os.environ.get("NEWSLETTER_DNS_SERVER", "").strip()
    if not server:
        return caching_resolver(timeout=int(DNS_TIMEOUT))
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [host]
    if port:
        res.port = int(port)
    res.lifetime = DNS_TIMEOUT
    res.cache = dns.resolver.LRUCache()
    return res
