"""``newsletter doctor`` and the send's domain gate: zones served by a DNS server on
127.0.0.1 (dnslib), SendGrid's domain-authentication and verified-sender endpoints
answered by the test server (each request and answer validated against SendGrid's
files), checkdmarc as an independent reading of SPF and DMARC."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliverability.doctor import CACHE_SECONDS, Inputs, cached
from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.dns_server import DnsServer
from tests.sendgrid_feedback import authenticated_domain
from tests.sendgrid_server import KEY, SendGridServer

SENDGRID_SPF = {("sendgrid.net", "TXT"): ['"v=spf1 ip4:167.89.0.0/17 ip4:149.72.0.0/16 ~all"']}
DKIM = {
    ("s1._domainkey.example.org", "CNAME"): ["s1.domainkey.u7.wl.sendgrid.net."],
    ("s2._domainkey.example.org", "CNAME"): ["s2.domainkey.u7.wl.sendgrid.net."],
}
GOOD = {
    ("example.org", "TXT"): ['"v=spf1 include:_spf.example.net include:sendgrid.net ~all"'],
    ("_spf.example.net", "TXT"): ['"v=spf1 ip4:192.0.2.0/24 ~all"'],
    ("_dmarc.example.org", "TXT"): ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.org"'],
    **DKIM,
    **SENDGRID_SPF,
}


def doctor(project: Path, sg: SendGridServer, dns: DnsServer, *args: str) -> CliResult:
    return run_cli(
        "doctor",
        *args,
        cwd=project,
        env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sg.url, "NEWSLETTER_DNS_SERVER": dns.address},
    )


def set_from(project: Path, address: str) -> None:
    path = project / "newsletter.yaml"
    path.write_text(path.read_text().replace("email: news@example.org", f"email: {address}"))


def checkdmarc_reading(server: DnsServer, domain: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """checkdmarc's own SPF and DMARC results for ``domain`` from the same server."""
    import dns.resolver

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dnspython's DSA deprecation, on import
        from checkdmarc import utils
        from checkdmarc.dmarc import check_dmarc
        from checkdmarc.spf import check_spf
    utils.DNS_CACHE.clear()  # its answers are kept per name, whichever server gave them
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port
    return check_spf(domain, resolver=resolver), check_dmarc(domain, resolver=resolver)


@pytest.fixture
def sg() -> Iterator[SendGridServer]:
    with SendGridServer() as server:
        yield server


def test_all_good(project: Path, sg: SendGridServer) -> None:
    with DnsServer(GOOD) as dns:
        r = doctor(project, sg, dns)
        spf, dmarc = checkdmarc_reading(dns, "example.org")
    assert r.code == 0, r.output
    assert "The sending domain is ready." in r.out and "Records to add" not in r.out
    assert "ok       example.org  SPF: v=spf1 include:_spf.example.net include:sendgrid.net ~all" in r.out
    assert "p=reject (failing mail is refused)" in r.out
    assert "SendGrid signs for example.org (authenticated and validated)" in r.out
    assert spf["valid"] and "include:sendgrid.net" in spf["record"]
    assert dmarc["valid"] and dmarc["record"].startswith("v=DMARC1; p=reject")
    assert sg.log.invalid == []
    assert ("GET", "/v3/whitelabel/domains?limit=200") in sg.account.calls


@pytest.mark.parametrize(
    ("case", "changes", "finding", "fragment"),
    [
        (
            "no DMARC",
            {("_dmarc.example.org", "TXT"): None},
            "warning  example.org  DMARC: no DMARC record",
            '_dmarc.example.org.\t3600\tIN\tTXT\t"v=DMARC1; p=none; rua=mailto:hello@example.org"',
        ),
        (
            "two SPF records",
            {("example.org", "TXT"): ['"v=spf1 include:sendgrid.net ~all"', '"v=spf1 ip4:192.0.2.1 -all"']},
            "warning  example.org  SPF: 2 SPF records: receivers treat that as an error (permerror)",
            'example.org.\t3600\tIN\tTXT\t"v=spf1 include:sendgrid.net ip4:192.0.2.1 ~all"',
        ),
        (
            "SPF without SendGrid",
            {("example.org", "TXT"): ['"v=spf1 include:_spf.example.net ~all"']},
            "warning  example.org  SPF: the SPF record does not let SendGrid send",
            'example.org.\t3600\tIN\tTXT\t"v=spf1 include:_spf.example.net include:sendgrid.net ~all"',
        ),
        (
            "no DKIM CNAMEs",
            {("s1._domainkey.example.org", "CNAME"): None, ("s2._domainkey.example.org", "CNAME"): None},
            "warning  example.org  DKIM: SendGrid's DKIM records are missing or wrong",
            "s1._domainkey.example.org.\t3600\tIN\tCNAME\ts1.domainkey.u7.wl.sendgrid.net.\n"
            "s2._domainkey.example.org.\t3600\tIN\tCNAME\ts2.domainkey.u7.wl.sendgrid.net.",
        ),
    ],
)
def test_each_problem_gives_its_finding_and_records(
    project: Path, sg: SendGridServer, case: str, changes: dict[tuple[str, str], Any], finding: str, fragment: str
) -> None:
    served = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            served.pop(key)
        else:
            served[key] = value
    with DnsServer(served) as dns:
        r = doctor(project, sg, dns)
        spf, dmarc = checkdmarc_reading(dns, "example.org")
    assert r.code == 0, r.output  # warnings: a send may go ahead
    assert finding in r.out, r.out
    assert fragment in r.out.split("Records to add", 1)[1], r.out
    assert sg.log.invalid == []
    # checkdmarc reads the same zone the same way
    if case == "no DMARC":
        assert not dmarc["valid"]
    elif case == "two SPF records":
        assert not spf["valid"] and "multiple" in spf["error"].lower()
    elif case == "SPF without SendGrid":
        assert spf["valid"] and "sendgrid.net" not in spf["record"]
    else:
        assert spf["valid"] and dmarc["valid"]


