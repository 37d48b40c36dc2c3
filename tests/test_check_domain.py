"""``check --online``'s sending-domain rules: the doctor's findings as check findings,
at the From address in newsletter.yaml (zones on a loopback DNS server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE
from tests.dns_server import DnsServer
from tests.sendgrid_server import KEY, SendGridServer
from tests.test_doctor import GOOD, set_from


@pytest.fixture
def sg() -> Iterator[SendGridServer]:
    with SendGridServer() as server:
        yield server


def test_check_online_has_the_same_rules(project: Path, sg: SendGridServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.checks.context import build_context
    from newsletter.checks.online import sending_domain
    from newsletter.project import open_issue

    set_from(project, "coproduction.collective@yahoo.com")
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("SENDGRID_API_HOST", sg.url)
    with DnsServer(GOOD) as dns:
        monkeypatch.setenv("NEWSLETTER_DNS_SERVER", dns.address)
        loaded, issue_file, rendered = open_issue(project / EXAMPLE_ISSUE)
        found = list(sending_domain(build_context(loaded, issue_file, rendered, None)))
    refused = [f for f in found if f.rule == "domain-refused"]
    assert len(refused) == 1 and refused[0].severity == "error"
    assert "is a free-mail address" in refused[0].message
    assert refused[0].file.endswith("newsletter.yaml") and (refused[0].line, refused[0].field) == (6, "from.email")
    assert any(f.rule == "domain-auth" and "DMARC" in f.message for f in found)  # yahoo.com has none here
