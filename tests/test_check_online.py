"""``check --online`` against a real HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsletter.checks import Finding, run_checks
from newsletter.project import open_issue
from tests.conftest import run_cli

SLOW_SECONDS = 1.5


@dataclass
class Site:
    port: int
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, user agent
    in_flight: dict[str, int] = field(default_factory=dict)  # per Host header
    most_in_flight: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            # the slow page goes on after the checker has given up on it: count it apart
            host = self.headers.get("Host", "") + (" (slow)" if self.path.startswith("/slow") else "")
            with site.lock:
                site.requests.append(("GET", self.path, self.headers.get("User-Agent", "")))
                site.in_flight[host] = site.in_flight.get(host, 0) + 1
                site.most_in_flight[host] = max(site.most_in_flight.get(host, 0), site.in_flight[host])
            self.answered = False
            try:
                self._answer(host)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the checker hangs up once it has the status: it never reads bodies
            finally:
                self._done(host)

        def _done(self, host: str) -> None:
            # A request stops counting as in flight before its answer goes out: once the
            # checker has the answer it may start the next one at once, and counting until
            # this thread got round to it would see overlaps the checker never made.
            if not self.answered:
                self.answered = True
                with site.lock:
                    site.in_flight[host] -= 1

        def _answer(self, host: str) -> None:
            path = self.path
            if path.startswith("/slow"):
                time.sleep(SLOW_SECONDS)
            elif path.startswith("/ok") or path.endswith(".png"):
                time.sleep(0.2)  # long enough for requests to overlap
            status, headers = 200, {}
            if path.startswith("/missing"):
                status = 404
            elif path == "/broken":
                status = 500
            elif path == "/members":
                status = 403
            elif path == "/moved":
                status, headers = 301, {"Location": site.url("/ok-there", host="localhost")}
            elif path == "/renamed":
                status, headers = 302, {"Location": "/ok-here"}
            elif path == "/loop":
                status, headers = 302, {"Location": "/loop"}
            body = b"<!doctype html><title>t</title>"
            self._done(host)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "image/png" if path.endswith(".png") else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Site(0)))
    site = Site(server.server_address[1])
    server.RequestHandlerClass = _handler(site)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_port() -> int:
    """A port on which nothing listens: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def local_project(project: Path, site: Site, dead_port: int) -> Path:
    """The example project with every address of newsletter.yaml on the local server."""
    settings = project / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8").replace("https://www.coproductioncollective.co.uk", site.url(""))
    settings.write_text(text + "check:\n  timeout: 0.5\n", encoding="utf-8")
    issue = f"""\
title: Links to check
subject: Links to check
preheader: An issue whose every link and image is served from this machine.
date: 2024-06-14
hero:
  src: {site.url("/hero.png")}
  alt: A photo
  width: 600
blocks:
  - type: text
    text: |
      Read [the report]({site.url("/ok-report")}) and [the minutes]({site.url("/missing")}).
  - type: links
    items:
      - title: Server trouble
        url: {site.url("/broken")}
      - title: Members only
        url: {site.url("/members")}
      - title: Moved elsewhere
        url: {site.url("/moved")}
      - title: Renamed page
        url: {site.url("/renamed")}
      - title: Nobody home
        url: http://127.0.0.1:{dead_port}/
      - title: Very slow
        url: {site.url("/slow")}
      - title: The report again
        url: {site.url("/ok-report")}
      - title: Round in circles
        url: {site.url("/loop")}
  - type: image
    src: {site.url("/missing.png")}
    alt: A chart
    width: 300
"""
    (project / "issues" / "local.yaml").write_text(issue, encoding="utf-8")
    return project


def _online(root: Path) -> list[Finding]:
    proj, issue_file, rendered = open_issue(root / "issues" / "local.yaml")
    return [f for f in run_checks(proj, issue_file, rendered, online=True) if f.rule.startswith("online-")]


