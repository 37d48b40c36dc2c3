"""A full disk, made for the test (a small tmpfs; skipped where the machine cannot mount one):
the outbox never publishes half a message, the journal never gives a traceback, nothing
is lost, and the send resumes once there is room."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.disk_kit import small_disk
from tests.sendgrid_server import KEY, SendGridServer

SLUG = "2024-06-june-team-update"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path, 16 * 1024) as mount:
        yield mount


def write_list(project: Path, n: int) -> None:
    rows = ["email,first_name,last_name,status"] + [f"r{i:05d}@example.org,R{i},T,subscribed" for i in range(n)]
    (project / "subscribers.csv").write_text("\n".join(rows) + "\n")


def states(project: Path) -> dict[str, int]:
    import sqlite3

    db = sqlite3.connect(project / ".newsletter" / "journal.sqlite3")
    try:
        return dict(db.execute("SELECT state, count(*) FROM recipients GROUP BY state").fetchall())
    finally:
        db.close()


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
def test_a_full_disk_under_the_outbox_publishes_no_half_message_and_resumes(project: Path, disk: Path) -> None:
    write_list(project, 500)  # ~45 KB each: the 16 MB disk fills after about 350
    settings = project / "newsletter.yaml"
    settings.write_text(settings.read_text() + f"delivery:\n  outbox: {disk / 'outbox'}\n")
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 1 and "Traceback" not in result.output, result.output
    assert "No space left on device" in result.err and "resume" in result.err
    folder = disk / "outbox" / SLUG
    files = sorted(folder.glob("*.eml"))
    assert 0 < len(files) < 500
    assert not list(folder.glob(".*"))  # no temporary file left behind
    for path in files:  # every published message is whole
        raw = path.read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg.is_multipart() and raw.rstrip().endswith(b"--")
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    counts = states(project)
    assert counts.get("accepted") == len(files) and "unknown" not in counts and "in_flight" not in counts
    # room again (another, larger outbox): the same command writes only the rest
    settings.write_text(settings.read_text().replace(str(disk / "outbox"), str(project / "outbox")))
    for path in files:
        (project / "outbox" / SLUG).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, project / "outbox" / SLUG / path.name)
    again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert again.code == 0, again.output
    assert states(project) == {"accepted": 500}
    assert len(list((project / "outbox" / SLUG).glob("*.eml"))) == 500


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
def test_a_full_disk_under_the_journal_is_a_clear_error_and_loses_nothing(tmp_path: Path, disk: Path, project: Path) -> None:
    root = disk / "project"
    shutil.copytree(project, root)
    write_list(root, 20_000)  # its journal rows outgrow what is left of the disk
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler.write_bytes(b"\0" * max(0, free - 400_000))
    with SendGridServer(keep_bodies=False, validate="first") as server:
        env = {"SENDGRID_API_KEY": KEY, "SENDGRID_API_HOST": server.url}
        result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", cwd=root, env=env)
        sent = list(server.log.accepted)
        # a send that stopped part-way exits 1 (2 is for bad input, with nothing sent)
        assert sent and result.code == 1 and "Traceback" not in result.output, result.output
        assert "free some space" in result.err or "No space" in result.err, result.err
        filler.unlink()  # room again: the same command finishes the send
        again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "sendgrid", cwd=root, env=env)
        assert again.code == 0, again.output
        assert sorted(server.counts.values()) == [1] * 20_000  # nobody twice, nobody missing
    assert len(sent) < 20_000


@pytest.mark.slow  # a full disk (a small tmpfs mounted for the test)
def test_a_full_disk_never_leaves_an_empty_secret_or_ignore_file(project: Path, disk: Path) -> None:
    root = disk / "project"
    shutil.copytree(project, root)
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler.write_bytes(b"\0" * free)  # not a byte left
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=root)
    assert result.code in (1, 2) and "Traceback" not in result.output, result.output
    state = root / ".newsletter"
    for name in ("secret", ".gitignore"):
        assert not (state / name).exists() or (state / name).stat().st_size > 0, name
    filler.unlink()
    again = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=root)
    assert again.code == 0, again.output
    assert len(bytes.fromhex((state / "secret").read_text().strip())) == 32
    assert (state / ".gitignore").read_text().endswith("*\n")


def test_an_empty_secret_file_is_refused_not_used(project: Path) -> None:
    state = project / ".newsletter"
    state.mkdir()
    (state / "secret").write_text("")
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 2 and "not a valid secret" in result.err
    assert not (project / "outbox").exists()
