"""Helpers for the feedback tests: a project wired to the test SendGrid server, list reading."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import CliResult, run_cli
from tests.sendgrid_server import KEY, SendGridServer


def env(server: SendGridServer, **extra: str) -> dict[str, str]:
    return {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url, **extra}


def sync(project: Path, server: SendGridServer, *args: str, key: str = KEY) -> CliResult:
    return run_cli("subscribers", "sync", *args, cwd=project, env={**env(server), "SENDGRID_API_KEY": key})


def sync_json(project: Path, server: SendGridServer, *args: str) -> dict[str, Any]:
    result = sync(project, server, "--format", "json", *args)
    assert result.code == 0, result.output
    data = json.loads(result.out)
    assert isinstance(data, dict), data
    return data


def rows(path: Path) -> dict[str, dict[str, str]]:
    """The list as {lower-cased email: row}; the last row of an address wins."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["email"].lower(): r for r in csv.DictReader(fh)}


def set_group(project: Path, group_id: int) -> None:
    """Configure ``delivery.sendgrid.asm_group_id`` in the project's newsletter.yaml."""
    settings = project / "newsletter.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "delivery:" not in text
    settings.write_text(text + f"delivery:\n  sendgrid:\n    asm_group_id: {group_id}\n", encoding="utf-8")


def write_list(path: Path, emails: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["email", "first_name", "status"])
        for email, status in emails:
            w.writerow([email, "Reader", status])


def git(root: Path, *args: str) -> None:
    """Run git in ``root`` as an editor would (a name and address for commits), bounded."""
    subprocess.run(
        ["git", "-c", "user.email=editor@example.org", "-c", "user.name=Editor", *args],
        cwd=root,
        check=True,
        timeout=60,
        capture_output=True,
    )
