"""``newsletter preview`` on the command line: options, refusals, start and stop."""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.preview_kit import EXAMPLE_TITLE, raw_get, start


def eventually(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_help_names_the_options(project: Path, cli: Cli) -> None:
    result = cli("preview", "--help", cwd=project)
    assert result.code == 0
    for text in ("--host", "127.0.0.1", "--port", "8000", "--open"):
        assert text in result.out


def test_a_port_in_use_is_a_clear_usage_error(project: Path, cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("preview", "--port", str(port), cwd=project, timeout=30)
    assert result.code == 2
    assert result.err.strip() == (f"error: port {port} is already in use on 127.0.0.1; choose another with --port")
    assert "Traceback" not in result.output


def test_outside_a_project_is_a_clear_input_error(tmp_path: Path, cli: Cli) -> None:
    result = cli("preview", "--port", "0", cwd=tmp_path, timeout=30)
    assert result.code == 2
    assert "no newsletter.yaml found" in result.err and "Traceback" not in result.output


def test_a_bad_port_is_refused_by_the_option(project: Path, cli: Cli) -> None:
    result = cli("preview", "--port", "70000", cwd=project)
    assert result.code == 2 and "70000" in result.err


def test_ctrl_c_stops_cleanly(project: Path) -> None:
    running = start(project)
    try:
        running.proc.send_signal(signal.SIGINT)
        assert running.proc.wait(timeout=10) == 0
    finally:
        running.stop()  # never leaks a server into later tests, whatever happened
    assert "Stopped." in "".join(running.stdout)
    assert "Traceback" not in "".join(running.stderr)


def test_open_opens_the_preview_in_the_browser(project: Path, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    fake_browser = tmp_path / "browser.py"
    fake_browser.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    running = start(project, "--open", env={"BROWSER": f"{sys.executable} {fake_browser} %s"})
    try:
        assert eventually(lambda: opened.exists() and opened.read_text() == running.url)
    finally:
        running.stop()


def test_an_explicit_host_is_answered_by_that_name_too(project: Path) -> None:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not a local address here")
    running = start(project, "--host", "127.0.0.2")
    try:
        assert running.url.startswith("http://127.0.0.2:")
        assert eventually(lambda: "other machines may reach this preview" in "".join(running.stderr))
        reply = raw_get("127.0.0.2", running.port)
        assert reply.startswith(b"HTTP/1.1 200") and EXAMPLE_TITLE.encode() in reply
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", running.port), timeout=5).close()
    finally:
        running.stop()


def test_open_says_so_when_no_browser_can_be_opened(project: Path, tmp_path: Path) -> None:
    refuses = tmp_path / "no-browser.sh"
    refuses.write_text("#!/bin/sh\nexit 1\n")
    refuses.chmod(0o755)
    running = start(project, "--open", env={"BROWSER": str(refuses), "DISPLAY": "", "WAYLAND_DISPLAY": ""})
    try:
        assert eventually(lambda: "No web browser could be opened here" in "".join(running.stderr), timeout=20)
        assert running.url in "".join(running.stderr)
    finally:
        running.stop()
