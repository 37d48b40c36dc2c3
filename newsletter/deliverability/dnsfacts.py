"""DNS facts about a sending domain, each look-up bounded.

Every look-up goes to the resolver of :mod:`newsletter.resolver` with a timeout, and
all of one diagnosis share a deadline: when the resolver does not answer, the rest is
not asked (:class:`DnsUnavailable`), so a machine without DNS waits seconds, not minutes.
A DNS answer is bounded by the protocol (64 KB over TCP).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any

QUERY_TIMEOUT = 3.0
"""Seconds for one look-up."""
DEADLINE = 12.0
"""Seconds for all the look-ups of one diagnosis."""
SPF_LOOKUP_LIMIT = 10
"""RFC 7208 4.6.4: more DNS-querying terms than this is a permanent error."""


class DnsUnavailable(Exception):
    """The resolver gave no answer (timeout, refused, none configured)."""


class Lookup:
    """TXT, CNAME and address look-ups with one deadline; NXDOMAIN and "no data" are empty answers."""

    def __init__(self, resolver: Any, deadline: float = DEADLINE) -> None:
        self.resolver = resolver
        self.ends = time.monotonic() + deadline
        self.count = 0

    def _ask(self, name: str, rtype: str) -> list[Any]:
        import dns.exception
        import dns.resolver

        left = self.ends - time.monotonic()
        if left <= 0:
            raise DnsUnavailable("the DNS look-ups took longer than their deadline")
        self.count += 1
        try:
            answer = self.resolver.resolve(name, rtype, lifetime=min(QUERY_TIMEOUT, left), search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.resolver.NoNameservers as exc:
            raise DnsUnavailable(f"no DNS server answered for {name} ({exc.__class__.__name__})") from None
        except dns.exception.Timeout:
            raise DnsUnavailable(f"the DNS server did not answer within {QUERY_TIMEOUT:.0f} s") from None
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(f"DNS look-up of {name} failed: {exc}") from None
        except OSError as exc:
            raise DnsUnavailable(f"DNS look-up of {name} failed: {exc}") from None
        return list(answer)

    def txt(self, name: str) -> list[str]:
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._ask(name, "TXT")]

    def cname(self, name: str) -> str | None:
        found = self._ask(name, "CNAME")
        return str(found[0].target).rstrip(".").lower() if found else None

    def addresses(self, name: str) -> list[str]:
        return [r.address for r in self._ask(name, "A")] + [r.address for r in self._ask(name, "AAAA")]

    def mx(self, name: str) -> list[str]:
        return [str(r.exchange).rstrip(".") for r in self._ask(name, "MX")]


def spf_records(txts: list[str]) -> list[str]:
    """The SPF records among a name's TXT records (``v=spf1`` then a space or the end)."""
    return [t for t in txts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


@dataclass
class SpfCover:
    """Whether an SPF record lets the provider send: through ``include:<want_include>`` or
    by naming one of ``want_ips`` (directly, through ``a``, ``mx``, includes or a redirect)."""

    covered: bool = False
    lookups: int = 0
    problems: list[str] = field(default_factory=list)


def spf_covers(
    lookup: Lookup, domain: str, record: str, *, want_include: str | None, want_ips: frozenset[str] = frozenset()
) -> SpfCover:
    out = SpfCover()
    ips = [ipaddress.ip_address(ip) for ip in want_ips]
    _walk(lookup, domain, record, want_include, ips, out, depth=0)
    if out.lookups > SPF_LOOKUP_LIMIT:
        out.problems.append(
            f"it needs {out.lookups} DNS look-ups; receivers stop at {SPF_LOOKUP_LIMIT} and then treat SPF as failed (permerror)"
        )
    return out


def _walk(lookup: Lookup, domain: str, record: str, want: str | None, ips: list[Any], out: SpfCover, depth: int) -> None:
    if depth > SPF_LOOKUP_LIMIT or out.covered:
        return
    redirect = None
    for term in record.split()[1:]:
        mech = term.lstrip("+-~?").lower()
        qualifier_passes = not term.startswith(("-", "~", "?"))
        name, _, rest = mech.partition(":")
        name, _, cidr = name.partition("/")
        if mech.startswith("redirect="):
            redirect = mech.split("=", 1)[1]
            continue
        if name in ("include", "a", "mx", "ptr", "exists"):
            out.lookups += 1
        if not qualifier_passes:
            continue
        if name == "include" and rest:
            target, _, _ = rest.partition("/")
            if want and (target == want or target.endswith("." + want)):
                out.covered = True
                return
            inner = spf_records(lookup.txt(target))
            if len(inner) == 1:
                _walk(lookup, target, inner[0], want, ips, out, depth + 1)
        elif name in ("ip4", "ip6") and rest and ips:
            try:
                net = ipaddress.ip_network(rest, strict=False)
            except ValueError:
                out.problems.append(f"'{term}' is not a valid network")
                continue
            if any(ip.version == net.version and ip in net for ip in ips):
                out.covered = True
                return
        elif name in ("a", "mx") and ips:
            host = (rest.partition("/")[0] if rest else "") or domain
            hosts = [host] if name == "a" else lookup.mx(host)
            found = {ipaddress.ip_address(a) for h in hosts for a in lookup.addresses(h)}
            if found & set(ips):
                out.covered = True
                return
        if out.covered:
            return
    if redirect:
        out.lookups += 1
        inner = spf_records(lookup.txt(redirect))
        if len(inner) == 1:
            _walk(lookup, redirect, inner[0], want, ips, out, depth + 1)


def dmarc_records(txts: list[str]) -> list[str]:
    return [t for t in txts if t.replace(" ", "").lower().startswith("v=dmarc1")]


def dmarc_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags[key.strip().lower()] = value.strip()
    return tags


def organisational_domain(domain: str) -> str:
    """The registrable domain (``news.example.org`` → ``example.org``), from the Public Suffix List."""
    from publicsuffixlist import PublicSuffixList

    return str(_psl(PublicSuffixList).privatesuffix(domain) or domain)


_PSL: list[Any] = []


def _psl(cls: Any) -> Any:
    if not _PSL:
        _PSL.append(cls())
    return _PSL[0]
