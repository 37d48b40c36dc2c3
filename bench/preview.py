"""Benchmark the preview's live reload: from a save on disk to what an open page needs.

    python bench/preview.py [--saves 30] [--issues 24]

Runs the real server (``newsletter preview --port 0``) in a temporary copy of the
example project and reports, side by side in one run:
- start-up: from launching the command to "Serving the preview at …";
- save → event: from writing the issue YAML to the server-sent event reaching an open
  connection (what makes a page refetch), with 1 issue and with ``--issues`` issues;
- save → fresh email: the same plus fetching the rebuilt issue JSON (what a page shows);
- template save → event with ``--issues`` issues (every issue is rebuilt);
- one GET of the issue JSON (email, text, headers) as a given reader.
The target is one second from save to page; the ratio column says how far under it is.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SLUG = "2024-06-june-team-update"
TARGET_S = 1.0


class Server:
    def __init__(self, root: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
        env["PYTHONPATH"] = str(REPO)
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "preview", "--port", "0"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            m = re.search(r"Serving the preview at http://127\.0\.0\.1:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        self.startup = time.perf_counter() - started

    def get(self, target: str) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", target, headers={"Host": f"127.0.0.1:{self.port}"})
        body = conn.getresponse().read()
        conn.close()
        return body

    def events(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode())
        return sock

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def next_event(sock: socket.socket, buffer: bytearray) -> None:
    marker = b"event: version\ndata: "
    while marker not in buffer:
        buffer += sock.recv(65536)
    at = buffer.index(marker)
    end = buffer.index(b"\n\n", at)
    del buffer[: end + 2]


def project(base: Path, issues: int) -> Path:
    root = base / f"project-{issues}"
    root.mkdir()
    for name in ("newsletter.yaml", "subscribers.csv"):
        shutil.copy(REPO / name, root / name)
    (root / "issues").mkdir()
    text = (REPO / "issues" / f"{SLUG}.yaml").read_text()
    shutil.copy(REPO / "issues" / f"{SLUG}.yaml", root / "issues" / f"{SLUG}.yaml")
    for n in range(1, issues):
        (root / "issues" / f"2022-{n:02d}-copy.yaml").write_text(text)
    return root


def saves(server: Server, path: Path, runs: int, *, fetch: bool) -> list[float]:
    good = path.read_text()
    sock = server.events()
    buffer = bytearray()
    next_event(sock, buffer)
    times = []
    for n in range(runs):
        marker = f"Bench save {n}"
        started = time.perf_counter()
        path.write_text(
            good.replace("June Team Update: Building", marker, 1) if path.suffix == ".yaml" else good + f"{{# {marker} #}}\n"
        )
        next_event(sock, buffer)
        if fetch:
            data = json.loads(server.get(f"/api/issues/{SLUG}?as=line-2"))
            assert marker in data["email"]["html"]
        times.append(time.perf_counter() - started)
        time.sleep(0.1)
    sock.close()
    path.write_text(good)
    return times


def row(what: str, times: list[float], *, target: bool = True) -> str:
    med = statistics.median(times)
    p90 = sorted(times)[int(len(times) * 0.9) - 1]
    versus = f"{TARGET_S / med:5.1f}× under" if target else "—"
    return f"| {what} | {med * 1000:7.1f} ms | {p90 * 1000:7.1f} ms | {max(times) * 1000:7.1f} ms | {versus} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--saves", type=int, default=30)
    ap.add_argument("--issues", type=int, default=24)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = Server(project(Path(tmp), 1))
        many_root = project(Path(tmp), args.issues)
        many = Server(many_root)
        try:
            one_path = Path(tmp) / "project-1" / "issues" / f"{SLUG}.yaml"
            many_path = many_root / "issues" / f"{SLUG}.yaml"
            template = many_root / "templates" / "blocks" / "divider.mjml.j2"
            template.parent.mkdir(parents=True)
            template.write_text((REPO / "newsletter" / "templates" / "blocks" / "divider.mjml.j2").read_text())
            time.sleep(1.0)  # let the watch pick up the new folders
            gets = []
            for _ in range(args.saves):
                t = time.perf_counter()
                one.get(f"/api/issues/{SLUG}?as=line-2")
                gets.append(time.perf_counter() - t)
            print(
                f"start-up to serving (1 issue): {one.startup * 1000:.0f} ms; "
                f"({args.issues} issues): {many.startup * 1000:.0f} ms"
            )
            print("| what | median | p90 | max | vs 1 s target |")
            print("| --- | --- | --- | --- | --- |")
            print(row("save → event, 1 issue", saves(one, one_path, args.saves, fetch=False)))
            print(row("save → fresh email JSON, 1 issue", saves(one, one_path, args.saves, fetch=True)))
            print(row(f"save → event, {args.issues} issues", saves(many, many_path, args.saves, fetch=False)))
            print(
                row(f"template save → event, {args.issues} issues (all rebuilt)", saves(many, template, args.saves, fetch=False))
            )
            print(row("GET issue JSON as a reader", gets, target=False))
        finally:
            one.stop()
            many.stop()


if __name__ == "__main__":
    main()
