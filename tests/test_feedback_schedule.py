"""Scheduled sends: a batch id on every request, status in words, pause, cancel and send again;
SendGrid's limits checked before asking; the --send-at rules."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.feedback_kit import env, git
from tests.sendgrid_server import SendGridServer

ELIGIBLE = 5


def cli(project: Path, server: SendGridServer, *args: str) -> CliResult:
    return run_cli(*args, cwd=project, env=env(server))


def schedule(project: Path, server: SendGridServer, ahead: dt.timedelta) -> int:
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + ahead
    result = cli(project, server, "send", EXAMPLE_ISSUE, "--yes", "--send-at", when.isoformat())
    assert result.code == 0, result.output
    local = when.astimezone(ZoneInfo("Europe/London"))
    at = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()}"
    assert f"Scheduled with sendgrid for {at}" in result.out and "Sent with" not in result.out, result.out
    assert f"Finished: every eligible recipient is accounted for. SendGrid sends it {at}" in result.out
    return int(when.timestamp())


def small_batches(project: Path) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "delivery:\n  batch_size: 2\n", encoding="utf-8")


def test_a_scheduled_send_can_be_paused_unpaused_cancelled_and_sent_again(project: Path, sendgrid_server: SendGridServer) -> None:
    small_batches(project)
    acct = sendgrid_server.account
    send_at = schedule(project, sendgrid_server, dt.timedelta(hours=2))
    bodies = sendgrid_server.log.requests
    assert len(bodies) == 3  # 2 + 2 + 1
    batch = bodies[0]["batch_id"]
    assert {b["batch_id"] for b in bodies} == {batch} and batch in acct.batches
    assert {b["send_at"] for b in bodies} == {send_at}
    assert sendgrid_server.log.invalid == []

    status = cli(project, sendgrid_server, "status", EXAMPLE_ISSUE)
    local = dt.datetime.fromtimestamp(send_at, ZoneInfo("Europe/London"))
    assert f"scheduled  {local:%A} {local.day} {local:%B %Y} at {local:%H:%M} {local.tzname()} (in 1 hour" in status.out
    assert "SendGrid   will go out at that time" in status.out

    paused = cli(project, sendgrid_server, "pause", EXAMPLE_ISSUE)
    assert paused.code == 0, paused.output
    assert acct.batches[batch] == "pause" and "is paused" in paused.out
    assert "SendGrid   paused" in cli(project, sendgrid_server, "status", EXAMPLE_ISSUE).out
    unpaused = cli(project, sendgrid_server, "pause", EXAMPLE_ISSUE, "--unpause")
    assert unpaused.code == 0 and acct.batches[batch] is None and "no longer paused" in unpaused.out

    cancelled = cli(project, sendgrid_server, "cancel", EXAMPLE_ISSUE)
    assert cancelled.code == 0, cancelled.output
    assert acct.batches[batch] == "cancel"
    assert f"The journal records {ELIGIBLE} recipient(s) as cancelled" in cancelled.out
    status = cli(project, sendgrid_server, "status", EXAMPLE_ISSUE)
    words = " ".join(status.out.split())
    assert f"cancelled {ELIGIBLE}" in words and "accepted 0" in words
    assert "with sendgrid: cancelled (started" in words and "finished" not in words, status.out
    assert "resume with" not in words

    # the issue can be sent again: a new send, with a new batch
    again = cli(
        project,
        sendgrid_server,
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--send-at",
        (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat(),
    )
    assert again.code == 0, again.output
    assert len(sendgrid_server.log.accepted) == 2 * ELIGIBLE
    new_batch = sendgrid_server.log.requests[-1]["batch_id"]
    assert new_batch != batch and acct.batches[new_batch] is None
    assert sendgrid_server.log.invalid == []


def test_cancel_and_pause_are_refused_close_to_the_send_time(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    schedule(project, sendgrid_server, dt.timedelta(minutes=8))
    calls = len(acct.calls)
    for verb in ("cancel", "pause"):
        result = cli(project, sendgrid_server, verb, EXAMPLE_ISSUE)
        assert result.code == 2
        assert f"too late to {verb}: SendGrid can {verb} a scheduled send only until 10 minutes before" in result.err
    assert len(acct.calls) == calls  # not even asked
    assert set(acct.batches.values()) == {None}
    assert "accepted 5" in " ".join(cli(project, sendgrid_server, "status", EXAMPLE_ISSUE).out.split())


def test_at_most_ten_batches_held_at_once(project: Path, sendgrid_server: SendGridServer) -> None:
    acct = sendgrid_server.account
    for i in range(10):
        acct.batches[f"old{i}"] = "cancel" if i % 2 else "pause"
    schedule(project, sendgrid_server, dt.timedelta(hours=1))
    result = cli(project, sendgrid_server, "cancel", EXAMPLE_ISSUE)
    assert result.code == 2
    assert "SendGrid lets at most 10 batches be paused or cancelled at once, and 10 are" in result.err
    assert not any(m == "POST" and p == "/v3/user/scheduled_sends" for m, p in acct.calls)
    assert "accepted 5" in " ".join(cli(project, sendgrid_server, "status", EXAMPLE_ISSUE).out.split())


def test_nothing_scheduled_nothing_to_cancel(project: Path, sendgrid_server: SendGridServer) -> None:
    result = cli(project, sendgrid_server, "cancel", EXAMPLE_ISSUE)
    assert result.code == 2 and "no scheduled send to cancel" in result.err


# -- the --send-at rules ------------------------------------------------------------------


def test_just_past_72_hours_is_refused_and_just_inside_accepted(project: Path, sendgrid_server: SendGridServer) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    late = cli(
        project,
        sendgrid_server,
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--send-at",
        (now + dt.timedelta(hours=72, minutes=1)).isoformat(),
    )
    assert late.code == 2 and "more than 72 hours ahead" in late.err
    assert sendgrid_server.log.times == []
    schedule(project, sendgrid_server, dt.timedelta(hours=71, minutes=55))
    assert len(sendgrid_server.log.accepted) == ELIGIBLE and sendgrid_server.log.invalid == []


def _zone_in_summer_time() -> str:
    """A zone whose summer time holds now and for the next three days (one of the two always does)."""
    for name in ("Europe/London", "Australia/Sydney", "America/Santiago"):
        zone = ZoneInfo(name)
        now = dt.datetime.now(zone)
        if now.dst() and (now + dt.timedelta(days=3)).dst():
            return name
    pytest.skip("no zone of the three is in summer time for the next three days")


def test_a_time_without_a_zone_is_read_in_the_newsletters_zone_in_summer_time(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    name = _zone_in_summer_time()
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("timezone: Europe/London", f"timezone: {name}"), encoding="utf-8"
    )
    zone = ZoneInfo(name)
    local = (dt.datetime.now(zone) + dt.timedelta(hours=30)).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    result = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", "--send-at", local.strftime("%Y-%m-%dT%H:%M"))
    assert result.code == 0, result.output
    expected = local.replace(tzinfo=zone)
    assert expected.dst()  # summer time: the offset is not the zone's standard one
    assert sendgrid_server.log.requests[0]["send_at"] == int(expected.timestamp())


@pytest.mark.parametrize("provider", ["outbox", "smtp"])
def test_outbox_and_smtp_refuse_a_near_send_at(project: Path, provider: str) -> None:
    near = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    result = run_cli(
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--provider",
        provider,
        "--send-at",
        near,
        cwd=project,
        env={"SMTP_URL": "smtp://127.0.0.1:9"},
    )
    assert result.code == 2
    assert f"--send-at needs the sendgrid provider ({provider} cannot schedule a send)" in result.err
    assert not (project / "outbox").exists()


def test_status_in_words_counts_down() -> None:
    from newsletter.feedback.schedule import in_words

    when = int(dt.datetime(2024, 6, 14, 8, 0, tzinfo=dt.UTC).timestamp())
    assert (
        in_words(when, "Europe/London", now=when - 2 * 86400 - 3 * 3600)
        == "Friday 14 June 2024 at 09:00 BST (in 2 days and 3 hours)"
    )
    assert in_words(when, "Europe/London", now=when + 600).endswith("(10 minutes ago)")


def test_a_scheduled_sends_record_holds_its_time_and_batch_and_says_when_it_is_cancelled(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    import json

    send_at = schedule(project, sendgrid_server, dt.timedelta(hours=2))
    record_path = project / "sends" / f"{Path(EXAMPLE_ISSUE).stem}.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    batch = sendgrid_server.log.requests[0]["batch_id"]
    assert record["batch_id"] == batch and record["state"] == "finished"
    assert record["send_at"] == dt.datetime.fromtimestamp(send_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cancelled = cli(project, sendgrid_server, "cancel", EXAMPLE_ISSUE)
    assert cancelled.code == 0, cancelled.output
    assert json.loads(record_path.read_text(encoding="utf-8"))["state"] == "cancelled"
    check = cli(project, sendgrid_server, "check", EXAMPLE_ISSUE)
    assert "[already-sent]" not in check.out  # a cancelled send may be sent again, from any clone
    again = cli(
        project,
        sendgrid_server,
        "send",
        EXAMPLE_ISSUE,
        "--yes",
        "--send-at",
        (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat(),
    )
    assert again.code == 0, again.output
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["state"] == "finished" and record["batch_id"] != batch


def test_a_paused_send_can_be_unpaused_after_its_send_time(project: Path, sendgrid_server: SendGridServer) -> None:
    """SendGrid keeps a paused batch for 72 hours after its send time: unpausing a minute
    after the send time sends it at once, it is not refused as expired."""
    import json
    import time

    schedule(project, sendgrid_server, dt.timedelta(hours=2))
    assert cli(project, sendgrid_server, "pause", EXAMPLE_ISSUE).code == 0
    state = project / ".newsletter" / "schedules.json"
    data = json.loads(state.read_text(encoding="utf-8"))
    for entry in data["scheduled"].values():  # the send time has come and gone while paused
        entry["send_at"] = int(time.time()) - 60
    state.write_text(json.dumps(data), encoding="utf-8")
    unpaused = cli(project, sendgrid_server, "pause", EXAMPLE_ISSUE, "--unpause")
    assert unpaused.code == 0, unpaused.output
    assert "no longer paused" in unpaused.out and "at once, if that time has passed" in unpaused.out


def test_a_scheduled_send_stopped_part_way_is_resumed_at_its_time(project: Path, sendgrid_server: SendGridServer) -> None:
    """Re-running a scheduled send that stopped part-way (here SendGrid refused the second
    request) sends the rest for the same time, in the same batch, whether or not --send-at
    is given again; another time is refused, with nothing sent."""
    small_batches(project)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    sendgrid_server.fail_next("ok", "401")
    first = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", "--send-at", when.isoformat())
    assert first.code != 0, first.output
    assert len(sendgrid_server.log.accepted) == 2

    other = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", "--send-at", (when + dt.timedelta(hours=1)).isoformat())
    assert other.code == 2, other.output
    assert "scheduled for" in other.err and "nothing was sent" in other.err.lower(), other.err
    assert len(sendgrid_server.log.accepted) == 2

    again = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes")
    assert again.code == 0, again.output
    assert "Resuming" in again.out and "keeps its time" in again.out, again.out
    bodies = sendgrid_server.log.requests
    assert sorted(sendgrid_server.log.accepted) == sorted(set(sendgrid_server.log.accepted))
    assert len(sendgrid_server.log.accepted) == ELIGIBLE
    assert {b.get("send_at") for b in bodies} == {int(when.timestamp())}
    assert len({b["batch_id"] for b in bodies}) == 1
    assert sendgrid_server.log.invalid == []


def test_a_send_begun_at_once_is_not_resumed_for_later(project: Path, sendgrid_server: SendGridServer) -> None:
    """Half the readers already have it: the rest cannot be put off to another time."""
    small_batches(project)
    sendgrid_server.fail_next("ok", "401")
    first = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes")
    assert first.code != 0 and len(sendgrid_server.log.accepted) == 2, first.output
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    refused = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", "--send-at", later)
    assert refused.code == 2, refused.output
    assert "this send began to go at once (2 already accepted)" in refused.err and "Nothing was sent" in refused.err
    assert len(sendgrid_server.log.accepted) == 2
    again = cli(project, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes")
    assert again.code == 0, again.output
    assert len(sendgrid_server.log.accepted) == ELIGIBLE
    assert all("send_at" not in b for b in sendgrid_server.log.requests)


def _shared(project: Path, server: SendGridServer, *args: str) -> CliResult:
    """A command run with the organisation's secret, as every clone has it."""
    return run_cli(*args, cwd=project, env=env(server, NEWSLETTER_SECRET="org"))