def test_online_reports_status_redirects_and_unreachable(local_project: Path, site: Site, dead_port: int) -> None:
    findings = _online(local_project)
    got = {(f.rule, f.message.split(" ")[2]) for f in findings}
    assert got == {
        ("online-status", site.url("/missing")),
        ("online-status", site.url("/broken")),
        ("online-status", site.url("/missing.png")),
        ("online-refused", site.url("/members")),
        ("online-redirect", site.url("/moved")),
        ("online-unreachable", f"http://127.0.0.1:{dead_port}/"),
        ("online-unreachable", site.url("/slow")),
        ("online-unreachable", site.url("/loop")),
    }
    by_url = {f.message.split(" ")[2]: f for f in findings}
    assert by_url[site.url("/missing")].severity == "error"
    assert "answered 404" in by_url[site.url("/missing")].message
    assert by_url[site.url("/missing")].field == "blocks[0].text.text"
    assert by_url[site.url("/missing.png")].field == "blocks[2].image.src"
    assert "answered 500" in by_url[site.url("/broken")].message
    assert by_url[site.url("/members")].severity == "warning"
    assert f"redirects to another host: {site.url('/ok-there', host='localhost')}" in by_url[site.url("/moved")].message
    assert by_url[site.url("/moved")].field == "blocks[1].links.items[2].url"
    assert "no answer within 0.5 s" in by_url[site.url("/slow")].message
    assert "more than 10 redirects" in by_url[site.url("/loop")].message
    # a redirect on the same host is fine; the repeated link was requested once
    paths = [path for _, path, _ in site.requests]
    assert "/ok-here" in paths and paths.count("/ok-report") == 1
    assert "could not connect" in by_url[f"http://127.0.0.1:{dead_port}/"].message
    # concurrently, but at most two at a time per host
    assert site.most_in_flight[f"127.0.0.1:{site.port}"] == 2


def test_online_is_polite_and_never_follows_per_recipient_links(local_project: Path, site: Site) -> None:
    _online(local_project)
    agents = {agent for _, _, agent in site.requests}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("newsletter-check/") and "hello@example.org" in agent
    paths = [path for _, path, _ in site.requests]
    assert not any(p.startswith("/unsubscribe") for p in paths), "an unsubscribe link must never be requested"
    assert "/newsletters/local.html" in paths and "/images/logo-white.png" in paths  # settings' links too


def test_offline_check_makes_no_request(local_project: Path, site: Site) -> None:
    proj, issue_file, rendered = open_issue(local_project / "issues" / "local.yaml")
    findings = run_checks(proj, issue_file, rendered)
    assert not [f for f in findings if f.rule.startswith("online-")]
    assert site.requests == []


def test_online_on_the_command_line(local_project: Path, site: Site) -> None:
    result = run_cli("check", "issues/local.yaml", "--online", "--format", "json", cwd=local_project)
    assert result.code == 1, result.output
    doc = json.loads(result.out)
    rules = [f["rule"] for f in doc["findings"]]
    assert rules.count("online-status") == 3 and "online-redirect" in rules


def test_online_requests_every_languages_links_once_each(local_project: Path, site: Site) -> None:
    """An issue in several languages: a link only the Welsh email has is requested and
    reported at the Welsh line; a link both have is requested once."""
    issue = f"""\
languages: [en, cy]
title: {{en: Links to check, cy: Dolenni i'w gwirio}}
subject: {{en: Links to check, cy: Dolenni i'w gwirio}}
preheader: {{en: Every link is served from this machine., cy: Mae pob dolen yn dod o'r peiriant hwn.}}
date: 2024-06-14
blocks:
  - type: text
    text:
      en: Read [the report]({site.url("/ok-en")}) and [the minutes]({site.url("/ok-report")}).
      cy: Darllenwch [yr adroddiad]({site.url("/missing-cy")}) a [r cofnodion]({site.url("/ok-report")}).
"""
    (local_project / "issues" / "local.yaml").write_text(issue, encoding="utf-8")
    findings = _online(local_project)
    assert [(f.rule, f.message.split(" ")[2], f.line) for f in findings] == [
        ("online-status", site.url("/missing-cy"), 10)
    ]  # the Welsh line
    paths = [path for _, path, _ in site.requests]
    assert {"/missing-cy", "/ok-en", "/ok-report"} <= set(paths)
    assert len(paths) == len(set(paths))  # each address once, whichever languages link to it
    site.requests.clear()
    result = run_cli("check", "issues/local.yaml", "--online", "--format", "json", cwd=local_project)
    got = [(f["rule"], f["line"]) for f in json.loads(result.out)["findings"] if f["rule"].startswith("online-")]
    assert got == [("online-status", 10)], result.output