def test_a_from_not_aligned_with_the_authenticated_domain_is_refused(project: Path, sg: SendGridServer) -> None:
    set_from(project, "news@coproduction.example.net")
    served = {**GOOD, ("coproduction.example.net", "TXT"): ['"v=spf1 include:sendgrid.net ~all"']}
    with DnsServer(served) as dns:
        r = doctor(project, sg, dns)
        assert r.code == 1, r.output
        assert "ERROR    coproduction.example.net  alignment: no domain authenticated at SendGrid covers" in r.out
        assert "a real send refuses this From address" in r.out
        send = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--force",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sg.url, "NEWSLETTER_DNS_SERVER": dns.address},
        )
    assert send.code == 2, send.output
    assert "newsletter.yaml: from: no domain authenticated at SendGrid covers coproduction.example.net" in send.err
    assert "nothing was sent" in send.err and "Traceback" not in send.output
    assert sg.log.accepted == []
    assert sg.log.invalid == []


def test_a_domain_authenticated_but_not_validated_shows_sendgrids_reasons(project: Path, sg: SendGridServer) -> None:
    sg.account.domains = [authenticated_domain("example.org", valid=False)]
    with DnsServer(GOOD) as dns:
        r = doctor(project, sg, dns)
    assert r.code == 0, r.output
    assert "example.org is authenticated at SendGrid but not validated" in r.out
    assert 'dkim1: Expected CNAME for "s1._domainkey.example.org"' in r.out
    assert ("POST", "/v3/whitelabel/domains/1/validate") in sg.account.calls
    assert sg.log.invalid == []


def test_a_free_mail_from_is_refused(project: Path, sg: SendGridServer) -> None:
    set_from(project, "coproduction.collective@yahoo.com")
    with DnsServer({**GOOD, ("_dmarc.yahoo.com", "TXT"): ['"v=DMARC1; p=reject;"']}) as dns:
        r = doctor(project, sg, dns)
        assert r.code == 1, r.output
        assert "ERROR    yahoo.com  alignment: coproduction.collective@yahoo.com is a free-mail address" in r.out
        send = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            "--force",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sg.url, "NEWSLETTER_DNS_SERVER": dns.address},
        )
        _, dmarc = checkdmarc_reading(dns, "yahoo.com")
    assert send.code == 2 and "is a free-mail address" in send.err, send.output
    assert sg.log.accepted == []
    assert dmarc["valid"] and dmarc["record"].startswith("v=DMARC1; p=reject")


def test_dns_that_does_not_answer_is_a_warning_not_a_hang(project: Path, sg: SendGridServer) -> None:
    with DnsServer(GOOD) as dns:
        dns.silent = True
        started = time.monotonic()
        send = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--yes",
            cwd=project,
            env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sg.url, "NEWSLETTER_DNS_SERVER": dns.address},
        )
        took = time.monotonic() - started
        assert sum(dns.queries.values()) == 1  # the first silence stops the look-ups
    assert send.code == 0, send.output
    assert "warning: sending domain example.org: DNS: DNS did not answer" in send.err
    assert len(sg.log.accepted) == 5
    assert took < 60  # bounded by the look-up timeout, not the test's own


def test_results_are_kept_for_a_day(project: Path, sg: SendGridServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("SENDGRID_API_HOST", sg.url)
    with DnsServer(GOOD) as dns:
        monkeypatch.setenv("NEWSLETTER_DNS_SERVER", dns.address)
        inputs = Inputs("news@example.org", "hello@example.org", "hello@example.org", "sendgrid")
        first = cached(project, inputs)
        asked = sum(dns.queries.values())
        again = cached(project, inputs, now=time.time() + 3600)
        assert sum(dns.queries.values()) == asked and again.findings == first.findings
        cached(project, inputs, now=time.time() + CACHE_SECONDS + 1)
        assert sum(dns.queries.values()) == 2 * asked
