"""Sync when SendGrid or the list misbehaves: rate limits, refused keys, unknown groups,
answers that are not JSON, unreadable rows, and a sync killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.feedback_kit import env, rows, set_group, sync, sync_json, write_list
from tests.sendgrid_feedback import ApiFault
from tests.sendgrid_server import SendGridServer


def test_429_with_a_reset_header_is_waited_out(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    for i in range(600):
        acct.add("bounces", f"b{i}@example.net", 1_700_000_000 + i)
    acct.faults.append(ApiFault("429", reset_in=1))
    acct.faults.append(ApiFault("429", reset_in=1))
    report = sync_json(project, sendgrid_server)
    assert report["read"]["bounces"] == 600
    assert sendgrid_server.log.answers.count(429) == 2
    assert len(acct.calls) == 2 + 6  # two refused; then bounces on two pages and four other lists
    # each try after a refusal came once the announced reset time had passed
    assert acct.times[1] >= acct.resets[0] and acct.times[2] >= acct.resets[1]
    assert sendgrid_server.log.invalid == []


def test_429_without_headers_backs_off_and_goes_on(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    acct.add("unsubscribes", "ben.hughes@example.org")
    acct.faults.append(ApiFault("429"))
    report = sync_json(project, sendgrid_server)
    assert sendgrid_server.log.answers.count(429) == 1
    assert [c["email"] for c in report["changed"]] == ["ben.hughes@example.org"]


def test_a_rate_limit_that_does_not_lift_stops_the_sync_with_the_list_unchanged(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    acct = sendgrid_server.account
    acct.add("unsubscribes", "ben.hughes@example.org")
    acct.faults.append(ApiFault("429", reset_in=3600, message="too many requests"))
    before = (project / "subscribers.csv").read_bytes()
    result = sync(project, sendgrid_server)
    assert result.code == 2
    assert "rate limit (429: too many requests) resets in 60 min" in result.err
    assert "Traceback" not in result.output
    assert (project / "subscribers.csv").read_bytes() == before


@pytest.mark.parametrize("status", ["401", "403"])
def test_a_refused_key_is_reported_in_sendgrids_words(project: Path, sendgrid_server: SendGridServer, status: str) -> None:
    sendgrid_server.account.faults.append(ApiFault(status, message="access forbidden for this key"))
    before = (project / "subscribers.csv").read_bytes()
    result = sync(project, sendgrid_server)
    assert result.code == 2
    assert f"SendGrid refused the key ({status}): access forbidden for this key" in result.err
    assert "Traceback" not in result.output and "SG.test-key" not in result.output
    assert (project / "subscribers.csv").read_bytes() == before


def test_a_wrong_key(project: Path, sendgrid_server: SendGridServer) -> None:
    result = sync(project, sendgrid_server, key="SG.wrong")
    assert result.code == 2
    assert "(401): The provided authorization grant is invalid, expired, or revoked" in result.err
    assert "SG.wrong" not in result.output


def test_no_key(project: Path) -> None:
    from tests.conftest import run_cli

    result = run_cli("subscribers", "sync", cwd=project)
    assert result.code == 2 and "SENDGRID_API_KEY is not set" in result.err


def test_an_unknown_group(project: Path, sendgrid_server: SendGridServer) -> None:
    set_group(project, 404)
    result = sync(project, sendgrid_server)
    assert result.code == 2
    assert "SendGrid has no unsubscribe group 404 (delivery.sendgrid.asm_group_id in newsletter.yaml)" in result.err
    assert "Unsubscribe Group not found" in result.err
    assert sendgrid_server.log.invalid == []


def test_an_answer_that_is_not_json(project: Path, sendgrid_server: SendGridServer) -> None:
    sendgrid_server.account.faults.append(ApiFault("notjson"))
    result = sync(project, sendgrid_server)
    assert result.code == 2
    assert "SendGrid's answer is not JSON" in result.err and "SENDGRID_API_HOST" in result.err
    assert "Traceback" not in result.output


def test_a_list_with_unreadable_rows_is_not_rewritten(project: Path, sendgrid_server: SendGridServer) -> None:
    lst = project / "subscribers.csv"
    lst.write_text(
        'email,first_name,status\nok@example.org,Ok,subscribed\n"broken@example.org,Bro\nmore@example.org,More,subscribed\n',
        encoding="utf-8",
    )
    before = lst.read_bytes()
    sendgrid_server.account.add("bounces", "ok@example.org")
    result = sync(project, sendgrid_server)
    assert result.code == 2
    assert "subscribers.csv: rows that cannot be read; the list was not changed" in result.err
    assert "subscribers.csv:3" in result.err
    assert lst.read_bytes() == before
    assert not (project / ".newsletter" / "sync.json").exists()


def test_a_page_exactly_full_is_followed_by_one_more(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    for i in range(1000):
        acct.add("spam_reports", f"s{i}@example.net", 1_700_000_000 + i)
    report = sync_json(project, sendgrid_server)
    assert report["read"]["spam_reports"] == 1000 and acct.pages["spam_reports"] == 3


@pytest.mark.slow  # a crash drill (kill -9)
def test_kill_9_during_a_sync_leaves_the_list_old_or_new(project: Path, sendgrid_server: SendGridServer) -> None:
    """SIGKILL while the list is being rewritten: the list is the old one, whole; the next
    sync finishes the job, as one uninterrupted sync would have."""
    lst = project / "subscribers.csv"
    write_list(lst, [(f"reader{i:06d}@example.org", "subscribed") for i in range(300_000)])
    before = lst.read_bytes()
    acct = sendgrid_server.account
    for i in range(0, 300_000, 1000):
        acct.add("unsubscribes", f"reader{i:06d}@example.org", 1_700_000_000 + i)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    full_env.update(env(sendgrid_server), PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "subscribers", "sync"],
        cwd=project,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    temporary = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = [p for p in project.iterdir() if p.name.startswith(".subscribers.csv.") and p.stat().st_size > 0]
        if found:
            temporary = found[0]
            break
        time.sleep(0.005)
    assert temporary is not None, "the sync ended before it began writing; make the list longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert lst.read_bytes() == before  # old, and whole
    assert not (project / ".newsletter" / "sync.json").exists()
    report = sync_json(project, sendgrid_server)
    assert len(report["changed"]) == 300
    after = rows(lst)
    assert len(after) == 300_000
    assert sum(1 for r in after.values() if r["status"] == "unsubscribed") == 300
    assert not temporary.exists()  # the dead writer's temporary file is cleaned up