def _stopped_and_cloned(project: Path, tmp_path: Path, server: SendGridServer, *timing: str) -> Path:
    """The example's send, timed as ``timing`` says, stopped after its first request (SendGrid
    refused the second), its record committed, and the project cloned afresh."""
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "delivery:\n  batch_size: 2\n  sendgrid:\n    log_delay: 0\n", encoding="utf-8"
    )
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "the project")
    server.fail_next("ok", "401")
    first = _shared(project, server, "send", EXAMPLE_ISSUE, "--yes", *timing)
    assert first.code != 0 and len(server.log.accepted) == 2, first.output
    git(project, "add", "sends")
    git(project, "commit", "-qm", "Send record")
    other = tmp_path / "colleague"
    subprocess.run(["git", "clone", "-q", str(project), str(other)], check=True, timeout=60)
    return other


def test_a_scheduled_send_taken_over_on_another_clone_keeps_its_time(
    project: Path, tmp_path: Path, sendgrid_server: SendGridServer
) -> None:
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    other = _stopped_and_cloned(project, tmp_path, sendgrid_server, "--send-at", when.isoformat())
    later = (when + dt.timedelta(hours=1)).isoformat()
    refused = _shared(other, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes", "--send-at", later)
    assert refused.code == 2, refused.output
    assert "this send was scheduled for" in refused.err and "Nothing was sent" in refused.err, refused.err
    resumed = _shared(other, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes")
    assert resumed.code == 0, resumed.output
    assert "Resuming the send begun on another clone" in resumed.out and "the rest keeps its time" in resumed.out
    assert sorted(sendgrid_server.log.accepted) == sorted(set(sendgrid_server.log.accepted))
    assert len(sendgrid_server.log.accepted) == ELIGIBLE
    assert {b["send_at"] for b in sendgrid_server.log.requests} == {int(when.timestamp())}
    assert sendgrid_server.log.invalid == []


def test_a_local_time_send_is_not_taken_over_on_another_clone_even_without_at(
    project: Path, tmp_path: Path, sendgrid_server: SendGridServer
) -> None:
    """Its readers' times are reckoned on the clone that began it: another clone would send
    the rest at once."""
    other = _stopped_and_cloned(project, tmp_path, sendgrid_server, "--at", "09:00", "--local")
    refused = _shared(other, sendgrid_server, "send", EXAMPLE_ISSUE, "--yes")
    assert refused.code == 2, refused.output
    assert "a local-time send is resumed only where it began" in refused.err
    assert len(sendgrid_server.log.accepted) == 2
