"""Live reload over HTTP: saves become events and rebuilds; bad files become problems, not crashes.

Each test runs the real server in its own copy of the example project and edits
files there as an editor would.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.preview.site import Site
from newsletter.preview.watch import watched_folders
from newsletter.render.env import BUILTIN_TEMPLATES
from tests.conftest import REPO
from tests.preview_kit import EXAMPLE_SLUG, EXAMPLE_TITLE, Running, serving, start

ISSUE_API = f"/api/issues/{EXAMPLE_SLUG}"


@pytest.fixture
def live(project: Path) -> Iterator[Running]:
    with serving(project) as running:
        yield running


def issue_path(running: Running) -> Path:
    return running.root / "issues" / f"{EXAMPLE_SLUG}.yaml"


def broken(data: dict[str, Any]) -> bool:
    return data["email"] is None and bool(data["problems"])


def builds(data: dict[str, Any]) -> bool:
    return data["email"] is not None and not data["problems"]


class EventStream:
    """A raw server-sent events connection: each ``next_version`` is one ``version`` event."""

    def __init__(self, running: Running) -> None:
        self.sock = socket.create_connection(("127.0.0.1", running.port), timeout=5)
        self.sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n\r\n".encode())
        self.buffer = b""

    def next_version(self, timeout: float) -> int:
        self.sock.settimeout(timeout)
        while b"event: version\ndata: " not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, _, rest = self.buffer.partition(b"event: version\ndata: ")
        value, _, self.buffer = rest.partition(b"\n\n")
        return int(value)

    def close(self) -> None:
        self.sock.close()


def test_a_save_reaches_open_pages_within_a_second(live: Running) -> None:
    path = issue_path(live)
    streams = [EventStream(live), EventStream(live)]  # two open pages
    try:
        first = [s.next_version(5) for s in streams]
        assert first[0] == first[1] == live.json("/api/issues")["version"]
        saved = time.monotonic()
        path.write_text(path.read_text().replace(EXAMPLE_TITLE, "Retitled while watching"))
        after = [s.next_version(1.0) for s in streams]  # raises if no event within 1 s
        elapsed = time.monotonic() - saved
        assert after[0] == after[1] > first[0]
        assert elapsed < 1.0
        data = live.json(ISSUE_API)
        assert data["version"] == after[0] and data["title"] == "Retitled while watching"
        assert "Retitled while watching" in data["email"]["html"]
    finally:
        for s in streams:
            s.close()


BAD_ISSUES: list[tuple[str, Callable[[str], str], str, int | None, str]] = [
    # (what, change to the file, text that must be in the problem, its line, its field)
    ("YAML syntax", lambda t: t.replace("date: 2024-06-14", "date: 2024-06-14\n  oops: here"), "YAML syntax error", 9, ""),
    ("unknown key", lambda t: t.replace("title:", "titel:", 1), "unknown key 'titel'", 5, "titel"),
    ("bad date", lambda t: t.replace("date: 2024-06-14", "date: 2024-13-45"), "date", 8, "date"),
    ("not a mapping", lambda t: "- just\n- a list\n", "expected a mapping", 1, ""),
    ("empty file", lambda t: "", "field required", None, "title"),
    ("javascript link", lambda t: t.replace("https://unsplash.com/", "javascript:alert(1)"), "javascript", 13, "hero.credit"),
]


def test_bad_issue_files_show_their_problems_and_recover(live: Running) -> None:
    path = issue_path(live)
    good = path.read_text()
    for what, change, message, line, field in BAD_ISSUES:
        path.write_text(change(good))
        data = live.wait_for(ISSUE_API, broken)
        problem = next((p for p in data["problems"] if message in p["message"] and p["field"] == field), None)
        assert problem is not None, (what, data["problems"])
        assert problem["file"] == f"issues/{EXAMPLE_SLUG}.yaml"
        if line is not None:
            assert problem["line"] == line, (what, problem)
            assert problem["location"].startswith(f"issues/{EXAMPLE_SLUG}.yaml:{line}:")
        index = live.json("/api/issues")["issues"][0]
        assert not index["ok"] and index["problem_count"] == len(data["problems"])
        path.write_text(good)
        assert builds(live.wait_for(ISSUE_API, builds)), what
    path.write_bytes(good.encode("utf-8").replace(b"Building", b"Buil\xffding"))
    data = live.wait_for(ISSUE_API, broken)
    assert "not UTF-8" in data["problems"][0]["message"]
    path.write_text(good)
    live.wait_for(ISSUE_API, builds)


def test_template_errors_show_the_template_and_line_and_recover(live: Running) -> None:
    templates = live.root / "templates" / "blocks"  # created while the server runs
    templates.mkdir(parents=True)
    quote = templates / "quote.mjml.j2"
    quote.write_text("<mj-text>\n  QUOTED: {{ block.text }}\n</mj-text>\n")
    data = live.wait_for(ISSUE_API, lambda d: d["email"] is not None and "QUOTED:" in d["email"]["html"])
    quote.write_text("<mj-text>\n{% if block.text %}\n  {{ block.text }}\n</mj-text>\n")
    data = live.wait_for(ISSUE_API, broken)
    problem = data["problems"][0]
    assert problem["file"] == "templates/blocks/quote.mjml.j2" and problem["line"] is not None
    quote.write_text("<mj-text>\n  {{ block.nonexistent }}\n</mj-text>\n")
    data = live.wait_for(ISSUE_API, lambda d: broken(d) and "nonexistent" in d["problems"][0]["message"])
    assert data["problems"][0]["file"] == "templates/blocks/quote.mjml.j2"
    assert data["problems"][0]["line"] == 2
    quote.unlink()
    data = live.wait_for(ISSUE_API, builds)
    assert "QUOTED:" not in data["email"]["html"]


def test_settings_errors_stop_every_issue_and_recover(live: Running) -> None:
    settings = live.root / "newsletter.yaml"
    good = settings.read_text()
    settings.write_text(good.replace('brand: "#4b2c82"', 'brand: "purple"'))
    index = live.wait_for("/api/issues", lambda d: bool(d["problems"]))
    problem = index["problems"][0]
    assert problem["file"] == "newsletter.yaml" and problem["field"] == "colours.brand"
    assert problem["line"] == good.splitlines().index('  brand: "#4b2c82"') + 1
    data = live.json(ISSUE_API)
    assert broken(data) and data["problems"][0]["field"] == "colours.brand"
    settings.unlink()
    data = live.wait_for(ISSUE_API, lambda d: broken(d) and "not found" in d["problems"][0]["message"])
    settings.write_text(good.replace('brand: "#4b2c82"', 'brand: "#123456"'))
    data = live.wait_for(ISSUE_API, builds)
    assert "#123456" in data["email"]["html"]
    assert live.json("/api/issues")["problems"] == []


def test_list_changes_update_the_picker_and_a_bad_list_is_reported(live: Running) -> None:
    people = live.root / "subscribers.csv"
    good = people.read_text()
    people.write_text(good + "zoe.new@example.org,Zoë,New,subscribed,community,2024-06-01,web\n")
    data = live.wait_for(ISSUE_API, lambda d: any("zoe.new" in r["label"] for r in d["readers"]))
    key = next(r["key"] for r in data["readers"] if "zoe.new" in r["label"])
    assert "Dear Zoë," in live.json(f"{ISSUE_API}?as={key}")["email"]["html"]
    people.write_bytes(b"email,first_name\n\xff\xfe,\x00\n")
    data = live.wait_for(ISSUE_API, lambda d: bool(d["list_problem"]))
    assert "subscribers.csv" in data["list_problem"]
    assert builds(data) and [r["key"] for r in data["readers"]] == ["sample"]
    people.write_text(good)
    live.wait_for(ISSUE_API, lambda d: not d["list_problem"] and len(d["readers"]) > 1)


def test_issues_come_and_go(live: Running) -> None:
    issues = live.root / "issues"
    example = issues / f"{EXAMPLE_SLUG}.yaml"
    newer = example.read_text().replace("date: 2024-06-14", "date: 2024-07-12").replace(EXAMPLE_TITLE, "July Team Update")
    (issues / "2024-07-july-update.yaml").write_text(newer)
    index = live.wait_for("/api/issues", lambda d: len(d["issues"]) == 2)
    assert [i["title"] for i in index["issues"]] == ["July Team Update", EXAMPLE_TITLE]  # newest first
    assert [i["date"] for i in index["issues"]] == ["2024-07-12", "2024-06-14"]
    (issues / "Bad Name.yaml").write_text(newer)
    (issues / "folder.yaml").mkdir()
    (issues / ".draft.yaml.swp").write_text("not an issue")
    index = live.wait_for("/api/issues", lambda d: len(d["issues"]) == 3)
    bad = next(i for i in index["issues"] if i["slug"] == "Bad Name")
    assert not bad["ok"] and bad["title"] == "July Team Update"  # title as written, for the index
    assert "slug" in live.json("/api/issues/Bad%20Name")["problems"][0]["message"]
    (issues / "2024-07-july-update.yaml").unlink()
    index = live.wait_for("/api/issues", lambda d: len(d["issues"]) == 2)
    assert live.get("/api/issues/2024-07-july-update").status == 404


def test_a_page_never_gets_a_half_built_email(live: Running) -> None:
    """While a file is saved over and over, every answer is one whole build: its title,
    email, text and headers agree, and the email is complete."""
    path = issue_path(live)
    good = path.read_text()
    stop = threading.Event()

    def editor() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            path.write_text(good.replace(EXAMPLE_TITLE, f"Draft number {n}"))
            time.sleep(0.03)

    writer = threading.Thread(target=editor)
    writer.start()
    seen = set()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            data = json.loads(live.get(ISSUE_API).body)
            if data["email"] is None:  # a read caught the file mid-write: shown as an error
                assert data["problems"]
                continue
            title = data["title"]
            seen.add(title)
            assert title in data["email"]["html"] and title in data["email"]["text"]
            assert data["email"]["html"].rstrip().endswith("</html>")
    finally:
        stop.set()
        writer.join()
    assert len(seen) >= 3  # the reads really did see several builds


def test_watched_folders_are_the_ones_the_email_depends_on(project: Path) -> None:
    (project / "templates" / "blocks").mkdir(parents=True)
    (project / ".venv" / "lib").mkdir(parents=True)
    folders = watched_folders(Site(project))
    root = project.resolve()
    assert folders[:2] == [root, root / "issues"]
    assert root / "templates" in folders and root / "templates" / "blocks" in folders
    assert BUILTIN_TEMPLATES in folders and BUILTIN_TEMPLATES / "blocks" in folders
    assert not any(".venv" in f.parts for f in folders)


def test_check_findings_are_shown_and_follow_the_file(live: Running) -> None:
    data = live.json(ISSUE_API)
    findings = data["checks"]["findings"]
    # the example's stand-in addresses, its unpublished web page and nobody approving it,
    # as `newsletter check` reports them
    assert {f["rule"] for f in findings} == {"example-domain", "web-not-published", "approval-off"}
    assert all(f["severity"] == "warning" and f["file"] in ("newsletter.yaml", f"issues/{EXAMPLE_SLUG}.yaml") for f in findings)
    assert data["check_errors"] == 0 and data["check_warnings"] == len(findings) == 5
    path = issue_path(live)
    good = path.read_text()
    path.write_text(
        good.replace(
            "[this blog](https://www.coproductioncollective.co.uk/news/meaningful-conversations)", "[this blog](https://TK)"
        )
    )
    data = live.wait_for(ISSUE_API, lambda d: d["check_errors"] > 0)
    error = next(f for f in data["checks"]["findings"] if f["severity"] == "error")
    assert error["rule"] == "link-placeholder"
    assert error["location"].startswith(f"issues/{EXAMPLE_SLUG}.yaml:21:")
    assert data["email"] is not None  # a check error is shown beside the email, not instead of it
    assert live.json("/api/issues")["issues"][0]["check_errors"] == 1
    path.write_text(good)
    live.wait_for(ISSUE_API, lambda d: d["check_errors"] == 0)


def test_a_saved_builtin_template_rebuilds(project: Path, tmp_path: Path) -> None:
    """The built-in templates are watched too (a copy of the package, so the real one stays put)."""
    package = tmp_path / "package"
    shutil.copytree(REPO / "newsletter", package / "newsletter", ignore=shutil.ignore_patterns("__pycache__"))
    running = start(project, env={"PYTHONPATH": str(package)})
    try:
        assert "QUOTED BY THE BUILT-IN" not in running.json(ISSUE_API)["email"]["html"]
        quote = package / "newsletter" / "templates" / "blocks" / "quote.mjml.j2"
        quote.write_text(quote.read_text().replace("<blockquote>", "<blockquote>QUOTED BY THE BUILT-IN "))
        running.wait_for(ISSUE_API, lambda d: builds(d) and "QUOTED BY THE BUILT-IN" in d["email"]["html"])
    finally:
        assert running.alive()
        running.stop()
