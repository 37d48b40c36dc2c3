"""``tracking: consented``: click and open tracking only in requests whose every reader agreed.

Sent through the real send loop and SendGrid provider to the SendGrid-compatible server
on loopback, which validates every request body (``tracking_settings`` included) against
SendGrid's own schema; the property is read back from the request JSON it received.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.audience import Entry, entries
from newsletter.delivery.journal import Journal
from newsletter.delivery.run import deliver
from newsletter.delivery.sendgrid import SendGridProvider
from newsletter.errors import InputError
from newsletter.settings import SendGridOptions
from tests.delivery_kit import Kit, make_kit
from tests.sendgrid_server import KEY, SendGridServer


def reader(i: int, agreed: bool) -> Entry:
    return Entry(f"reader{i:04d}@example.org", f"Reader{i}", "Test", {}, i + 2, (), agreed)


def tracked(body: dict[str, object]) -> bool:
    settings_ = body["tracking_settings"]
    assert isinstance(settings_, dict)
    return bool(settings_["click_tracking"]["enable"] or settings_["open_tracking"]["enable"])


def send(
    kit: Kit,
    server: SendGridServer,
    *,
    size: int,
    background: bool,
    tracking: str = "consented",
    options: SendGridOptions | None = None,
) -> None:
    provider = SendGridProvider(
        KEY, options or kit.settings.delivery.sendgrid, host=server.url, background=background, tracking=tracking
    )
    try:
        result = deliver(
            kit.journal,
            kit.send,
            kit.message,
            provider,
            kit.maker(),
            kit.delivery(batch_size=size),
            source=kit.source(),
            sleep=lambda s: None,
            split_tracked=tracking == "consented",
        )
    finally:
        provider.close()
    assert result.outcome == "done"


def check_requests(server: SendGridServer, people: list[Entry], size: int) -> None:
    """No tracked request holds a reader who did not agree; every reader is in exactly one
    request; and the split costs at most one request per kind over an unsplit send."""
    assert server.log.invalid == []
    agreed = {p.email for p in people if p.tracked}
    seen: Counter[str] = Counter()
    for body in server.log.requests:
        emails = [to["email"] for p in body["personalizations"] for to in p["to"]]
        seen.update(emails)
        if tracked(body):
            assert set(emails) <= agreed, "a tracked request holds a reader who did not agree to tracking"
            assert body["tracking_settings"]["click_tracking"] == {"enable": True, "enable_text": False}
            assert body["tracking_settings"]["open_tracking"] == {"enable": True}
        else:
            assert body["tracking_settings"]["click_tracking"]["enable"] is False
            assert body["tracking_settings"]["open_tracking"]["enable"] is False
        assert len(emails) <= size
    assert seen == Counter(p.email for p in people)
    kinds = [len(agreed), len(people) - len(agreed)]
    assert len(server.log.requests) == sum(math.ceil(n / size) for n in kinds)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(agreed=st.lists(st.booleans(), min_size=1, max_size=40), size=st.integers(min_value=1, max_value=7))
def test_no_tracked_request_holds_a_reader_without_tracking_consent(
    tmp_path_factory: pytest.TempPathFactory, project: Path, agreed: list[bool], size: int
) -> None:
    root = tmp_path_factory.mktemp("tracking")
    for name in ("newsletter.yaml", "subscribers.csv"):
        (root / name).write_bytes((project / name).read_bytes())
    (root / "issues").symlink_to(project / "issues")
    people = [reader(i, a) for i, a in enumerate(agreed)]
    kit = make_kit(root, people)
    with SendGridServer() as server:
        send(kit, server, size=size, background=False)
    check_requests(server, people, size)
    assert kit.journal.counts(kit.journal.refresh(kit.send.key))["accepted"] == len(people)
    kit.journal.close()


def test_the_request_process_builds_tracked_and_untracked_bodies(project: Path, sendgrid_server: SendGridServer) -> None:
    """The bodies a real send's request process builds from journal rows split alike."""
    people = [reader(i, i % 3 == 0 or 40 <= i < 70) for i in range(130)]
    kit = make_kit(project, people)
    send(kit, sendgrid_server, size=20, background=True)
    check_requests(sendgrid_server, people, 20)
    assert any(tracked(b) for b in sendgrid_server.log.requests)


def test_a_resumed_send_keeps_the_split(project: Path, sendgrid_server: SendGridServer) -> None:
    """Rows already in the journal (a send that stopped) are sent as they were written: a
    request of pending rows never mixes readers who agreed with readers who did not."""
    people = [reader(i, i % 2 == 0) for i in range(30)]
    kit = make_kit(project, people)
    for tracked_ in (False, True):  # written as a stopped send left them: both kinds pending
        rows = [(i + 1, p.email, p.first_name, p.last_name, None) for i, p in enumerate(people) if p.tracked is tracked_]
        kit.journal.add_pending(
            kit.send, [(n + (15 if tracked_ else 0), *row[1:]) for n, row in enumerate(rows, 1)], tracked=tracked_
        )
    kit.journal.set_loaded(kit.send)
    kit.refresh()
    send(kit, sendgrid_server, size=7, background=False)
    check_requests(sendgrid_server, people, 7)


