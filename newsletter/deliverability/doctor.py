"""The sending domain's readiness: findings, the records to add, and the send's gate.

For the From domain (and the Reply-To domain when it differs):

* **SPF**: one ``v=spf1`` record, letting the provider send (``include:sendgrid.net``
  for SendGrid, the SMTP server's addresses for SMTP), within 10 DNS look-ups.
* **DKIM**: SendGrid's ``s1``/``s2._domainkey`` CNAMEs (the ones SendGrid lists for
  the authenticated domain), or the configured selector's key for SMTP.
* **DMARC**: a ``v=DMARC1`` record at ``_dmarc.<domain>`` (or its organisational
  domain), and its policy.
* **Alignment**: with SendGrid, a domain authenticated and validated there covers the
  From domain, the From is not a free-mail domain on SendGrid's DMARC list, and the From
  address is a verified sender when no domain covers it. With SMTP, a DKIM key signs
  for the From domain, or SPF covers the server.

``error`` findings are what mailbox providers reject: a real send refuses them.
Missing SPF or DMARC, and anything that could not be checked, are warnings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from newsletter.deliverability.account import AccountFacts, covering_domain
from newsletter.deliverability.dnsfacts import (
    DnsUnavailable,
    Lookup,
    dmarc_records,
    dmarc_tags,
    organisational_domain,
    spf_covers,
    spf_records,
)
from newsletter.errors import NewsletterError

Level = Literal["error", "warning", "ok", "unknown"]
CACHE_FILE = "doctor.json"
CACHE_SECONDS = 24 * 3600
SENDGRID_SPF = "sendgrid.net"
DKIM_SELECTOR_ENV = "NEWSLETTER_DKIM_SELECTOR"
DKIM_KEY_ENV = "NEWSLETTER_DKIM_KEY"


@dataclass(frozen=True)
class Finding:
    level: Level
    domain: str
    topic: str
    """``SPF``, ``DKIM``, ``DMARC``, ``alignment``, ``DNS`` or ``SendGrid``."""
    message: str
    records: tuple[str, ...] = ()
    """Zone-file lines that fix it."""


@dataclass
class Diagnosis:
    provider: str
    findings: list[Finding] = field(default_factory=list)
    at: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def complete(self) -> bool:
        return not any(f.level == "unknown" for f in self.findings)

    def zone(self) -> str:
        """The records to add, as a zone-file fragment (each once, in order)."""
        lines = list(dict.fromkeys(r for f in self.findings for r in f.records))
        return "\n".join(lines)


class DomainNotReady(NewsletterError):
    """The From domain is one mailbox providers reject: nothing was sent."""

    exit_code = 2


@dataclass
class Inputs:
    """What a diagnosis is made from (and its cache key)."""

    from_email: str
    reply_to_email: str
    contact_email: str
    provider: str
    smtp_host: str | None = None
    dkim_selector: str | None = None
    dns_server: str = ""
    api_host: str = ""

    def key(self) -> str:
        return orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS).decode("ascii")


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower().rstrip(".")


def record(name: str, rtype: str, data: str) -> str:
    """One zone-file line."""
    value = f'"{data}"' if rtype == "TXT" else data
    return f"{name}.\t3600\tIN\t{rtype}\t{value}"


def diagnose(
    inputs: Inputs,
    lookup: Lookup | None,
    account: AccountFacts | None,
    account_problem: str | None = None,
    dns_problem: str | None = None,
) -> Diagnosis:
    """The findings for these inputs from DNS (``lookup``; None when no resolver) and
    SendGrid's answers (``account``; None with ``account_problem`` when it could not be
    asked). Pure but for the look-ups."""
    out = Diagnosis(inputs.provider, at=time.time())
    add = out.findings.append
    domain = _domain(inputs.from_email)
    domains = [domain] + ([d] if (d := _domain(inputs.reply_to_email)) != domain else [])
    dmarc_policy: str | None = None
    dkim_aligned = False
    spf_ok = False
    if lookup is None:
        add(Finding("unknown", domain, "DNS", f"DNS could not be asked: {dns_problem}"))
    else:
        try:
            for d in domains:
                spf_ok = _spf(d, inputs, lookup, add) if d == domain else _spf(d, inputs, lookup, add) or spf_ok
                policy = _dmarc(d, inputs, lookup, add)
                if d == domain:
                    dmarc_policy = policy
            dkim_aligned = _dkim(domain, inputs, lookup, account, add)
        except DnsUnavailable as exc:
            add(Finding("unknown", domain, "DNS", f"DNS did not answer: {exc}; nothing more was looked up"))
    if inputs.provider == "sendgrid":
        _sendgrid_alignment(domain, inputs, account, account_problem, add)
    elif inputs.provider == "smtp":
        _smtp_alignment(domain, inputs, dmarc_policy, dkim_aligned, spf_ok, add)
    return out


def _spf(domain: str, inputs: Inputs, lookup: Lookup, add: Callable[[Finding], None]) -> bool:
    found = spf_records(lookup.txt(domain))
    include = SENDGRID_SPF if inputs.provider == "sendgrid" else None
    ips: frozenset[str] = frozenset()
    if inputs.provider == "smtp" and inputs.smtp_host:
        ips = frozenset([inputs.smtp_host]) if _is_ip(inputs.smtp_host) else frozenset(lookup.addresses(inputs.smtp_host))
    term = "include:sendgrid.net" if include else (f"a:{inputs.smtp_host}" if inputs.smtp_host else "")
    if not found:
        add(
            Finding(
                "warning",
                domain,
                "SPF",
                "no SPF record: receivers cannot tell which servers may send for the domain",
                (record(domain, "TXT", " ".join(filter(None, ["v=spf1", term, "~all"]))),),
            )
        )
        return False
    if len(found) > 1:
        merged = _merge_spf(found, term)
        add(
            Finding(
                "warning",
                domain,
                "SPF",
                f"{len(found)} SPF records: receivers treat that as an error (permerror) and SPF fails; replace them with one",
                (record(domain, "TXT", merged),),
            )
        )
        return False
    if not term:
        add(Finding("ok", domain, "SPF", found[0]))
        return True
    cover = spf_covers(lookup, domain, found[0], want_include=include, want_ips=ips)
    for problem in cover.problems:
        add(Finding("warning", domain, "SPF", f"{found[0]!r}: {problem}"))
    if not cover.covered:
        who = "SendGrid" if include else f"the SMTP server {inputs.smtp_host}"
        add(
            Finding(
                "warning",
                domain,
                "SPF",
                f"the SPF record does not let {who} send: {found[0]!r}",
                (record(domain, "TXT", _merge_spf(found, term)),),
            )
        )
        return False
    add(Finding("ok", domain, "SPF", found[0]))
    return not cover.problems


def _merge_spf(records: list[str], term: str) -> str:
    terms: list[str] = []
    ending = None  # the first record's, as the one most likely meant
    for r in records:
        for t in r.split()[1:]:
            if t.lower().lstrip("+-~?") == "all":
                ending = ending or t
            elif t not in terms:
                terms.append(t)
    if term and term not in terms:
        terms.append(term)
    return " ".join(["v=spf1", *terms, ending or "~all"])


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _dmarc(domain: str, inputs: Inputs, lookup: Lookup, add: Callable[[Finding], None]) -> str | None:
    found = dmarc_records(lookup.txt(f"_dmarc.{domain}"))
    where = domain
    subdomain = False
    if not found:
        org = organisational_domain(domain)
        if org != domain:
            found = dmarc_records(lookup.txt(f"_dmarc.{org}"))
            where, subdomain = org, True
    suggested = record(f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=none; rua=mailto:{inputs.contact_email}")
    if not found:
        add(
            Finding(
                "warning",
                domain,
                "DMARC",
                "no DMARC record: Gmail, Yahoo and Outlook.com require one of "
                "bulk senders (start with p=none to receive reports)",
                (suggested,),
            )
        )
        return None
    if len(found) > 1:
        add(
            Finding(
                "warning",
                domain,
                "DMARC",
                f"{len(found)} DMARC records at _dmarc.{where}: receivers ignore them all; keep one",
                (suggested,),
            )
        )
        return None
    tags = dmarc_tags(found[0])
    policy = (tags["sp"] if subdomain and "sp" in tags else tags.get("p", "")).lower()
    if policy not in ("none", "quarantine", "reject"):
        add(
            Finding(
                "warning",
                domain,
                "DMARC",
                f"the DMARC record at _dmarc.{where} has no valid policy (p=none, quarantine or reject): {found[0]!r}",
                (suggested,),
            )
        )
        return None
    meaning = {
        "none": "monitoring only: failing mail is still delivered",
        "quarantine": "failing mail goes to spam",
        "reject": "failing mail is refused",
    }[policy]
    add(Finding("ok", domain, "DMARC", f"p={policy} ({meaning}) at _dmarc.{where}"))
    return policy


def _dkim(domain: str, inputs: Inputs, lookup: Lookup, account: AccountFacts | None, add: Callable[[Finding], None]) -> bool:
    if inputs.provider == "smtp":
        if not inputs.dkim_selector:
            add(
                Finding(
                    "warning",
                    domain,
                    "DKIM",
                    f"no DKIM key for SMTP ({DKIM_KEY_ENV} and {DKIM_SELECTOR_ENV}): "
                    "messages are signed only if the SMTP server signs them for this domain",
                )
            )
            return False
        name = f"{inputs.dkim_selector}._domainkey.{domain}"
        keys = [t for t in lookup.txt(name) if "p=" in t.replace(" ", "")]
        if not keys:
            add(
                Finding(
                    "warning",
                    domain,
                    "DKIM",
                    f"no DKIM key published at {name}: signatures cannot be checked",
                    (record(name, "TXT", "v=DKIM1; k=rsa; p=<the public key of NEWSLETTER_DKIM_KEY>"),),
                )
            )
            return False
        add(Finding("ok", domain, "DKIM", f"key published at {name}"))
        return True
    expected: list[tuple[str, str]] = []
    covering = covering_domain(account.domains, domain) if account else None
    if covering is not None:
        dns = covering.get("dns") or {}
        expected = [
            (str(dns[k]["host"]).rstrip(".").lower(), str(dns[k]["data"]).rstrip(".").lower())
            for k in ("dkim1", "dkim2")
            if isinstance(dns.get(k), dict) and str(dns[k].get("type", "cname")).lower() == "cname"
        ]
    if not expected:
        expected = [(f"s1._domainkey.{domain}", ""), (f"s2._domainkey.{domain}", "")]
    missing = []
    for host, data in expected:
        target = lookup.cname(host)
        if target is None or (data and target != data):
            missing.append((host, data))
    if missing:
        records = tuple(
            record(h, "CNAME", (d + ".") if d else "<the target SendGrid shows under Sender Authentication>") for h, d in missing
        )
        add(
            Finding(
                "warning",
                domain,
                "DKIM",
                "SendGrid's DKIM records are missing or wrong: " + ", ".join(h for h, _ in missing),
                records,
            )
        )
        return False
    add(Finding("ok", domain, "DKIM", "SendGrid's s1 and s2 DKIM records are in place"))
    return True


def _sendgrid_alignment(
    domain: str, inputs: Inputs, account: AccountFacts | None, problem: str | None, add: Callable[[Finding], None]
) -> None:
    if account is None:
        add(Finding("unknown", domain, "SendGrid", f"SendGrid could not be asked: {problem}"))
        return
    if domain in account.hard_failures or domain in account.soft_failures:
        kind = "refuses" if domain in account.hard_failures else "sends to spam"
        add(
            Finding(
                "error",
                domain,
                "alignment",
                f"{inputs.from_email} is a free-mail address: {domain}'s DMARC "
                f"policy fails mail sent through SendGrid, and the receiver {kind} it; send from your "
                "organisation's own domain (authenticated at SendGrid)",
            )
        )
        return
    covering = covering_domain(account.domains, domain)
    verified = any(
        str(s.get("from_email", "")).lower() == inputs.from_email.lower() and s.get("verified") for s in account.senders
    )
    if covering is None:
        sender = "a verified sender" if verified else "not a verified sender either"
        add(
            Finding(
                "error",
                domain,
                "alignment",
                f"no domain authenticated at SendGrid covers {domain} "
                f"({inputs.from_email} is {sender}): mail would be signed for sendgrid.net, fail DMARC "
                "alignment, and Gmail, Yahoo and Outlook.com (550 5.7.515) refuse or junk it; "
                "authenticate the domain in SendGrid (Settings > Sender Authentication) and add the "
                "three CNAMEs it shows",
            )
        )
        return
    if not covering.get("valid"):
        reasons = []
        for name, result in ((account.validation or {}).get("validation_results") or {}).items():
            if isinstance(result, dict) and not result.get("valid") and result.get("reason"):
                reasons.append(f"{name}: {result['reason']}")
        dns = covering.get("dns") or {}
        records = tuple(
            record(
                str(v["host"]).rstrip("."),
                str(v.get("type", "cname")).upper(),
                str(v["data"]).rstrip(".") + ("." if str(v.get("type", "cname")).lower() == "cname" else ""),
            )
            for v in dns.values()
            if isinstance(v, dict) and not v.get("valid") and v.get("host")
        )
        add(
            Finding(
                "warning",
                domain,
                "alignment",
                f"{covering['domain']} is authenticated at SendGrid but not "
                "validated: SendGrid does not sign with it yet" + (" (" + "; ".join(reasons) + ")" if reasons else ""),
                records,
            )
        )
        return
    add(
        Finding(
            "ok",
            domain,
            "alignment",
            f"SendGrid signs for {covering['domain']} (authenticated and validated)"
            + ("; the From address is a verified sender" if verified else ""),
        )
    )


def _smtp_alignment(
    domain: str, inputs: Inputs, policy: str | None, dkim_aligned: bool, spf_ok: bool, add: Callable[[Finding], None]
) -> None:
    if dkim_aligned or spf_ok:
        add(
            Finding(
                "ok",
                domain,
                "alignment",
                "DKIM signs for the From domain" if dkim_aligned else f"SPF lets {inputs.smtp_host} send for the From domain",
            )
        )
    elif policy in ("quarantine", "reject"):
        add(
            Finding(
                "error",
                domain,
                "alignment",
                f"{domain} publishes DMARC p={policy}, and neither a DKIM key "
                f"of ours nor SPF covers {inputs.smtp_host}: receivers would "
                f"{'refuse' if policy == 'reject' else 'junk'} every message; set {DKIM_KEY_ENV} and "
                f"{DKIM_SELECTOR_ENV}, or send through a server the domain's SPF names",
            )
        )
    else:
        add(
            Finding(
                "warning",
                domain,
                "alignment",
                f"nothing shows mail from {inputs.smtp_host} is aligned with "
                f"{domain} (no DKIM key of ours, SPF does not cover it)",
            )
        )


# --- running it: DNS, SendGrid, the cache ----------------------------------------------------


def inputs_for(settings: Any, provider: str) -> Inputs:
    from newsletter.delivery.api import HOST_ENV
    from newsletter.resolver import ENV

    smtp_host = None
    if provider == "smtp" and os.environ.get("SMTP_URL"):
        from newsletter.delivery.smtp import smtp_url_from_env

        smtp_host = smtp_url_from_env().host
    return Inputs(
        settings.from_.email,
        settings.replies_to.email,
        settings.contact_email,
        provider,
        smtp_host,
        os.environ.get(DKIM_SELECTOR_ENV) or None,
        os.environ.get(ENV, ""),
        os.environ.get(HOST_ENV, ""),
    )


def run(inputs: Inputs) -> Diagnosis:
    """Ask DNS and (for SendGrid) the account, then :func:`diagnose`."""
    from newsletter.deliverability.dnsfacts import QUERY_TIMEOUT
    from newsletter.resolver import make_resolver

    lookup: Lookup | None = None
    dns_problem = None
    try:
        lookup = Lookup(make_resolver("doctor", QUERY_TIMEOUT))
    except NewsletterError as exc:
        dns_problem = exc.message
    account: AccountFacts | None = None
    account_problem = None
    if inputs.provider == "sendgrid":
        from newsletter.deliverability.account import read_account
        from newsletter.feedback.account import SendGridError

        try:
            account = read_account(_domain(inputs.from_email))
        except SendGridError as exc:
            account_problem = exc.message
    return diagnose(inputs, lookup, account, account_problem, dns_problem)


def cached(root: Path, inputs: Inputs, *, fresh: bool = False, now: float | None = None) -> Diagnosis:
    """:func:`run`, or its result of the last day for the same inputs. Only a complete
    diagnosis (everything answered) is kept, in ``.newsletter/doctor.json``."""
    from newsletter.delivery.state import state_dir
    from newsletter.files import write_file

    now = time.time() if now is None else now
    path = state_dir(root) / CACHE_FILE
    key = inputs.key()
    store: dict[str, Any] = {}
    try:
        store = orjson.loads(path.read_bytes()) if path.is_file() and path.stat().st_size < 1_000_000 else {}
    except (OSError, orjson.JSONDecodeError):
        store = {}
    entry = store.get(key) if isinstance(store, dict) else None
    if not fresh and isinstance(entry, dict) and now - float(entry.get("at", 0)) < CACHE_SECONDS:
        try:
            findings = [Finding(**{**f, "records": tuple(f["records"])}) for f in entry["findings"]]
            return Diagnosis(entry["provider"], findings, float(entry["at"]))
        except (KeyError, TypeError):
            pass
    result = run(inputs)
    store = {
        k: v
        for k, v in (store if isinstance(store, dict) else {}).items()
        if isinstance(v, dict) and now - float(v.get("at", 0)) < CACHE_SECONDS
    }
    store.pop(key, None)
    if result.complete:
        store[key] = {
            "provider": result.provider,
            "at": result.at,
            "findings": [{**asdict(f), "records": list(f.records)} for f in result.findings],
        }
    write_file(path, orjson.dumps(store, option=orjson.OPT_SORT_KEYS))
    return result


def before_send(root: Path, settings: Any, provider: str) -> list[str]:
    """The gate of a real send: raises :class:`DomainNotReady` (with the fix) for a From
    that mailbox providers reject; returns the warning lines to show otherwise."""
    if provider not in ("sendgrid", "smtp"):
        return []
    diagnosis = cached(root, inputs_for(settings, provider))
    if diagnosis.errors:
        lines = [f"newsletter.yaml: from: {f.message}" for f in diagnosis.errors]
        zone = diagnosis.zone()
        if zone:
            lines.append("records to add to the domain's DNS:\n" + zone)
        lines.append("nothing was sent; run newsletter doctor to see every finding")
        raise DomainNotReady("\n".join(lines))
    return [f"sending domain {f.domain}: {f.topic}: {f.message}" for f in diagnosis.findings if f.level in ("warning", "unknown")]
