"""Local-time delivery: ``send --at 09:00 --local`` schedules each reader at 09:00 in their
own zone, one batch id for the whole send, requests grouped by send time; the gap and fold
rules; unknown zones reported by line and given the default; refusals; kill -9 drills."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import sqlite3
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsletter.delivery.localtime import LocalRule, plan, send_time
from newsletter.delivery.timing import Timing
from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.crash import ISSUE, Drill, verify
from tests.feedback_kit import env
from tests.sendgrid_server import SendGridServer

DEFAULT = "Europe/London"  # the example project's timezone setting
ZONES = [
    "Pacific/Apia",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Los_Angeles",
    "Mars/Olympus_Mons",
    "",
]
"""Ten readers' zones: +13, +5:45, -3:30 (-2:30 in summer), London, +10:30 (+11 in summer:
a 30-minute change), +14, -11, one that is not a zone and one left empty."""


def utc(y: int, m: int, d: int, h: int, mi: int = 0) -> int:
    return int(dt.datetime(y, m, d, h, mi, tzinfo=dt.timezone.utc).timestamp())


def local(at: int, zone: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, ZoneInfo(zone))


def rule(at: str = "09:00", past: str = "next") -> LocalRule:
    return LocalRule.parse(at, "now" if past == "now" else "next", DEFAULT)


# -- the rule, from a fixed moment -------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        utc(2027, 3, 27, 12),
        utc(2026, 10, 24, 12),
        utc(2026, 10, 3, 12),
        utc(2027, 4, 3, 12),
        utc(2026, 12, 31, 22, 59),
        utc(2026, 6, 1, 8, 59),
    ],
)
@pytest.mark.parametrize("zone", [z for z in ZONES if "/" in z and not z.startswith("Mars")])
def test_the_next_nine_oclock_in_each_zone_across_dst_edges(now: int, zone: str) -> None:
    at = send_time(ZoneInfo(zone), rule(), now)
    seen = local(at, zone)
    assert (seen.hour, seen.minute, seen.second) == (9, 0, 0)
    assert now <= at < now + 86400 + 3600  # the next one: never a day late (a DST day is 23 or 25 hours)
    before = local(at - 86400, zone).replace(hour=9, minute=0)
    assert before.timestamp() < now  # the day before's had gone


def test_london_across_the_spring_change_is_nine_by_the_new_clock() -> None:
    # Saturday 27 March 2027, noon GMT: the next 09:00 is Sunday's, in summer time
    at = send_time(ZoneInfo("Europe/London"), rule(), utc(2027, 3, 27, 12))
    assert at == utc(2027, 3, 28, 8)


def test_a_time_the_clocks_skip_is_sent_as_long_after_the_jump() -> None:
    # London skips 01:00-02:00 on 28 March 2027: 01:30 is sent at 02:30 BST (01:30 UTC)
    assert send_time(ZoneInfo("Europe/London"), rule("01:30"), utc(2027, 3, 27, 12)) == utc(2027, 3, 28, 1, 30)
    # Lord Howe goes from +10:30 to +11 at 02:00 on 4 October 2026: 02:15 becomes 02:45 (+11)
    at = send_time(ZoneInfo("Australia/Lord_Howe"), rule("02:15"), utc(2026, 10, 3, 0))
    assert local(at, "Australia/Lord_Howe").strftime("%H:%M %z") == "02:45 +1100"
    # Apia skipped 30 December 2011 whole: that day's 09:00 is 31 December's
    at = send_time(ZoneInfo("Pacific/Apia"), rule(), utc(2011, 12, 29, 22))
    assert local(at, "Pacific/Apia").strftime("%Y-%m-%d %H:%M") == "2011-12-31 09:00"


def test_a_time_the_clocks_repeat_is_the_first_of_the_two() -> None:
    # London's 01:30 happens twice on 25 October 2026: the first, in summer time (00:30 UTC)
    assert send_time(ZoneInfo("Europe/London"), rule("01:30"), utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 0, 30)
    # Lord Howe repeats 01:30-02:00 on 5 April 2026: 01:45 the first time, at +11
    at = send_time(ZoneInfo("Australia/Lord_Howe"), rule("01:45"), utc(2026, 4, 4, 0))
    assert local(at, "Australia/Lord_Howe").strftime("%H:%M %z") == "01:45 +1100"


def test_past_now_sends_a_reader_whose_hour_has_gone_at_the_start() -> None:
    now = utc(2026, 6, 1, 12)  # 13:00 in London: 09:00 has gone
    assert send_time(ZoneInfo("Europe/London"), rule(past="now"), now) == now
    assert send_time(ZoneInfo("Europe/London"), rule(past="next"), now) == utc(2026, 6, 2, 8)
    # an hour still to come is that hour either way
    assert send_time(ZoneInfo("America/Los_Angeles"), rule(past="now"), now) == utc(2026, 6, 1, 16)


def test_unknown_and_empty_zones_get_the_default_counted_and_named_by_line() -> None:
    readers = [({"timezone": z}, line) for line, z in enumerate(ZONES, start=2)]
    found = plan([*readers, ({}, 20), ({"timezone": "../../etc/passwd"}, 21)], rule(), utc(2026, 6, 1, 12))
    assert found.unknown == [(10, "Mars/Olympus_Mons"), (21, "../../etc/passwd")]
    assert found.defaulted == 2  # the empty cell and the list without the column
    assert sum(found.times.values()) == 12 and found.zones[DEFAULT] == 5


@pytest.mark.parametrize("header", ["timezone", "Time Zone", "TZ", "time-zone"])
def test_the_zone_column_is_found_as_the_lists_known_columns_are(header: str) -> None:
    found = plan([({"city": "Paris", header: "Asia/Kathmandu"}, 2)], rule(), utc(2026, 6, 1, 12))
    assert found.zones == {"Asia/Kathmandu": 1} and found.defaulted == 0


def test_a_day_too_far_ahead_is_refused() -> None:
    day = dt.datetime.fromtimestamp(utc(2026, 6, 1, 12), dt.timezone.utc).date() + dt.timedelta(days=3)
    with pytest.raises(Exception, match="more than 72 hours ahead"):
        plan([({"timezone": "Pacific/Pago_Pago"}, 2)], rule(f"{day.isoformat()}T09:00"), utc(2026, 6, 1, 12))


# -- a real send through the SendGrid test server ---------------------------------------------


def write_zoned_list(path: Path, zones: list[str], copies: int = 1) -> dict[str, str]:
    """A list with a timezone column; returns each address's zone (the default where unknown)."""
    zone_of: dict[str, str] = {}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "status", "timezone"])
        for n in range(copies):
            for i, zone in enumerate(zones):
                email = f"reader{n:05d}-{i}@example.org"
                w.writerow([email, f"Reader{i}", "subscribed", zone])
                zone_of[email] = zone if zone and not zone.startswith("Mars") else DEFAULT
    return zone_of


