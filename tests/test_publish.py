"""``newsletter publish``: the web edition, read back with real parsers.

The site is published by the real command (a subprocess) from a copy of the example
project with two more issues: one with a December event (GMT) and an event in Paris,
and one with a future date. Pages are read with lxml, the feed with feedparser, the
calendar files with icalendar; the links are crawled over a local HTTP server.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import feedparser
import icalendar
import lxml.html
import pytest

from newsletter.project import open_issue
from tests.conftest import EXAMPLE_ISSUE, CliResult, run_cli
from tests.html_kit import fragment

EXAMPLE_SLUG = "2024-06-june-team-update"
WINTER_SLUG = "2024-11-winter-update"
ARCHIVE = "https://www.coproductioncollective.co.uk/newsletters/"
# 15 November 2024, 12:00 UTC: the December event is upcoming, the summer ones are past.
NOW = int(dt.datetime(2024, 11, 15, 12, 0, tzinfo=dt.timezone.utc).timestamp())
UTC = dt.timezone.utc
JULY, AUGUST, SEPTEMBER = "2024-07-01-co-pro-cuppa", "2024-08-06-co-pro-cuppa", "2024-09-06-co-pro-cuppa"
DECEMBER, PARIS = "2024-12-10-december-cuppa", "2024-07-01-co-production-in-paris"

WINTER = """\
title: Winter update
subject: "Winter update: the last Cuppa of the year"
preheader: The December Cuppa, a visit to Paris, and what we learnt this autumn.
date: 2024-11-01
blocks:
  - type: text
    text: |
      Read [our blog](https://www.coproductioncollective.co.uk/news/) for the autumn's news.
  - type: events
    title: Coming up
    items:
      - title: December Cuppa
        start: 2024-12-10 18:00
        end: 2024-12-10 19:30
        place: online
      - title: Co-production in Paris
        timezone: Europe/Paris
        start: 2024-07-01 12:00
        place: Paris
"""
FUTURE = """\
title: Next year
subject: Next year
date: 2099-01-01
blocks:
  - type: text
    text: Not yet.
"""


def publish(root: Path, *args: str, epoch: int = NOW) -> CliResult:
    return run_cli("publish", *args, cwd=root, env={"SOURCE_DATE_EPOCH": str(epoch)})


@pytest.fixture
def project3(project: Path) -> Path:
    (project / "issues" / f"{WINTER_SLUG}.yaml").write_text(WINTER, encoding="utf-8")
    (project / "issues" / "2099-01-next-year.yaml").write_text(FUTURE, encoding="utf-8")
    return project


@pytest.fixture
def site(project3: Path) -> Path:
    result = publish(project3)
    assert result.code == 0, result.output
    return project3 / "site"


def page(site: Path, name: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((site / name).read_bytes())


def calendar(site: Path, name: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical((site / name).read_bytes())


def events(cal: icalendar.Calendar) -> list[icalendar.Component]:
    return list(cal.walk("VEVENT"))


def files_of(site: Path) -> dict[str, Path]:
    """Every file of the site by its name inside it (``events/…`` included)."""
    return {str(p.relative_to(site)): p for p in site.rglob("*") if p.is_file()}


# --- what is written --------------------------------------------------------------------


def test_the_site_has_a_page_per_issue_an_index_a_feed_and_calendars(site: Path, project3: Path) -> None:
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()) == sorted(
        [
            f"{EXAMPLE_SLUG}.html",
            f"{EXAMPLE_SLUG}.ics",
            *(f"events/{e}.ics" for e in (JULY, AUGUST, SEPTEMBER, DECEMBER, PARIS)),
            f"{WINTER_SLUG}.html",
            f"{WINTER_SLUG}.ics",
            "index.html",
            "feed.xml",
            "feed.xsl",
            "calendar.ics",
        ]
    )
    # an issue dated after today waits (it may not have been sent yet)
    assert not (site / "2099-01-next-year.html").exists()
    out = publish(project3).out
    assert "not yet: issues/2099-01-next-year.yaml is dated after today" in out


def test_the_page_is_the_one_the_emails_links_name(site: Path, project3: Path) -> None:
    _, _, rendered = open_issue(project3 / EXAMPLE_ISSUE)
    assert rendered.archive_url == ARCHIVE + f"{EXAMPLE_SLUG}.html"
    email = lxml.html.fromstring(rendered.html)
    archive_links = [href for a in email.iter("a") if (href := a.get("href", "")).startswith(ARCHIVE)]
    assert rendered.archive_url in archive_links
    calendar_links = [h for h in archive_links if h.endswith(".ics")]
    assert calendar_links == [ARCHIVE + f"events/{e}.ics" for e in (JULY, AUGUST, SEPTEMBER)]
    for href in archive_links:
        assert (site / href.removeprefix(ARCHIVE)).is_file(), href
    # the plain text names the same calendar files
    for href in calendar_links:
        assert f"  Add to calendar:\n  {href}\n" in rendered.text  # the address on a line of its own (78 columns)


def test_the_page_has_a_real_head_for_sharing(site: Path) -> None:
    doc = page(site, f"{EXAMPLE_SLUG}.html")
    head = doc.find("head")
    meta = {m.get("name") or m.get("property"): m.get("content") for m in head.iter("meta") if m.get("content")}
    assert head.findtext("title") == "June Team Update: Building on meaningful conversations · Co-Production Collective"
    assert meta["description"].startswith("Trust, anti-racism and co-production")
    assert head.xpath("string(link[@rel='canonical']/@href)") == ARCHIVE + f"{EXAMPLE_SLUG}.html"
    assert meta["og:url"] == ARCHIVE + f"{EXAMPLE_SLUG}.html"
    assert meta["og:title"] == "June Team Update: Building on meaningful conversations"
    assert meta["og:image"] == "https://www.coproductioncollective.co.uk/images/news/june-2024-conversations-mug.jpg"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["twitter:image"] == meta["og:image"]
    assert [m.get("charset") for m in head.iter("meta") if m.get("charset")] == ["utf-8"]
    # the same design: the email's content, with links to the calendar files beside it
    assert doc.xpath("string(//h1)") == "June Team Update: Building on meaningful conversations"
    hrefs = [a.get("href") for a in doc.iter("a")]
    assert f"events/{JULY}.ics" in hrefs and "index.html" in hrefs


def test_no_page_skips_a_heading_level(site: Path) -> None:
    """The winter issue's events block (an h3) comes right under the title (h1): a screen
    reader hears it as level 2, and it keeps its look."""
    for name in (f"{EXAMPLE_SLUG}.html", f"{WINTER_SLUG}.html", "index.html"):
        headings = page(site, name).xpath("//h1|//h2|//h3|//h4|//h5|//h6")
        levels = [int(h.get("aria-level") or h.tag[1]) for h in headings]
        assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:])), (name, levels)
    coming_up = page(site, f"{WINTER_SLUG}.html").xpath("//h3[.='Coming up']")[0]
    assert coming_up.get("aria-level") == "2"


def test_nothing_personal_reaches_the_site(site: Path, project3: Path) -> None:
    addresses = [
        line.split(",")[0].strip().lower()
        for line in (project3 / "subscribers.csv").read_text(encoding="utf-8").splitlines()[1:]
        if "@" in line
    ]
    assert addresses
    for path in files_of(site).values():
        text = path.read_text(encoding="utf-8").lower()
        assert "__nl_" not in text, path.name
        for address in addresses:
            assert address not in text, (path.name, address)
    html = (site / f"{EXAMPLE_SLUG}.html").read_text(encoding="utf-8")
    assert "Unsubscribe" not in html and "unsubscribe?token" not in html
    assert "Dear " not in html  # no greeting: a page has no reader to greet
    assert "You are receiving this email" not in html


def test_a_subscribe_link_takes_the_unsubscribe_links_place(project: Path) -> None:
    settings = project / "newsletter.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "subscribe_url: https://www.coproductioncollective.co.uk/join\n", encoding="utf-8"
    )
    assert publish(project).code == 0
    doc = page(project / "site", f"{EXAMPLE_SLUG}.html")
    footer = doc.find_class("nl-footer")[0]
    links = [(a.text_content(), a.get("href")) for a in footer.iter("a")]
    assert links == [("Subscribe", "https://www.coproductioncollective.co.uk/join"), ("All issues", "index.html")]
    assert "Subscribe · All issues" in footer.text_content()
    index = page(project / "site", "index.html")
    assert "https://www.coproductioncollective.co.uk/join" in [a.get("href") for a in index.iter("a")]


def test_the_index_lists_every_issue_newest_first(site: Path) -> None:
    doc = page(site, "index.html")
    items = doc.xpath("//main//li")
    assert [li.xpath("string(.//h2/a/@href)") for li in items] == [f"{WINTER_SLUG}.html", f"{EXAMPLE_SLUG}.html"]
    assert [li.xpath("string(.//time)") for li in items] == ["1 November 2024", "14 June 2024"]
    assert "The December Cuppa, a visit to Paris" in items[0].text_content()


def test_base_url_makes_links_absolute(project3: Path) -> None:
    assert publish(project3, "--base-url", "https://news.example.net/archive").code == 0
    doc = page(project3 / "site", "index.html")
    assert f"https://news.example.net/archive/{WINTER_SLUG}.html" in [a.get("href") for a in doc.iter("a")]
    issue = page(project3 / "site", f"{EXAMPLE_SLUG}.html")
    hrefs = [a.get("href") for a in issue.iter("a")]
    assert f"https://news.example.net/archive/events/{JULY}.ics" in hrefs
    assert issue.xpath("string(//link[@rel='canonical']/@href)") == f"https://news.example.net/archive/{EXAMPLE_SLUG}.html"


# --- the same bytes; nothing rewritten ------------------------------------------------------


def test_output_is_byte_identical_and_unchanged_files_are_not_rewritten(site: Path, project3: Path, tmp_path: Path) -> None:
    before = {name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for name, p in files_of(site).items()}
    again = publish(project3)
    assert again.code == 0 and f"0 written, {len(before)} unchanged" in again.out
    after = {name: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for name, p in files_of(site).items()}
    assert after == before
    other = tmp_path / "elsewhere"
    assert publish(project3, "-o", str(other)).code == 0
    assert {name: p.read_bytes() for name, p in files_of(other).items()} == {k: v[0] for k, v in before.items()}
    # a change to one issue rewrites its page, the index and the feed, and nothing else
    path = project3 / "issues" / f"{WINTER_SLUG}.yaml"
    path.write_text(WINTER.replace("for the autumn's news", "for all the autumn's news"), encoding="utf-8")
    changed = publish(project3)
    assert changed.code == 0
    rewritten = {name for name, p in files_of(site).items() if p.stat().st_ino != before[name][2]}
    assert rewritten == {f"{WINTER_SLUG}.html", "feed.xml"}


# --- the feed ---------------------------------------------------------------------------------


def test_feedparser_reads_the_feed(site: Path) -> None:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Co-Production Collective"
    assert [e.link for e in feed.entries] == [ARCHIVE + f"{WINTER_SLUG}.html", ARCHIVE + f"{EXAMPLE_SLUG}.html"]
    assert [e.title for e in feed.entries] == ["Winter update", "June Team Update: Building on meaningful conversations"]
    first = feed.entries[1]
    assert first.published_parsed[:3] == (2024, 6, 13)  # midnight UK time (BST) is 23:00 UTC the day before
    assert first.summary.startswith("Trust, anti-racism and co-production")
    content = first.content[0]
    assert content.type == "text/html"
    body = lxml.html.fromstring(content.value)
    assert body.xpath("string(//h1)") == "June Team Update: Building on meaningful conversations"
    hrefs = [a.get("href", "") for a in body.iter("a")]
    assert hrefs and all(h.startswith(("https://", "mailto:")) for h in hrefs), hrefs  # absolute links
    assert ARCHIVE + f"events/{JULY}.ics" in hrefs


# --- the calendar files ----------------------------------------------------------------------


def test_calendar_files_give_the_right_instants(site: Path) -> None:
    july = calendar(site, f"events/{JULY}.ics")
    (event,) = events(july)
    start = event.decoded("dtstart")
    assert start.astimezone(UTC) == dt.datetime(2024, 7, 1, 11, 0, tzinfo=UTC)  # 12:00 UK time (BST)
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert [tz["TZID"] for tz in july.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(event["summary"]) == "Co-Pro Cuppa"

    winter = calendar(site, f"{WINTER_SLUG}.ics")
    december, paris = events(winter)
    assert december.decoded("dtstart").astimezone(UTC) == dt.datetime(2024, 12, 10, 18, 0, tzinfo=UTC)  # GMT
    assert december.decoded("dtend").astimezone(UTC) == dt.datetime(2024, 12, 10, 19, 30, tzinfo=UTC)
    assert december["dtstart"].params["TZID"] == "Europe/London"
    assert paris["dtstart"].params["TZID"] == "Europe/Paris"  # keeps its own zone
    assert paris.decoded("dtstart").astimezone(UTC) == dt.datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert str(paris["location"]) == "Paris"
    assert sorted(str(tz["TZID"]) for tz in winter.walk("VTIMEZONE")) == ["Europe/London", "Europe/Paris"]
    # the issue's calendar holds the same events as the single ones, with the same UIDs
    singles = [events(calendar(site, f"events/{e}.ics"))[0] for e in (DECEMBER, PARIS)]
    assert [str(e["uid"]) for e in singles] == [str(december["uid"]), str(paris["uid"])]


def test_uids_are_distinct_and_follow_the_events_identity(site: Path) -> None:
    uids = [str(e["uid"]) for p in sorted(site.glob("events/*.ics")) for e in events(calendar(site, f"events/{p.name}"))]
    assert len(set(uids)) == len(uids) == 5
    assert f"{JULY}@www.coproductioncollective.co.uk" in uids


def test_calendar_ics_holds_every_event_of_the_archive_soonest_first(site: Path, project3: Path) -> None:
    cal = calendar(site, "calendar.ics")
    summaries = [str(e["summary"]) for e in events(cal)]
    assert summaries == ["Co-production in Paris", "Co-Pro Cuppa", "Co-Pro Cuppa", "Co-Pro Cuppa", "December Cuppa"]
    assert str(cal["x-wr-calname"]) == "Co-Production Collective: events"
    # past events stay: the same file whenever it is published
    before = (site / "calendar.ics").read_bytes()
    later = int(dt.datetime(2025, 6, 1, tzinfo=UTC).timestamp())
    assert publish(project3, epoch=later).code == 0
    assert (site / "calendar.ics").read_bytes() == before
    # in June only the June issue is out: its three Cuppas (a project that never published before)
    (project3 / "published.json").unlink()
    june = int(dt.datetime(2024, 6, 20, tzinfo=UTC).timestamp())
    assert publish(project3, "-o", "june", epoch=june).code == 0
    coming = events(calendar(project3 / "june", "calendar.ics"))
    assert [str(e["summary"]) for e in coming] == ["Co-Pro Cuppa"] * 3


# --- links: a crawl over a local server --------------------------------------------------------


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    handler = partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_a_crawl_finds_no_broken_internal_link(served: str) -> None:
    seen: set[str] = set()
    todo = [served + "index.html"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        with urlopen(url, timeout=10) as response:  # raises on 404
            assert response.status == 200, url
            body = response.read()
            kind = response.headers.get_content_type()
        if kind != "text/html":
            continue
        doc = fragment(body)
        for element, _attribute, link, _ in doc.iterlinks():
            if element.tag not in ("a", "link") or element.get("rel") == "canonical":
                continue
            target = urljoin(url, link).split("#", 1)[0]
            if urlsplit(target).netloc == urlsplit(served).netloc:
                todo.append(target)
    names = {urlsplit(u).path.lstrip("/") for u in seen}
    assert {
        f"{EXAMPLE_SLUG}.html",
        f"{WINTER_SLUG}.html",
        "feed.xml",
        "calendar.ics",
        f"events/{SEPTEMBER}.ics",
        f"events/{PARIS}.ics",
    } <= names


# --- bad input -------------------------------------------------------------------------------


def test_an_issue_that_does_not_build_is_left_out_and_the_rest_published(project3: Path) -> None:
    (project3 / "issues" / "2024-10-broken.yaml").write_text(
        WINTER.replace("title: Winter update", "titel: Broken"), encoding="utf-8"
    )
    result = publish(project3)
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    assert "left out: issues/2024-10-broken.yaml" in result.err
    assert "issues/2024-10-broken.yaml:1:1: titel: unknown key 'titel'" in result.err
    assert "error: 1 issue left out of the site" in result.err
    site = project3 / "site"
    assert (site / f"{EXAMPLE_SLUG}.html").is_file() and (site / f"{WINTER_SLUG}.html").is_file()
    assert not (site / "2024-10-broken.html").exists()
    assert "2024-10-broken" not in (site / "index.html").read_text(encoding="utf-8")


def test_an_output_folder_that_cannot_be_written_is_a_clear_error(project: Path) -> None:
    (project / "blocker").write_text("a file, not a folder", encoding="utf-8")
    for out, words in (
        ("blocker", "Directory 'blocker' is a file"),
        ("blocker/site", "blocker/site: cannot create the folder: Not a directory"),
    ):
        result = publish(project, "-o", out)
        assert result.code == 2, result.output
        assert "Traceback" not in result.output
        assert words in result.err
    if os.geteuid() != 0:  # root may write anywhere
        locked = project / "locked"
        locked.mkdir(mode=0o500)
        result = publish(project, "-o", "locked")
        assert result.code == 2 and "locked: cannot write into this folder" in result.err


def test_bad_command_line_input_is_refused(project: Path) -> None:
    result = publish(project, "issues/nope.yaml")
    assert result.code == 2 and "issues/nope.yaml: no such issue file" in result.err
    result = publish(project, "--base-url", "ftp://example.net/")
    assert result.code == 2 and "give a full http(s):// address" in result.err
    result = publish(project, "--base-url", "https://editor:s3cret@news.example.net/")
    assert result.code == 2 and "user name or password" in result.err and "Traceback" not in result.err
    assert "s3cret" not in result.output
    result = publish(project, "--base-url", "https://editor:s3cret@news.example.net/\n")
    assert result.code == 2 and "user name or password" in result.err and "s3cret" not in result.output
    for broken in (
        "https://news.example.net/\nLocation: https://evil.example/",
        "https://news.example.net/\r",
        "https://news.example.net/a b",
        "https:///archive",
    ):
        result = publish(project, "--base-url", broken)
        assert result.code == 2 and "--base-url" in result.err, result.output
        assert "Traceback" not in result.output
    assert not (project / "site").exists()


# --- check --online once published ----------------------------------------------------------


def test_check_online_confirms_the_page_and_calendar_links_once_published(project: Path) -> None:
    from newsletter.checks import run_checks

    site = project / "site"
    site.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        settings = project / "newsletter.yaml"
        text = settings.read_text(encoding="utf-8")
        text = text.replace("web_archive_url: https://www.coproductioncollective.co.uk/newsletters/", f"web_archive_url: {base}")
        text = text.split("logo:\n", 1)[0] + "colours:\n" + text.split("\ncolours:\n", 1)[1]  # no remote logo
        settings.write_text(text + "check:\n  timeout: 5\n", encoding="utf-8")
        for path in (project / "issues").iterdir():
            path.unlink()
        issue = project / "issues" / "2024-07-local.yaml"
        issue.write_text(
            f"""\
title: Local
subject: Local
preheader: Only links to this machine, so that the online check stays on it.
date: 2024-06-20
blocks:
  - type: text
    text: See [the archive]({base}index.html).
  - type: events
    items:
      - title: Cuppa
        start: 2024-07-01 12:00
""",
            encoding="utf-8",
        )

        def online() -> dict[str, str]:
            proj, issue_file, rendered = open_issue(issue)
            found = run_checks(proj, issue_file, rendered, online=True)
            return {f.message: f.hint for f in found if f.rule == "online-status"}

        before = online()
        assert set(before) == {
            f"the link {base}{name} answered 404" for name in ("2024-07-local.html", "events/2024-07-01-cuppa.ics", "index.html")
        }
        assert all("newsletter publish" in hint for hint in before.values())
        result = publish(project)
        assert result.code == 0, result.output
        assert online() == {}
    finally:
        server.shutdown()
        server.server_close()


def test_a_projects_own_footer_is_made_safe_for_the_web(project: Path) -> None:
    """Whatever a template override writes, no reader's details and no per-reader link
    reach the page, and no separator is left dangling."""
    (project / "templates").mkdir()
    (project / "templates" / "footer.mjml.j2").write_text(
        """\
    <mj-section>
      <mj-column>
        <mj-text css-class="nl-footer">
          <p>Hi {{ recipient.first_name }}, thanks for reading. {{ settings.postal_address }}</p>
          <p><a href="{{ archive_url }}">View online</a> | <a href="{{ recipient.unsubscribe_url }}">Leave the list</a> | <a href="https://www.coproductioncollective.co.uk/profile?email={{ recipient.url.email }}">Update your details</a></p>
        </mj-text>
      </mj-column>
    </mj-section>
""",
        encoding="utf-8",
    )
    assert publish(project).code == 0
    html = (project / "site" / f"{EXAMPLE_SLUG}.html").read_text(encoding="utf-8")
    footer = fragment(html).find_class("nl-footer")[0]
    paragraphs = [" ".join(p.text_content().split()) for p in footer.iter("p")]
    assert paragraphs[0].startswith("Hi friend, thanks for reading.")  # the fallback name, as for a reader without one
    assert paragraphs[1] == "All issues"
    assert [a.get("href") for a in footer.iter("a")] == ["index.html"]
    assert "__nl_" not in html and "Leave the list" not in html and "profile?email" not in html


def _small_issue(project: Path, day: dt.date) -> str:
    path = f"issues/{day:%Y-%m-%d}-note.yaml"
    (project / path).write_text(
        f"title: Note of {day:%d %B %Y}\nsubject: A note for {day:%d %B %Y}\n"
        f"date: {day.isoformat()}\nblocks:\n  - type: text\n    text: Hello\n",
        encoding="utf-8",
    )
    return path


def test_the_feed_keeps_the_newest_twenty_issues(project: Path) -> None:
    days = [dt.date(2023, 1, 1) + dt.timedelta(days=7 * i) for i in range(22)]
    for day in days:
        _small_issue(project, day)
    result = run_cli("publish", cwd=project, env={"SOURCE_DATE_EPOCH": "1800000000"})
    assert result.code == 0, result.output
    feed = feedparser.parse((project / "site" / "feed.xml").read_bytes())
    titles = [e.title for e in feed.entries]
    assert len(titles) == 20
    assert titles[0].startswith("June Team Update")  # the example, 14 June 2024, is the newest
    assert f"Note of {days[-1]:%d %B %Y}" in titles
    assert f"Note of {days[0]:%d %B %Y}" not in titles and f"Note of {days[1]:%d %B %Y}" not in titles


@pytest.mark.parametrize(
    ("now", "why"),
    [
        ("2024-06-14T11:00:00+00:00", "an issue dated today is published today"),
        ("2024-06-13T23:30:00+00:00", "00:30 on the 14th in London, the publication's zone (still the 13th in UTC)"),
    ],
)
def test_an_issue_is_published_on_its_day_in_the_publications_zone(project: Path, now: str, why: str) -> None:
    epoch = int(dt.datetime.fromisoformat(now).timestamp())
    result = run_cli("publish", cwd=project, env={"SOURCE_DATE_EPOCH": str(epoch)})
    assert result.code == 0, result.output
    assert "not yet" not in result.out, why
    assert (project / "site" / "2024-06-june-team-update.html").is_file(), why


def test_an_issue_dated_tomorrow_in_the_publications_zone_waits(project: Path) -> None:
    epoch = int(dt.datetime.fromisoformat("2024-06-13T22:30:00+00:00").timestamp())  # 23:30 on the 13th in London
    result = run_cli("publish", cwd=project, env={"SOURCE_DATE_EPOCH": str(epoch)})
    assert "not yet: issues/2024-06-june-team-update.yaml is dated after today" in result.out
    assert not (project / "site" / "2024-06-june-team-update.html").exists()


def test_events_in_a_second_events_block_have_their_own_identity(project: Path) -> None:
    """Two events blocks: the fourth event has its own file and UID, not the first's."""
    issue = project / EXAMPLE_ISSUE
    issue.write_text(
        issue.read_text(encoding="utf-8") + "\n  - type: events\n    items:\n"
        "      - title: Summer social\n        start: 2024-07-20 18:00\n        place: online\n",
        encoding="utf-8",
    )
    result = run_cli("publish", cwd=project, env={"SOURCE_DATE_EPOCH": "1718400000"})
    assert result.code == 0, result.output
    site = project / "site"
    single = {p.stem: icalendar.Calendar.from_ical(p.read_bytes()) for p in sorted((site / "events").glob("*.ics"))}
    assert len(single) == 4
    assert str(single["2024-07-20-summer-social"].walk("VEVENT")[0]["SUMMARY"]) == "Summer social"
    whole = icalendar.Calendar.from_ical((site / "2024-06-june-team-update.ics").read_bytes())
    uids = [str(e["UID"]) for e in whole.walk("VEVENT")]
    assert len(uids) == 4 and len(set(uids)) == 4
