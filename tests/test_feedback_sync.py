"""``newsletter subscribers sync`` against the SendGrid-compatible server on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

from tests.feedback_kit import rows, set_group, sync, sync_json, write_list
from tests.sendgrid_server import SendGridServer


def test_every_list_is_read_page_by_page_and_mapped(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    set_group(project, 77)
    acct.group(77, emails=[f"group{i}@example.net" for i in range(3)] + ["ben.hughes@example.org"])
    for kind in ("unsubscribes", "bounces", "invalid_emails", "spam_reports", "blocks"):
        for i in range(1203):  # three pages of 500 each
            acct.add(kind, f"{kind.replace('_', '')}{i}@example.net", 1_700_000_000 + i)
    acct.add("bounces", "amina.okafor@example.org", 1_717_200_000, reason="550 5.1.1 user unknown", status="5.1.1")
    acct.add("spam_reports", "chloe.martin@example.org", 1_717_300_000)
    before = rows(project / "subscribers.csv")

    report = sync_json(project, sendgrid_server)

    assert sendgrid_server.log.invalid == []
    for kind in ("unsubscribes", "bounces", "invalid_emails", "spam_reports", "blocks"):
        assert acct.pages[kind] == 3  # 500 + 500 + a short last page
    assert report["read"] == {
        "blocks": 1203,
        "bounces": 1204,
        "group": 4,
        "invalid_emails": 1203,
        "spam_reports": 1204,
        "unsubscribes": 1203,
    }
    after = rows(project / "subscribers.csv")
    assert after["amina.okafor@example.org"]["status"] == "bounced"
    assert after["amina.okafor@example.org"]["status_at"] == "2024-06-01"
    assert "550 5.1.1 user unknown" in after["amina.okafor@example.org"]["status_reason"]
    assert after["ben.hughes@example.org"]["status"] == "unsubscribed"
    assert after["chloe.martin@example.org"]["status"] == "complained"
    assert after["unsubscribes1202@example.net"]["status"] == "unsubscribed"
    assert after["unsubscribes1202@example.net"]["source"] == "sendgrid"
    assert after["bounces0@example.net"]["status"] == "bounced"
    assert after["invalidemails5@example.net"]["status"] == "bounced"
    assert after["spamreports7@example.net"]["status"] == "complained"
    assert after["group2@example.net"]["status"] == "unsubscribed"
    assert "blocks0@example.net" not in after  # blocks are shown, not suppressed
    assert len(report["blocks"]) == 1203
    # nothing lost: every row that was there still is, with its other cells
    for email, row in before.items():
        assert after[email]["first_name"] == row["first_name"]
    assert len(after) == len(before) + 4 * 1203 + 3


def test_never_loosens_a_status(project: Path, sendgrid_server: SendGridServer) -> None:
    lst = project / "subscribers.csv"
    write_list(
        lst,
        [
            ("a@example.org", "complained"),
            ("b@example.org", "unsubscribed"),
            ("c@example.org", "subscribed"),
            ("d@example.org", "bounced"),
        ],
    )
    acct = sendgrid_server.account
    acct.add("bounces", "a@example.org")  # complained stays complained
    acct.add("bounces", "b@example.org")  # unsubscribed stays unsubscribed
    acct.add("unsubscribes", "c@example.org")
    acct.add("unsubscribes", "C@Example.org")  # the same address twice, in another case
    acct.add("spam_reports", "d@example.org")  # bounced becomes complained
    result = sync(project, sendgrid_server)
    assert result.code == 0, result.output
    after = rows(lst)
    assert {e: r["status"] for e, r in after.items()} == {
        "a@example.org": "complained",
        "b@example.org": "unsubscribed",
        "c@example.org": "unsubscribed",
        "d@example.org": "complained",
    }
    assert len(after) == 4
    assert "2 row(s) changed (0 added)" in result.out


def test_two_syncs_in_a_row_change_nothing_the_second_time(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    set_group(project, 5)
    acct.group(5)
    now = int(time.time())
    acct.add("unsubscribes", "ben.hughes@example.org", now - 10)
    acct.add("bounces", "new.person@example.net", now - 5)
    first = sync_json(project, sendgrid_server)
    assert len(first["changed"]) == 2 and first["list_written"]
    listed = (project / "subscribers.csv").read_bytes()
    pushed = acct.group_emails(5)
    assert "dev.patel@example.org" in pushed  # unsubscribed in the example list
    second = sync_json(project, sendgrid_server)
    assert second["changed"] == [] and not second["list_written"]
    assert second["pushed"]["emails"] == []
    assert (project / "subscribers.csv").read_bytes() == listed
    assert acct.group_emails(5) == pushed
    # the second sync asked only for what is new since the first (less the overlap)
    starts = [p for m, p in acct.calls if "/v3/suppression/bounces" in p]
    assert "start_time" not in starts[0] and "start_time=" in starts[-1]


def test_push_and_pull_agree(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    lst = project / "subscribers.csv"
    write_list(
        lst,
        [
            ("local.unsub@example.org", "unsubscribed"),
            ("local.spam@example.org", "complained"),
            ("local.bounce@example.org", "bounced"),
            ("reader@example.org", "subscribed"),
        ],
    )
    set_group(project, 9)
    acct.group(9, emails=["remote.unsub@example.net"])
    acct.add("spam_reports", "reader@example.org")
    report = sync_json(project, sendgrid_server)
    assert report["pushed"] == {
        "into": "group 9",
        "emails": ["local.spam@example.org", "local.unsub@example.org", "reader@example.org"],
    }
    after = rows(lst)
    strict_here = {e for e, r in after.items() if r["status"] in ("unsubscribed", "complained")}
    assert strict_here == set(acct.group_emails(9))
    assert acct.global_emails() == []  # nothing global without --push-global


def test_push_global_only_when_asked(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    lst = project / "subscribers.csv"
    write_list(lst, [("local.unsub@example.org", "unsubscribed"), ("reader@example.org", "subscribed")])
    plain = sync(project, sendgrid_server)
    assert plain.code == 0 and acct.global_emails() == []
    assert "1 unsubscribe(s) in the list are not pushed" in plain.out
    report = sync_json(project, sendgrid_server, "--push-global")
    assert report["pushed"] == {"into": "global", "emails": ["local.unsub@example.org"]}
    assert acct.global_emails() == ["local.unsub@example.org"]
    assert sync_json(project, sendgrid_server, "--push-global")["pushed"]["emails"] == []
    assert sendgrid_server.log.invalid == []


def test_dry_run_changes_nothing_anywhere(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    set_group(project, 5)
    acct.group(5)
    acct.add("bounces", "amina.okafor@example.org")
    before = (project / "subscribers.csv").read_bytes()
    result = sync(project, sendgrid_server, "--dry-run")
    assert result.code == 0, result.output
    assert "amina.okafor@example.org: subscribed → bounced" in result.out
    assert "would push 1 unsubscribe(s)" in result.out
    assert (project / "subscribers.csv").read_bytes() == before
    assert acct.group_emails(5) == []
    assert not (project / ".newsletter" / "sync.json").exists()


def test_an_entry_recorded_late_is_read_by_the_next_sync(project: Path, sendgrid_server: SendGridServer) -> None:
    """The cursor keeps an hour's overlap: an entry SendGrid records after a sync began,
    dated before it (as its clocks and queues do), is read by the next sync."""
    import time

    first = sync_json(project, sendgrid_server)
    assert first["changed"] == []
    sendgrid_server.account.add("bounces", "amina.okafor@example.org", created=int(time.time()) - 1800)
    second = sync_json(project, sendgrid_server)
    assert [c["email"] for c in second["changed"]] == ["amina.okafor@example.org"]
    assert rows(project / "subscribers.csv")["amina.okafor@example.org"]["status"] == "bounced"
