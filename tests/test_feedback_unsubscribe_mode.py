"""``unsubscribe: sendgrid``: check refuses it without a group id; check --online asks SendGrid
whether the group exists (the SendGrid-compatible server on 127.0.0.1)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.checks import Finding, run_checks
from newsletter.checks.context import build_context
from newsletter.checks.online import sendgrid_group
from newsletter.project import open_issue
from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.sendgrid_server import KEY, SendGridServer


def mode(project: Path, extra: str) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + extra, encoding="utf-8")


def test_check_refuses_sendgrid_mode_without_a_group(project: Path) -> None:
    mode(project, "unsubscribe: sendgrid\n")
    result = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 1
    line = len((project / "newsletter.yaml").read_text(encoding="utf-8").splitlines())
    assert f"newsletter.yaml:{line}" in result.output
    assert "unsubscribe: sendgrid needs an unsubscribe group, and none is set" in result.output
    assert "[unsubscribe-group]" in result.output and "asm_group_id" in result.output


def test_the_finding_points_at_the_setting(project: Path) -> None:
    mode(project, "unsubscribe: sendgrid\n")
    proj, issue_file, rendered = open_issue(project / EXAMPLE_ISSUE)
    [finding] = [f for f in run_checks(proj, issue_file, rendered) if f.rule == "unsubscribe-group"]
    assert finding.severity == "error" and finding.field == "unsubscribe"


def test_check_accepts_sendgrid_mode_with_a_group(project: Path) -> None:
    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 7\n")
    result = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert "unsubscribe-group" not in result.output


def test_a_bad_mode_is_bad_input(project: Path) -> None:
    mode(project, "unsubscribe: mailchimp\n")
    result = run_cli("check", EXAMPLE_ISSUE, cwd=project)
    assert result.code == 2 and "newsletter.yaml" in result.err and "unsubscribe" in result.err
    assert "Traceback" not in result.output


@pytest.fixture
def sendgrid_env(sendgrid_server: SendGridServer) -> Iterator[SendGridServer]:
    saved = {k: os.environ.get(k) for k in ("SENDGRID_API_KEY", "SENDGRID_API_HOST")}
    os.environ.update(SENDGRID_API_KEY=KEY, SENDGRID_API_HOST=sendgrid_server.url)
    yield sendgrid_server
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _group_findings(project: Path) -> list[Finding]:
    proj, issue_file, rendered = open_issue(project / EXAMPLE_ISSUE)
    return list(sendgrid_group(build_context(proj, issue_file, rendered, None)))


def test_online_confirms_the_group_exists(project: Path, sendgrid_env: SendGridServer) -> None:
    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 7\n")
    sendgrid_env.account.group(7, "Monthly update")
    assert _group_findings(project) == []
    assert ("GET", "/v3/asm/groups/7") in sendgrid_env.account.calls
    assert sendgrid_env.log.invalid == []


def test_online_reports_an_unknown_group(project: Path, sendgrid_env: SendGridServer) -> None:
    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 8\n")
    [finding] = _group_findings(project)
    assert finding.rule == "sendgrid-group" and finding.severity == "error"
    assert "unsubscribe group 8" in finding.message and "Unsubscribe Group not found" in finding.message
    assert "newsletter.yaml:" in finding.location() and finding.field == "delivery.sendgrid.asm_group_id"


def test_online_without_a_key_says_it_could_not_confirm(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 8\n")
    [finding] = _group_findings(project)
    assert "could not be confirmed: SENDGRID_API_KEY is not set" in finding.message


def test_a_send_in_sendgrid_mode_links_to_sendgrids_group_unsubscribe(project: Path, sendgrid_server: SendGridServer) -> None:
    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 7\n")
    sendgrid_server.account.group(7)
    result = run_cli(
        "send", EXAMPLE_ISSUE, "--yes", cwd=project, env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url}
    )
    assert result.code == 0, result.output
    assert sendgrid_server.log.invalid == []
    body = sendgrid_server.log.requests[0]
    text, html = (c["value"] for c in body["content"])
    assert 'href="<%asm_group_unsubscribe_raw_url%>"' in html
    assert "Unsubscribe:\n<%asm_group_unsubscribe_raw_url%>" in text
    assert "__nl_unsubscribe_url" not in html + text
    assert body["asm"] == {"group_id": 7}
    person = body["personalizations"][0]
    assert not any("unsubscribe" in k for k in person["substitutions"])
    # SendGrid adds the one-click headers only with subscription tracking, which stays off: ours stay
    assert body["tracking_settings"]["subscription_tracking"] == {"enable": False}
    assert person["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert person["headers"]["List-Unsubscribe"].startswith("<https://")


def test_link_mode_keeps_our_own_link(project: Path, sendgrid_server: SendGridServer) -> None:
    result = run_cli(
        "send", EXAMPLE_ISSUE, "--yes", cwd=project, env={"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": sendgrid_server.url}
    )
    assert result.code == 0, result.output
    html = sendgrid_server.log.requests[0]["content"][1]["value"]
    assert 'href="__nl_unsubscribe_url_html__"' in html and "asm_group" not in html


def test_sendgrid_mode_leaves_outbox_mail_with_our_own_link(project: Path) -> None:
    """SendGrid's group link is a tag only SendGrid fills in: an outbox (or SMTP) message
    in ``unsubscribe: sendgrid`` mode keeps our own link, never the bare tag."""
    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 7\n")
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.output
    messages = sorted((project / "outbox").rglob("*.eml"))
    assert len(messages) == 5
    import email
    import email.policy

    for path in messages:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        parts = [part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"]
        assert len(parts) == 2
        for content in parts:
            assert "asm_group_unsubscribe" not in content and "token=" in content


def test_sendgrid_mode_leaves_smtp_mail_with_our_own_link(project: Path) -> None:
    """SendGrid's tag is filled in by SendGrid alone: mail sent over SMTP in ``unsubscribe:
    sendgrid`` mode keeps our own link, in both parts, never the bare tag."""
    import email
    import email.policy

    from tests.smtp_server import SmtpServer

    mode(project, "unsubscribe: sendgrid\ndelivery:\n  sendgrid:\n    asm_group_id: 7\n")
    with SmtpServer() as server:
        result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        assert result.code == 0, result.output
        raw = [m[2] for m in server.handler.messages]
    assert len(raw) == 5
    for data in raw:
        assert b"asm_group_unsubscribe" not in data
        msg = email.message_from_bytes(data, policy=email.policy.default)
        parts = [part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"]
        assert len(parts) == 2
        for content in parts:
            assert "asm_group_unsubscribe" not in content and "/unsubscribe?token=" in content
