"""Hostile input: each row is one attack or accident, run through the real command line.

Every row names the issue item it covers and says what the user must see: the exit
code, a message naming the file (and line, where there is one), no traceback, and
nothing changed on disk (the project's files, byte for byte, before and after; only
the speed caches under ``.newsletter/cache`` (compiled templates, the list's tally)
may appear, as they make no difference to any output).

To add a case: append a :class:`Case` to ``CASES`` with the files to write into a copy
of the example project, the command to run, the exit code and a part of the message.
A file's content ``FIFO`` makes a named pipe instead of a file.

Full-disk cases run on a small tmpfs mounted for the test (skipped with the reason
where mounting is not permitted); preview cases run the real preview server.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli
from tests.disk_kit import fill, small_disk
from tests.preview_kit import Running, serving

ISSUE = "issues/2024-06-june-team-update.yaml"
GOOD = """\
title: Test issue
subject: Test subject
date: 2024-06-14
blocks:
  - type: text
    text: Hello
"""
FIFO = object()
"""As a file's content: make a named pipe there instead."""


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n" + GOOD  # 281 bytes of aliases: 9**7 = 4.8 million values


def _deep_block(levels: int) -> str:
    return "title:\n" + "".join("  " * d + "k:\n" for d in range(1, levels)) + "  " * levels + "v\n"


def _many_blocks(n: int) -> str:
    return GOOD + "  - type: divider\n" * (n - 1)


def _settings_with(old: str, new: str) -> str:
    text = (REPO / "newsletter.yaml").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


def _list_with(*rows: str) -> str:
    return (REPO / "subscribers.csv").read_text(encoding="utf-8") + "".join(r + "\n" for r in rows)


@dataclass(frozen=True)
class Case:
    item: str
    """Where it comes from (issue 17's item, or the smaller defect's words)."""
    files: dict[str, object]
    args: tuple[str, ...]
    code: int
    message: str
    """A part of what the command prints (stderr and stdout together)."""
    absent: tuple[str, ...] = ()
    """Text that must not appear in the output."""
    may_change: tuple[str, ...] = field(default=())
    """Files the command may rewrite (none by default)."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables the command runs with."""


