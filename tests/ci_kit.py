"""What the CI tests share: a shared repository (a bare one, as GitHub holds it) with the
example project ready to send, fresh clones as runners get them, and the generated send
workflow's steps run as GitHub Actions runs them (``bash --noprofile --norc -eo pipefail``),
with ``newsletter`` on the PATH running this checkout's code."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from newsletter.ci.workflows import send_workflow
from tests.conftest import EXAMPLE_ISSUE, REPO
from tests.sendgrid_server import KEY, SendGridServer

READERS = 25
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
STEP_TIMEOUT = 180.0


def git(root: Path, *args: str, who: str = "editor@example.org") -> str:
    proc = subprocess.run(
        ["git", "-c", f"user.email={who}", "-c", "user.name=Editor", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout


def readers() -> list[str]:
    return [f"reader{i:03d}@example.org" for i in range(READERS)]


def shared_repository(project: Path, tmp: Path) -> Path:
    """``origin.git`` holding the project: 25 readers, batches of 10, SendGrid's log taken as
    caught up at once, ``approval: required`` and the issue approved by a reviewer."""
    with (project / "subscribers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["email", "first_name", "last_name", "status"])
        for i, e in enumerate(readers()):
            w.writerow([e, f"Reader{i}", "Y", "subscribed"])
    with (project / "newsletter.yaml").open("a", encoding="utf-8") as fh:
        fh.write("approval: required\ndelivery:\n  batch_size: 10\n  sendgrid:\n    log_delay: 0\n")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "the June issue")
    approved = subprocess.run(
        [sys.executable, "-m", "newsletter", "approve", EXAMPLE_ISSUE, "--by", "reviewer@example.org"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert approved.returncode == 0, approved.stderr
    git(project, "add", "approvals")
    git(project, "commit", "-qm", "Approve the June issue")
    origin = tmp / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(project), str(origin)], check=True, timeout=60)
    return origin


def runner(origin: Path, where: Path) -> Path:
    """A fresh clone, as actions/checkout makes it on a new runner."""
    subprocess.run(["git", "clone", "-q", "-b", "main", str(origin), str(where)], check=True, timeout=60, capture_output=True)
    return where


def steps() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(send_workflow("main"))
    return {s["name"]: s for s in doc["jobs"]["send"]["steps"] if "name" in s}


def shim(tmp: Path) -> Path:
    """A folder with ``newsletter``: this checkout's code, as ``pip install .`` would give it."""
    folder = tmp / "bin"
    folder.mkdir(exist_ok=True)
    script = folder / "newsletter"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m newsletter "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return folder


def step_env(tmp: Path, server: SendGridServer, send_at: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_", "GIT_"))}
    env.update(
        PATH=f"{shim(tmp)}:{env.get('PATH', '')}",
        PYTHONPATH=str(REPO),
        NO_COLOR="1",
        COLUMNS="200",
        ISSUE=EXAMPLE_ISSUE,
        SEND_AT=send_at,
        SENDGRID_API_KEY=KEY,
        SENDGRID_API_HOST=server.url,
        NEWSLETTER_SECRET="the organisation's secret",
    )
    return env


def start_step(name: str, where: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start one step's script in a work tree, in its own process group (so it can be killed whole)."""
    script = steps()[name]["run"]
    return subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=where,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def run_step(name: str, where: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = start_step(name, where, env)
    out, err = proc.communicate(timeout=STEP_TIMEOUT)
    return proc.returncode, out + err


def prepare(where: Path, env: dict[str, str]) -> None:
    code, output = run_step("Git identity for the send record's commits", where, env)
    assert code == 0, output


def remote_record(origin: Path) -> dict[str, Any] | None:
    import json

    slug = Path(EXAMPLE_ISSUE).stem
    proc = subprocess.run(["git", "show", f"main:sends/{slug}.json"], cwd=origin, capture_output=True, timeout=60)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def cleanup(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