def test_tracking_for_everyone_is_todays_behaviour(project: Path, sendgrid_server: SendGridServer) -> None:
    """``tracking: everyone`` (the default) ignores the column: trackers as the options set
    them (off unless turned on), readers in list order, no extra request."""
    people = [reader(i, i % 2 == 0) for i in range(10)]
    kit = make_kit(project, people)
    send(kit, sendgrid_server, size=4, background=False, tracking="everyone")
    assert len(sendgrid_server.log.requests) == 3 and not any(tracked(b) for b in sendgrid_server.log.requests)
    order = [to["email"] for b in sendgrid_server.log.requests for p in b["personalizations"] for to in p["to"]]
    assert order == [p.email for p in people]


def test_consented_tracking_honours_a_tracker_turned_off(project: Path, sendgrid_server: SendGridServer) -> None:
    people = [reader(i, True) for i in range(3)]
    kit = make_kit(project, people)
    options = kit.settings.delivery.sendgrid.model_copy(update={"open_tracking": False})
    send(kit, sendgrid_server, size=10, background=False, options=options)
    (body,) = sendgrid_server.log.requests
    assert body["tracking_settings"]["click_tracking"]["enable"] is True
    assert body["tracking_settings"]["open_tracking"]["enable"] is False


def test_the_list_says_who_agreed(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "email,tracking_consent\na@example.org,yes\nb@example.org,no\nc@example.org,\n"
        "d@example.org,TRUE\ne@example.org,maybe\nf@example.org,Y\n",
        encoding="utf-8",
    )
    assert {e.email: e.tracked for e in entries(path, tracking=True)} == {
        "a@example.org": True,
        "b@example.org": False,
        "c@example.org": False,
        "d@example.org": True,
        "e@example.org": False,
        "f@example.org": True,
    }
    assert not any(e.tracked for e in entries(path))


def test_a_list_without_the_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("email\na@example.org\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        entries(path, tracking=True)
    problem = caught.value.problems[0]
    assert problem.file.endswith("list.csv") and (problem.line, problem.field) == (1, "tracking_consent")


def test_a_format_2_journal_gains_the_column(tmp_path: Path) -> None:
    """A journal written before the tracked flag existed is upgraded in place: its rows
    are untracked (what that version sent), and its sends resume."""
    import sqlite3

    path = tmp_path / ".newsletter" / "journal.sqlite3"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE sends (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, slug TEXT NOT NULL,"
        " provider TEXT NOT NULL, list_path TEXT NOT NULL, content_hash TEXT NOT NULL, created REAL NOT NULL,"
        " eligible INTEGER NOT NULL DEFAULT 0, batches INTEGER NOT NULL DEFAULT 0, loaded INTEGER NOT NULL DEFAULT 0,"
        " finished REAL);"
        "CREATE TABLE recipients (send_id INTEGER NOT NULL, seq INTEGER NOT NULL, email TEXT NOT NULL,"
        " first_name TEXT NOT NULL, last_name TEXT NOT NULL, vals TEXT, state TEXT NOT NULL, batch INTEGER,"
        " reason TEXT, PRIMARY KEY (send_id, seq)) WITHOUT ROWID;"
        "INSERT INTO sends VALUES (1, 'k', 's', 'sendgrid', 'l', 'h', 0, 1, 0, 1, NULL);"
        "INSERT INTO recipients VALUES (1, 1, 'a@example.org', 'A', '', NULL, 'pending', NULL, NULL);"
        "PRAGMA user_version = 2;"
    )
    db.close()
    with Journal(path) as journal:
        send_row = journal.find("k")
        assert send_row is not None
        rows, tracked_ = journal.next_run(send_row, 0, 10)
        assert [r.email for r in rows] == ["a@example.org"] and tracked_ is False
        assert journal.timing(send_row) is None  # format 4's column: when its messages go, not known
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 4


def test_a_send_tracks_only_the_readers_who_agreed(project: Path, sendgrid_server: SendGridServer) -> None:
    """``newsletter send`` with ``tracking: consented`` in newsletter.yaml and the list's column."""
    from tests.conftest import EXAMPLE_ISSUE, run_cli
    from tests.feedback_kit import env

    agreed = [i % 3 == 0 for i in range(25)]
    lines = "".join(f"reader{i:04d}@example.org,Reader{i},{'yes' if a else 'no'}\n" for i, a in enumerate(agreed))
    (project / "subscribers.csv").write_text("email,first_name,tracking_consent\n" + lines, encoding="utf-8")
    settings_file = project / "newsletter.yaml"
    settings_file.write_text(
        settings_file.read_text(encoding="utf-8") + "tracking: consented\ndelivery:\n  batch_size: 4\n", encoding="utf-8"
    )
    r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env(sendgrid_server))
    assert r.code == 0, r.output
    check_requests(sendgrid_server, [reader(i, a) for i, a in enumerate(agreed)], 4)


def test_a_send_without_the_column_sends_nothing(project: Path, sendgrid_server: SendGridServer) -> None:
    from tests.conftest import EXAMPLE_ISSUE, run_cli
    from tests.feedback_kit import env

    settings_file = project / "newsletter.yaml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8") + "tracking: consented\n", encoding="utf-8")
    r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", "--no-sync", cwd=project, env=env(sendgrid_server))
    assert r.code == 2 and "Traceback" not in r.output, r.output
    assert "subscribers.csv:1: tracking_consent: tracking: consented (newsletter.yaml) needs a column" in r.output
    assert sendgrid_server.log.accepted == []
    assert not (project / "sends").exists()
    with Journal.open(project) as journal:  # no send begun: nothing to resume or settle
        assert journal.sends_for("2024-06-june-team-update") == []
    dry = run_cli("send", EXAMPLE_ISSUE, "--dry-run", cwd=project)
    assert dry.code == 2 and "tracking_consent" in dry.output