CASES: dict[str, Case] = {
    # --- the environment: SendGrid's host and SMTP's URL (no request is ever made) ----------
    "an API host without a scheme": Case(
        "5",
        {},
        ("send", ISSUE, "--yes", "--provider", "sendgrid"),
        2,
        "SENDGRID_API_HOST must start with https://",
        absent=("SG.hostile",),
        env={"SENDGRID_API_KEY": "SG.hostile", "SENDGRID_API_HOST": "api.eu.sendgrid.com"},
    ),
    "an API host in clear over the network": Case(
        "1 (the key's safety)",
        {},
        ("send", ISSUE, "--yes", "--provider", "sendgrid"),
        2,
        "unencrypted",
        absent=("SG.hostile",),
        env={"SENDGRID_API_KEY": "SG.hostile", "SENDGRID_API_HOST": "http://api.sendgrid.com"},
    ),
    "an API host with a path": Case(
        "5",
        {},
        ("send", ISSUE, "--yes", "--provider", "sendgrid"),
        2,
        "must be only the scheme and host",
        env={"SENDGRID_API_KEY": "SG.hostile", "SENDGRID_API_HOST": "https://api.sendgrid.com/v3"},
    ),
    "an SMTP password in clear": Case(
        "1 (the password's safety)",
        {},
        ("send", ISSUE, "--yes", "--provider", "smtp"),
        2,
        "would cross the network in clear",
        absent=("s3cret",),
        env={"SMTP_URL": "smtp://user:s3cret@mail.example.org:587"},
    ),
    # --- issue files: the loader's bounds ------------------------------------------------
    "alias bomb": Case(
        "2",
        {"issues/bad.yaml": _alias_bomb()},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:6:10: the aliases (*name) up to here make the file stand for more than 100,000 values",
    ),
    "alias bomb in the settings": Case(
        "2",
        {"newsletter.yaml": _settings_with("language: en-GB\n", "language: en-GB\n" + _alias_bomb().split("title")[0])},
        ("check", ISSUE),
        2,
        "newsletter.yaml:",
        absent=("issues/",),
    ),
    "recursive alias": Case(
        "3",
        {"issues/bad.yaml": "title: &a [*a]\n" + GOOD.split("\n", 1)[1]},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:1:12: the alias *a is inside its own anchor &a (a loop)",
    ),
    "nesting 60 levels deep (block)": Case(
        "3",
        {"issues/bad.yaml": _deep_block(60)},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:41:",
        absent=("RecursionError",),
    ),
    "nesting 1,200 levels deep (flow)": Case(
        "3",
        {"issues/bad.yaml": "title: " + "[" * 1200 + "]" * 1200 + "\n"},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:1:",
        absent=("RecursionError",),
    ),
    "a 20 MB issue": Case(
        "20 MB / 158,000 blocks",
        {"issues/bad.yaml": _many_blocks(1_100_000)},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml: file is 19,8",
    ),
    "1,001 blocks": Case(
        "20 MB / 158,000 blocks",
        {"issues/bad.yaml": _many_blocks(1001)},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:5:3: blocks: has 1001 items; at most 1000 are allowed",
    ),
    "a file of 100,001 values without aliases": Case(
        "2",
        {"issues/bad.yaml": GOOD + "  - type: list\n    items: [" + "a, " * 100_001 + "b]\n"},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:8:",
        absent=("aliases",),
    ),
    "invalid UTF-8": Case(
        "invalid UTF-8 located",
        {"issues/bad.yaml": GOOD.encode().replace(b"Hello", b"He\xffllo")},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:6:13: not UTF-8 text (byte 0xff",
    ),
    "NUL in an issue": Case(
        "NUL located",
        {"issues/bad.yaml": GOOD.replace("Hello", "He\x00llo")},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:6:13: control character U+0000 in the text",
    ),
    "integer key on line 8": Case(
        "integer key at its line",
        {"issues/bad.yaml": GOOD + "\n1: x\n"},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:8:1: 1: unknown key '1'",
    ),
    "a FIFO given as the issue": Case(
        "FIFO",
        {"issues/bad.yaml": FIFO},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml: not a regular file",
    ),
    "URL with a no-break space": Case(
        "U+00A0 in URLs",
        {"issues/bad.yaml": GOOD + '  - type: button\n    label: Go\n    url: "https://a.org/\u00a0x"\n'},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:9:10: block 2 (button), url: URL contains U+00A0 NO-BREAK SPACE",
    ),
    "URL with a line separator": Case(
        "U+2028 in URLs",
        {"issues/bad.yaml": GOOD + '  - type: links\n    items:\n      - title: Report\n        url: "https://a.org/\u2028x"\n'},
        ("build", "issues/bad.yaml"),
        2,
        "issues/bad.yaml:10:14: block 2 (links), item 1, url: URL contains U+2028 LINE SEPARATOR",
    ),
    # --- settings ---------------------------------------------------------------------------
    "font_stack ending the CSS rule": Case(
        "font_stack with ;",
        {
            "newsletter.yaml": _settings_with(
                'font_stack: "Helvetica, Arial, sans-serif"', 'font_stack: "Arial; } body { color: red"'
            )
        },
        ("build", ISSUE),
        2,
        "newsletter.yaml:26:13: font_stack: a font list cannot hold ';'",
    ),
    # --- templates (item 7) -----------------------------------------------------------------
    "macro calling itself": Case(
        "7",
        {"templates/footer.mjml.j2": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: a template includes itself, or a macro calls itself, without end",
    ),
    "template including itself": Case(
        "7",
        {"templates/footer.mjml.j2": "{% include 'footer.mjml.j2' %}"},
        ("check", ISSUE),
        2,
        "templates/footer.mjml.j2:1: a template includes itself",
    ),
    "range(10**9)": Case(
        "7",
        {"templates/footer.mjml.j2": "{% for i in range(10**9) %}{% endfor %}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: range() of 1,000,000,000 numbers",
    ),
    "range(10001)": Case(  # the bound itself: one number more than allowed
        "7",
        {"templates/footer.mjml.j2": "{% for i in range(10001) %}{% endfor %}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: range() of 10,001 numbers; at most 10,000",
    ),
    "(-10) ** 10000": Case(  # a negative base grows as fast as a positive one
        "7",
        {"templates/footer.mjml.j2": "{{ (-10) ** 10000 }}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: '**' would make a number of more than",
    ),
    "'x' * 10**10": Case(
        "7",
        {"templates/footer.mjml.j2": "{{ 'x' * 10**10 }}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: '*' would make 10,000,000,000 characters",
    ),
    "'x'.ljust(10**10)": Case(
        "7",
        {"templates/footer.mjml.j2": "{{ 'x'.ljust(10**10) }}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: text of more than 100,000 characters",
    ),
    "a loop of 10**12 steps": Case(
        "7",
        {
            "templates/footer.mjml.j2": "{% for i in range(10000) %}{% for j in range(10000) %}"
            "{% for k in range(10000) %}{% endfor %}{% endfor %}{% endfor %}"
        },
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: the template took longer than 10 s",
    ),
    "'x'|center(10**10)": Case(
        "7",
        {"templates/footer.mjml.j2": "{{ 'x'|center(10**10) }}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: not allowed in a template: the filter center was given 10,000,000,000",
    ),
    "a number added to text": Case(
        "7",
        {"templates/footer.mjml.j2": '<mj-section><mj-column><mj-text>{{ 1 + "a" }}</mj-text></mj-column></mj-section>'},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: unsupported operand type(s) for +: 'int' and 'str'",
    ),
    "_() of words with a placeholder it is not given": Case(
        "7",
        {"templates/footer.mjml.j2": '<mj-section><mj-column><mj-text>{{ _("100%d") }}</mj-text></mj-column></mj-section>'},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: %d format: a real number is required",
    ),
    "include '../newsletter.yaml'": Case(
        "blocked include",
        {"templates/footer.mjml.j2": "{% include '../newsletter.yaml' %}"},
        ("build", ISSUE),
        2,
        "templates/footer.mjml.j2:1: template '../newsletter.yaml' not found",
    ),
    # --- the subscriber list ----------------------------------------------------------------
    "NUL in a subscriber's name (subscribers check)": Case(
        "NUL in a name",
        {"subscribers.csv": _list_with('nul@example.org,"Ann\x00ie",,subscribed,,,')},
        ("subscribers", "check"),
        1,
        "subscribers.csv:9: first_name: control character U+0000 in the name",
    ),
    "NUL in a subscriber's name (check)": Case(
        "NUL in a name",
        {"subscribers.csv": _list_with('nul@example.org,"Ann\x00ie",,subscribed,,,')},
        ("check", ISSUE),
        1,
        "subscribers.csv:9: first_name: first name holds a control character: this subscriber is not mailed  [header-newline]",
    ),
    "unsubscribed as 'Dev <dev@…>', imported as dev@…": Case(
        "9",
        {"subscribers.csv": _list_with('"Dev <dev@example.net>",,,unsubscribed,,,'), "new.csv": "email\ndev@example.net\n"},
        ("subscribers", "import", "new.csv"),
        0,
        "new.csv:2: dev@example.net: unsubscribed on line 9: an import never resubscribes anyone",
        absent=("new address",),
    ),
    "unsubscribed with a line break in the address": Case(
        "9",
        {"subscribers.csv": _list_with('"ann@example.net\n",,,unsubscribed,,,'), "new.csv": "email\nann@example.net\n"},
        ("subscribers", "import", "new.csv"),
        0,
        "unsubscribed on line 9: an import never resubscribes anyone",
        absent=("new address",),
    ),
    "subscribed with a space in the address": Case(
        "9",
        {"subscribers.csv": _list_with('"ann @example.net",Ann,,subscribed,,,'), "new.csv": "email\nann@example.net\n"},
        ("subscribers", "import", "new.csv"),
        0,
        "line 9 of the list has this address with a space, line break or name in it; fix that line first",
        absent=("new address",),
    ),
    # --- the command line ---------------------------------------------------------------------
    "status of an issue that does not exist": Case(
        "status of a missing file",
        {},
        ("status", "issues/nope.yaml"),
        2,
        "issues/nope.yaml: file not found",
        absent=("not sent yet",),
    ),
    "--rate nan": Case(
        "--rate nan",
        {},
        ("send", ISSUE, "--dry-run", "--rate", "nan"),
        2,
        "Invalid value for '--rate': 'nan' is not a number of messages per second",
    ),
    "--rate inf": Case(
        "--rate inf",
        {},
        ("send", ISSUE, "--dry-run", "--rate", "inf"),
        2,
        "Invalid value for '--rate': 'inf' is not a number of messages per second",
    ),
}


def _write(root: Path, files: dict[str, object]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is FIFO:
            os.mkfifo(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            assert isinstance(content, str)
            path.write_text(content, encoding="utf-8", newline="")


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` but the template cache: path → content digest."""
    found: dict[str, str] = {}
    for folder, _dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if rel.parts[:2] == (".newsletter", "cache"):
            continue
        found[str(rel) + "/"] = "folder"
        for name in files:
            path = Path(folder) / name
            if path.is_fifo():
                found[str(rel / name)] = "fifo"
            else:
                found[str(rel / name)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _cache_only(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """The differences, leaving out folders a read made for the template cache."""
    diff = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return {k: v for k, v in diff.items() if k not in (".newsletter/", ".newsletter/cache/")}


SLOW_CASES = {"a loop of 10**12 steps"}  # waits out the template's 10 s limit


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CASES else n for n in CASES])
def test_hostile_input(name: str, project: Path) -> None:
    case = CASES[name]
    _write(project, case.files)
    before = snapshot(project)
    result = run_cli(*case.args, cwd=project, timeout=120, env=case.env or None)
    assert result.code == case.code, result.output
    assert case.message in result.output, result.output
    assert "Traceback" not in result.output
    for text in case.absent:
        assert text not in result.output, result.output
    changed = _cache_only(before, snapshot(project))
    assert set(changed) <= set(case.may_change), changed


def test_a_broken_unsubscribe_keeps_the_address_out_of_a_send(project: Path) -> None:
    """Issue 17 item 9, the send side: the valid row of an address whose unsubscribe is on a
    broken row is held; and a name with a NUL never reaches a To: header."""
    _write(
        project,
        {
            "subscribers.csv": _list_with(
                "dev@example.net,Dev,,subscribed,,,",
                '"Dev <dev@example.net>",,,unsubscribed,,,',
                'nul@example.net,"Ann\x00ie",,subscribed,,,',
            )
        },
    )
    result = run_cli("send", ISSUE, "--dry-run", "--provider", "outbox", cwd=project)
    assert "Traceback" not in result.output
    assert "eligible    5" in result.out, result.output
    written = b"".join(p.read_bytes() for p in project.rglob("*.eml"))
    assert b"dev@example.net" not in written
    assert b"nul@example.net" not in written and b"\x00" not in written


# --- a full disk (tests/disk_kit.py) --------------------------------------------------------


def _copy_project(project: Path, disk: Path) -> Path:
    root = disk / "project"
    shutil.copytree(project, root)
    return root


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
def test_full_disk_build_check_dry_run_with_a_cold_template_cache(project: Path, tmp_path: Path) -> None:
    """Item 6: a full disk and no compiled templates yet: build says so and writes nothing,
    check works (the cache only costs speed), and the old build stays whole."""
    with small_disk(tmp_path) as disk:
        root = _copy_project(project, disk)
        (root / "build").mkdir()
        (root / "build" / "2024-06-june-team-update.html").write_text("old html")
        (root / "build" / "2024-06-june-team-update.txt").write_text("old text")
        fill(disk)
        before = snapshot(root)
        result = run_cli("build", ISSUE, cwd=root)
        assert result.code == 2, result.output
        assert "build: cannot write: No space left on device; nothing was written" in result.err
        assert "Traceback" not in result.output
        assert (root / "build" / "2024-06-june-team-update.html").read_text() == "old html"
        assert (root / "build" / "2024-06-june-team-update.txt").read_text() == "old text"
        assert _cache_only(before, snapshot(root)) == {}

        result = run_cli("check", ISSUE, cwd=root)
        assert "Traceback" not in result.output and "OSError" not in result.output
        assert result.code == 0, result.output
        assert "no errors" in result.out

        result = run_cli("send", ISSUE, "--dry-run", cwd=root)
        assert "Traceback" not in result.output and "OSError" not in result.output, result.output


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
@pytest.mark.parametrize("leave_kb", [0, 8, 24, 48])
def test_full_disk_subscribers_import(project: Path, tmp_path: Path, leave_kb: int) -> None:
    """Item 8: an import that does not fit says so, leaves the list as it was and no temporary file."""
    with small_disk(tmp_path, 512) as disk:
        root = _copy_project(project, disk)
        rows = "".join(f"person{i}@example.net,Person,Number{i}\n" for i in range(4000))
        (tmp_path / "big.csv").write_text("email,first_name,last_name\n" + rows)
        fill(disk, leave_kb * 1024)
        before = snapshot(root)
        result = run_cli("subscribers", "import", str(tmp_path / "big.csv"), cwd=root)
        assert result.code == 2, result.output
        assert "subscribers.csv: disk full; the file was not changed" in result.err
        assert "Traceback" not in result.output
        assert snapshot(root) == before
        assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]


# --- the preview -----------------------------------------------------------------------------


def _issues(running: Running) -> dict[str, dict[str, Any]]:
    return {i["slug"]: i for i in running.json("/api/issues")["issues"]}


def test_preview_starts_and_keeps_serving_with_hostile_issues(project: Path) -> None:
    """Items 3 and 7: a recursive alias present at start, a FIFO, then a template that
    recurses: each is shown as the issue's problem, and the server keeps serving."""
    _write(project, {"issues/loop.yaml": "title: &a [*a]\n" + GOOD.split("\n", 1)[1], "issues/pipe.yaml": FIFO})
    with serving(project) as running:
        found = _issues(running)
        assert not found["loop"]["ok"]
        page = running.json("/api/issues/loop")
        assert "inside its own anchor" in str(page), str(page)[:500]
        assert not found["pipe"]["ok"]
        # a FIFO never freezes rebuilding: a new issue written after it is built
        _write(project, {"issues/fresh.yaml": GOOD})
        running.wait_for("/api/issues", lambda d: any(i["slug"] == "fresh" and i["ok"] for i in d["issues"]), timeout=30)
        # a template error in the rebuild thread becomes every issue's problem page, not a stale page
        _write(project, {"templates/footer.mjml.j2": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"})
        running.wait_for("/api/issues", lambda d: not any(i["ok"] for i in d["issues"]), timeout=30)
        assert "a macro calls itself" in str(running.json("/api/issues/fresh"))


@pytest.mark.slow  # waits out the preview's idle and stream limits (~15 s)
def test_preview_answers_http09_and_closes_idle_connections(project: Path) -> None:
    """An HTTP/0.9 request line gets a 400 at once; a connection that sends nothing is
    closed by the server (each open connection holds a thread)."""
    from newsletter.preview.server import IDLE_SECONDS

    with serving(project) as running:
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as conn:
            conn.sendall(b"GET /\r\n")
            assert conn.recv(200).startswith(b"HTTP/1.1 400")
        with socket.create_connection(("127.0.0.1", running.port), timeout=IDLE_SECONDS * 4) as idle:
            started = time.monotonic()
            assert idle.recv(10) == b""  # closed by the server (a timeout here would raise)
            assert time.monotonic() - started >= IDLE_SECONDS * 0.9


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to read the listen backlog")
def test_preview_listen_backlog(project: Path) -> None:
    """The listening socket queues many connections (a backlog of 5 left requests unanswered
    for 30-60 s when a page and its reloads opened 200 at once)."""
    with serving(project) as running:
        out = subprocess.run(["ss", "-ltnH", f"sport = :{running.port}"], capture_output=True, text=True).stdout
        backlog = int(out.split()[2])
        assert backlog >= 128, out


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def _stream(port: int) -> tuple[socket.socket, bytes]:
    conn = socket.create_connection(("127.0.0.1", port), timeout=20)
    conn.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    return conn, conn.recv(100)


@pytest.mark.slow  # waits out the preview's idle and stream limits (~15 s)
def test_preview_holds_a_bounded_number_of_event_streams(project: Path) -> None:
    """Issue 27 item 4: 200 event streams get 64 answers and 136 refusals (503), and the
    threads stay bounded; a tab closed makes room for a new one."""
    from newsletter.preview.server import MAX_STREAMS

    with serving(project) as running:
        opened = [_stream(running.port) for _ in range(200)]
        try:
            answers = [head.split(b"\r\n", 1)[0] for _, head in opened]
            assert answers.count(b"HTTP/1.1 200 OK") == MAX_STREAMS
            assert answers.count(b"HTTP/1.1 503 Service Unavailable") == 200 - MAX_STREAMS
            assert _threads(running.proc.pid) < MAX_STREAMS + 30
            first = next(conn for conn, head in opened if head.startswith(b"HTTP/1.1 200"))
            first.close()
            end = time.monotonic() + 30
            while True:  # the server notices the closed tab at its next keep-alive at the latest
                conn, head = _stream(running.port)
                conn.close()
                if head.startswith(b"HTTP/1.1 200"):
                    break
                assert time.monotonic() < end, "a closed tab's stream was never given back"
                time.sleep(0.5)
        finally:
            for conn, _ in opened:
                conn.close()


def test_preview_is_quiet_when_an_http09_client_hangs_up(project: Path) -> None:
    """Issue 27 item 21: a client that sends an HTTP/0.9 line and resets the connection
    leaves no traceback in the preview's terminal (``serving`` checks its stderr)."""
    import struct

    with serving(project) as running:
        for _ in range(30):
            conn = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sendall(b"GET /\r\n")
            conn.close()  # a reset, before the 400 is written
        assert running.get("/api/issues").status == 200


def test_publish_an_event_in_the_year_9999(project: Path) -> None:
    """Issue 27 item 6: an event whose calendar range reaches past 9999 is published (its
    zone's rules from the year before), not a traceback that leaves every issue out."""
    import icalendar

    text = (project / ISSUE).read_text(encoding="utf-8")
    assert "start: 2024-09-06 14:00" in text
    (project / ISSUE).write_text(text.replace("start: 2024-09-06 14:00", "start: 9999-12-31 23:00"), encoding="utf-8")
    result = run_cli("publish", cwd=project)
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    ics = (project / "site" / "events" / "9999-12-31-co-pro-cuppa.ics").read_bytes()
    cal = icalendar.Calendar.from_ical(ics)
    assert [e.decoded("DTSTART").year for e in cal.walk("VEVENT")] == [9999]
    assert cal.walk("STANDARD") and cal.walk("DAYLIGHT")
    assert (project / "site" / "feed.xml").is_file() and (project / "site" / "calendar.ics").is_file()


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
def test_publish_onto_a_full_disk_with_no_earlier_site(project: Path, tmp_path: Path) -> None:
    """Issue 27 item 7: a full disk and no site yet: a clear error naming the file, exit 2,
    no traceback, no temporary file left."""
    with small_disk(tmp_path) as disk:
        root = _copy_project(project, disk)
        (root / "site").mkdir()
        fill(disk)
        result = run_cli("publish", cwd=root)
        assert result.code == 2, result.output
        assert "site/" in result.err and "disk full" in result.err
        assert "Traceback" not in result.output
        assert not [p for p in (root / "site").iterdir() if p.name.startswith(".")]


def test_subscribers_commands_find_the_projects_list_from_a_subfolder(project: Path) -> None:
    """Issue 27 item 17: from ``issues/``, ``subscribers stats`` reads the project's list,
    as ``check`` does; outside any project it is still the current folder's."""
    here = project / "issues"
    stats = run_cli("subscribers", "stats", "--format", "json", cwd=here)
    assert stats.code == 0, stats.output
    import json

    figures = json.loads(stats.out)
    assert figures["eligible"] == 5 and Path(figures["list_file"]).resolve() == project / "subscribers.csv"
    checked = run_cli("subscribers", "check", cwd=here)
    assert checked.code == 0, checked.output
    assert run_cli("check", "2024-06-june-team-update.yaml", cwd=here).code == 0
