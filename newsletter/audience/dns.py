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
from newsletter.resolver import ENV, make_resolver

DNS_TIMEOUT = 5.0
"""Seconds to wait for one answer."""


@lru_cache(maxsize=1)
def resolver() -> Any:
    if not os.environ.get(ENV, "").strip():
        import dns.resolver
        from email_validator import caching_resolver

        try:
            return caching_resolver(timeout=int(DNS_TIMEOUT))
        except dns.resolver.NoResolverConfiguration:
            raise UsageError(f"--check-dns: this machine has no DNS resolver set up; set {ENV}") from None
    return make_resolver("--check-dns", DNS_TIMEOUT)
