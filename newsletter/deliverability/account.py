"""What the SendGrid account says about the sending domain and address.

Read through the official client and :func:`newsletter.feedback.account.call` (bounded:
a timeout per request, no redirect followed, SendGrid's own words in errors):

* ``GET /v3/whitelabel/domains``: the domains authenticated with SendGrid, each with the
  DNS records it expects (``dns.mail_cname``, ``dkim1``, ``dkim2``) and ``valid``;
* ``POST /v3/whitelabel/domains/{id}/validate``: SendGrid checks the records again, with
  a reason for each that is wrong (asked only for a domain that is not valid yet);
* ``GET /v3/verified_senders``: single senders and whether each is verified;
* ``GET /v3/verified_senders/domains``: free-mail domains whose DMARC policy makes a
  From address there fail (``hard_failures``) or be junked (``soft_failures``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOMAIN_LIMIT = 200
"""Authenticated domains read (one page): an account has a handful."""
SENDER_LIMIT = 100


@dataclass
class AccountFacts:
    domains: list[dict[str, Any]] = field(default_factory=list)
    validation: dict[str, Any] | None = None
    """SendGrid's validation of the domain that covers the From, when it was not valid."""
    senders: list[dict[str, Any]] = field(default_factory=list)
    hard_failures: set[str] = field(default_factory=set)
    soft_failures: set[str] = field(default_factory=set)


def covering_domain(domains: list[dict[str, Any]], domain: str) -> dict[str, Any] | None:
    """The authenticated domain the From domain aligns with (the same, or a parent:
    DMARC's relaxed alignment), valid ones first."""
    domain = domain.lower()
    matches = [
        d
        for d in domains
        if isinstance(d.get("domain"), str) and (domain == d["domain"].lower() or domain.endswith("." + d["domain"].lower()))
    ]
    matches.sort(key=lambda d: (not d.get("valid"), -len(d["domain"])))
    return matches[0] if matches else None


def read_account(from_domain: str) -> AccountFacts:
    """Ask SendGrid; raises :class:`~newsletter.feedback.account.SendGridError`."""
    from newsletter.feedback.account import TIMEOUT, call, client

    sg = client(TIMEOUT)
    facts = AccountFacts()
    domains = call(
        "reading SendGrid's authenticated domains", lambda: sg.client.whitelabel.domains.get(query_params={"limit": DOMAIN_LIMIT})
    )
    facts.domains = [d for d in (domains or []) if isinstance(d, dict)]
    found = covering_domain(facts.domains, from_domain)
    if found is not None and not found.get("valid") and isinstance(found.get("id"), (int, float)):
        domain_id = int(found["id"])
        facts.validation = call(
            f"asking SendGrid to validate {found['domain']}", lambda: sg.client.whitelabel.domains._(domain_id).validate.post()
        )
    senders = call(
        "reading SendGrid's verified senders", lambda: sg.client.verified_senders.get(query_params={"limit": SENDER_LIMIT})
    )
    facts.senders = [s for s in ((senders or {}).get("results") or []) if isinstance(s, dict)]
    free = call("reading SendGrid's free-mail domains", lambda: sg.client.verified_senders.domains.get())
    results = (free or {}).get("results") or {}
    facts.hard_failures = {str(d).lower() for d in results.get("hard_failures") or []}
    facts.soft_failures = {str(d).lower() for d in results.get("soft_failures") or []}
    return facts