def safe_hour(now: float, zones: list[str]) -> str:
    """09:00, unless some reader's next 09:00 is so close that SendGrid would no longer let
    it be cancelled (10 minutes): then 21:00 (the test stays about what it checks)."""
    for text in ("09:00", "21:00"):
        if all(send_time(ZoneInfo(z), rule(text), int(now)) - now > 30 * 60 for z in set(zones)):
            return text
    raise AssertionError("no hour is safe")  # cannot happen: 09:00 and 21:00 are 12 hours apart


def send_local(project: Path, server: SendGridServer, *args: str) -> CliResult:
    return run_cli("send", EXAMPLE_ISSUE, "--yes", "--list", "zoned.csv", "--local", *args, cwd=project, env=env(server))


def test_a_list_across_ten_zones_is_scheduled_at_nine_local_in_one_recallable_batch(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    zone_of = write_zoned_list(project / "zoned.csv", ZONES)
    start = time.time()
    hour = safe_hour(start, list(zone_of.values()))
    result = send_local(project, sendgrid_server, "--at", hour)
    assert result.code == 0, result.output
    end = time.time()
    assert f"Local time: {hour} in each reader's zone" in result.out
    assert "10 reader(s) in 8 zone(s)" in result.out  # London thrice: its own, the unknown and the empty
    assert "2 reader(s) get the newsletter's zone, Europe/London: 1 without a zone, 1 with one that is not" in result.out
    assert "zoned.csv:10: timezone 'Mars/Olympus_Mons' is not a time zone" in result.err
    assert f"Scheduled with sendgrid for {hour} in each reader's zone, from " in result.out

    bodies = sendgrid_server.log.requests
    assert sendgrid_server.log.invalid == []
    batch = bodies[0]["batch_id"]
    assert {b["batch_id"] for b in bodies} == {batch} and batch in sendgrid_server.account.batches
    want_h, want_m = map(int, hour.split(":"))
    seen: set[str] = set()
    for body in bodies:
        times = {p["send_at"] for p in body["personalizations"]}
        assert len(times) == 1, "a request holds readers of one send time"
        assert body["send_at"] <= min(times)  # the top-level time never later than its readers'
        for p in body["personalizations"]:
            email = p["to"][0]["email"]
            seen.add(email)
            at = local(p["send_at"], zone_of[email])
            assert (at.hour, at.minute, at.second) == (want_h, want_m, 0), (email, at)
            assert int(start) <= p["send_at"] <= end + 72 * 3600
            assert p["send_at"] - 86400 - 3600 < end  # the next one, not a day later
    assert seen == set(zone_of)
    assert len(bodies) == len({p["send_at"] for b in bodies for p in b["personalizations"]})

    status = run_cli("status", EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
    assert f"batch      {batch}" in status.out and "SendGrid   will go out at those times" in status.out
    assert "scheduled  each reader at their own hour, from " in status.out, status.out
    paused = run_cli("pause", EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
    assert paused.code == 0 and sendgrid_server.account.batches[batch] == "pause", paused.output
    cancelled = run_cli("cancel", EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
    assert cancelled.code == 0, cancelled.output
    assert sendgrid_server.account.batches[batch] == "cancel"
    assert "The journal records 10 recipient(s) as cancelled" in cancelled.out


def test_the_local_time_setting_makes_at_an_hour_in_each_readers_zone(project: Path, sendgrid_server: SendGridServer) -> None:
    zone_of = write_zoned_list(project / "zoned.csv", ZONES)
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("delivery:\n  local_time: true\n  local_time_past: now\n")
    start = int(time.time())
    result = run_cli(
        "send", EXAMPLE_ISSUE, "--yes", "--list", "zoned.csv", "--at", "09:00", cwd=project, env=env(sendgrid_server)
    )
    assert result.code == 0, result.output
    assert "(a reader whose 09:00 has gone: at the start of the send)" in result.out
    for body in sendgrid_server.log.requests:
        for p in body["personalizations"]:
            at = local(p["send_at"], zone_of[p["to"][0]["email"]])
            started = local(start, zone_of[p["to"][0]["email"]])
            if started.hour >= 9 and started.date() == at.date():  # today's 09:00 had gone: at the start
                assert start <= p["send_at"] <= time.time()
            else:
                assert (at.hour, at.minute, at.second) == (9, 0, 0)
    assert sendgrid_server.log.invalid == []


def test_a_local_time_send_is_recalled_only_until_ten_minutes_before_its_first_readers(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    write_zoned_list(project / "zoned.csv", ZONES)
    result = send_local(project, sendgrid_server, "--at", safe_hour(time.time(), [DEFAULT, *ZONES[:8]]))
    assert result.code == 0, result.output
    path = project / ".newsletter" / "schedules.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    (entry,) = data["scheduled"].values()
    assert entry["send_until"] > entry["send_at"]
    entry["send_at"] = int(time.time()) + 5 * 60  # as if the first readers were five minutes away
    path.write_text(json.dumps(data), encoding="utf-8")
    for verb in ("cancel", "pause"):
        refused = run_cli(verb, EXAMPLE_ISSUE, cwd=project, env=env(sendgrid_server))
        assert refused.code == 2, refused.output
        assert f"too late to {verb}: the first readers of this local-time send are due" in refused.err
    assert set(sendgrid_server.account.batches.values()) == {None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "25:00"), "--at '25:00' with --local is an hour in each reader's zone"),
        (("--at", "09:00+02:00"), "is an hour in each reader's zone"),
        ((), "--local needs --at HH:MM"),
        (("--at", "09:00", "--provider", "outbox"), "needs the sendgrid provider"),
        (("--at", "09:00", "--dry-run"), "is for a real send"),
    ],
)
def test_bad_local_options_are_refused_with_nothing_sent(
    project: Path, sendgrid_server: SendGridServer, args: tuple[str, ...], message: str
) -> None:
    write_zoned_list(project / "zoned.csv", ZONES)
    result = send_local(project, sendgrid_server, *args)
    assert result.code == 2 and message in result.err, result.output
    assert "Traceback" not in result.output
    assert sendgrid_server.log.requests == []


def test_a_day_past_72_hours_is_refused_before_anything_is_sent(project: Path, sendgrid_server: SendGridServer) -> None:
    write_zoned_list(project / "zoned.csv", ZONES)
    day = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).date()
    result = send_local(project, sendgrid_server, "--at", f"{day.isoformat()}T09:00")
    assert result.code == 2, result.output
    assert "would be sent more than 72 hours ahead" in result.err and "nothing was sent" in result.err
    assert sendgrid_server.log.requests == [] and "Traceback" not in result.output
    assert not (project / ".newsletter" / "schedules.json").exists()


# -- kill -9 drills -------------------------------------------------------------------------


class LocalDrill(Drill):
    hour: str = "09:00"

    def command(self, issue: str, *extra: str) -> list[str]:
        return [*super().command(issue, *extra), "--at", self.hour, "--local"]


@pytest.mark.slow  # a crash drill: the sender killed at many moments of a local-time send
@pytest.mark.parametrize("kill", ["sender", "group"])
def test_a_local_time_send_killed_again_and_again_sends_nobody_twice(project: Path, kill: str) -> None:
    seed = random.randrange(1 << 30)
    zone_of = write_zoned_list(project / "list.csv", ZONES, copies=300)
    good = sorted(zone_of)
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("delivery:\n  batch_size: 100\n  sendgrid:\n    log_delay: 0\n")
    with SendGridServer(delay=0.02, validate="first") as server:
        drill = LocalDrill(project, server, seed, kill, deadline=time.monotonic() + 600)
        drill.hour = safe_hour(time.time(), list(zone_of.values()))
        rng = random.Random(seed)
        slug = Path(ISSUE).stem
        for _ in range(40):
            code = drill.run_once(ISSUE, slug, rng, len(good))
            if code == 0:
                break
            assert code is None, drill.log[-1]
        else:
            raise AssertionError(f"the send never finished (seed {seed})")
        assert drill.kills >= 3, f"seed {seed}"
        verify(project, server, slug, good, [])
        assert server.log.invalid == []
        want = tuple(map(int, drill.hour.split(":")))
        batches = {b["batch_id"] for b in server.log.requests}
        assert len(batches) == 1, f"one batch id across every run (seed {seed})"
        for body in server.log.requests:
            for p in body["personalizations"]:
                at = local(p["send_at"], zone_of[p["to"][0]["email"]])
                assert (at.hour, at.minute) == want, f"seed {seed}"
    db = sqlite3.connect(project / ".newsletter" / "journal.sqlite3")
    try:
        assert db.execute("SELECT count(*) FROM sends").fetchone()[0] == 1
    finally:
        db.close()


def test_an_issue_in_two_languages_at_each_readers_hour(project: Path, sendgrid_server: SendGridServer) -> None:
    """Languages and local time together: every request holds readers of one language and one
    send time; each reader gets their own language's words at their own 09:00."""
    from tests.test_check_languages import TWO

    issue = "issues/2024-06-20-two.yaml"
    (project / issue).write_text(TWO, encoding="utf-8")
    readers = [
        ("amina@example.org", "cy", "Asia/Kathmandu"),
        ("ben@example.org", "en", "Asia/Kathmandu"),
        ("chloe@example.org", "cy", "America/St_Johns"),
        ("dev@example.org", "en", "America/St_Johns"),
        ("eilidh@example.org", "cy", "Mars/Olympus_Mons"),
        ("farah@example.org", "fr", ""),
    ]
    with (project / "zoned.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "status", "language", "timezone"])
        for address, language, zone in readers:
            w.writerow([address, address.split("@")[0].title(), "subscribed", language, zone])
    start = time.time()
    hour = safe_hour(start, [z if "/" in z and not z.startswith("Mars") else DEFAULT for _, _, z in readers])
    result = run_cli(
        "send", issue, "--yes", "--list", "zoned.csv", "--local", "--at", hour, cwd=project, env=env(sendgrid_server)
    )
    assert result.code == 0, result.output
    assert "Languages: cy 3, en 3" in result.output or "Languages: en 3, cy 3" in result.output
    bodies = sendgrid_server.log.requests
    assert sendgrid_server.log.invalid == []
    assert len({b["batch_id"] for b in bodies}) == 1
    want_h, want_m = map(int, hour.split(":"))
    seen: dict[str, str] = {}
    for body in bodies:
        times = {p["send_at"] for p in body["personalizations"]}
        assert len(times) == 1, "a request holds readers of one send time"
        welsh = body["subject"].startswith("Diweddariad")
        html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
        assert ("Ein mis" in html) == welsh and ('lang="cy"' in html) == welsh
        for p in body["personalizations"]:
            address = p["to"][0]["email"]
            assert address not in seen  # one email each
            seen[address] = "cy" if welsh else "en"
            zone = next(z for a, _, z in readers if a == address)
            at = local(p["send_at"], zone if "/" in zone and not zone.startswith("Mars") else DEFAULT)
            assert (at.hour, at.minute, at.second) == (want_h, want_m, 0), (address, at)
    assert seen == {
        "amina@example.org": "cy",
        "ben@example.org": "en",
        "chloe@example.org": "cy",
        "dev@example.org": "en",
        "eilidh@example.org": "cy",
        "farah@example.org": "en",
    }


def test_tracking_by_consent_at_each_readers_hour_keeps_one_time_per_request(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    """``tracking: consented`` splits requests by the readers' choice; local time still puts
    readers of one send time in a request (each kind of reader at their own hour)."""
    zones = ["Asia/Kathmandu", "America/St_Johns", "Pacific/Apia"]
    with (project / "zoned.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "timezone", "tracking_consent"])
        for i in range(12):
            w.writerow([f"reader{i:02d}@example.org", f"Reader{i}", zones[i % 3], "yes" if i % 2 else "no"])
    settings_file = project / "newsletter.yaml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8") + "tracking: consented\n", encoding="utf-8")
    hour = safe_hour(time.time(), zones)
    result = send_local(project, sendgrid_server, "--at", hour)
    assert result.code == 0, result.output
    bodies = sendgrid_server.log.requests
    assert sendgrid_server.log.invalid == [] and len({b["batch_id"] for b in bodies}) == 1
    seen = 0
    for body in bodies:
        times = {p["send_at"] for p in body["personalizations"]}
        assert len(times) == 1, "a request holds readers of one send time"
        consent = {int(p["to"][0]["email"][6:8]) % 2 for p in body["personalizations"]}
        assert len(consent) == 1, "a request holds readers of one tracking choice"
        seen += len(body["personalizations"])
    assert seen == 12 and len(bodies) == 6  # three zones, two choices


def test_a_local_time_send_stopped_part_way_is_resumed_at_each_readers_hour(
    project: Path, sendgrid_server: SendGridServer
) -> None:
    """SendGrid refuses the second request: run again without --at, the rest go at each
    reader's hour in the same batch; run again with another hour, nothing is sent."""
    zone_of = write_zoned_list(project / "zoned.csv", ZONES, copies=3)
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("delivery:\n  batch_size: 5\n")
    hour = safe_hour(time.time(), list(zone_of.values()))
    sendgrid_server.fail_next("ok", "401")
    first = send_local(project, sendgrid_server, "--at", hour)
    accepted = len(sendgrid_server.log.accepted)  # the first request: the readers of one send time
    assert first.code != 0 and 0 < accepted < len(zone_of), first.output

    other = "21:00" if hour == "09:00" else "09:00"
    refused = send_local(project, sendgrid_server, "--at", other)
    assert refused.code == 2, refused.output
    assert f"this send was scheduled for {hour} in each reader's zone" in refused.err, refused.err
    assert "Nothing was sent" in refused.err and len(sendgrid_server.log.accepted) == accepted

    again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--list", "zoned.csv", cwd=project, env=env(sendgrid_server))
    assert again.code == 0, again.output
    assert f"This send was scheduled for {hour} in each reader's zone" in again.out, again.out
    assert sorted(sendgrid_server.log.accepted) == sorted(zone_of)
    want = tuple(map(int, hour.split(":")))
    bodies = sendgrid_server.log.requests
    assert len({b["batch_id"] for b in bodies}) == 1
    for body in bodies:
        for p in body["personalizations"]:
            at = local(p["send_at"], zone_of[p["to"][0]["email"]])
            assert (at.hour, at.minute) == want
    assert sendgrid_server.log.invalid == []


@pytest.mark.parametrize(
    "timing",
    [
        Timing(),
        Timing(send_at=1_765_105_200),
        Timing(local=rule()),
        Timing(local=LocalRule.parse("2027-03-28T01:30:45", "now", "Australia/Lord_Howe")),
    ],
)
def test_a_timing_is_read_back_as_it_was_kept(timing: Timing) -> None:
    """What the journal and the send record keep of a send's timing gives it back whole (a
    resumed send compares it with the one it is asked for)."""
    assert Timing.parse(timing.text()) == timing
