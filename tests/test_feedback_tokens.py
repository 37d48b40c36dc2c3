"""``subscribers unsubscribe --token`` / ``--tokens-from``: tokens from real messages back to addresses."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.feedback_kit import rows

SLUG = "2024-06-june-team-update"


def tokens_sent(project: Path) -> dict[str, str]:
    """address → token, read from the List-Unsubscribe header of each message an outbox send wrote."""
    result = run_cli("send", EXAMPLE_ISSUE, "--yes", "--provider", "outbox", cwd=project)
    assert result.code == 0, result.output
    found = {}
    for path in sorted((project / "outbox" / SLUG).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        m = re.search(r"token=([0-9a-f]+)", str(msg["List-Unsubscribe"]))
        assert m is not None
        found[str(msg["To"].addresses[0].addr_spec)] = m.group(1)
    assert len(found) == 5
    return found


def test_tokens_from_a_messy_log(project: Path, tmp_path: Path) -> None:
    sent = tokens_sent(project)
    amina, ben = sent["amina.okafor@example.org"], sent["ben.hughes@example.org"]
    stranger = "0123456789abcdef0123456789abcdef"
    log = tmp_path / "access.log"
    log.write_text(
        f'203.0.113.7 - - [14/Jun/2024:09:12:01 +0100] "GET /unsubscribe?token={amina} HTTP/1.1" 200 512 "-" '
        '"Mozilla/5.0 (iPhone)"\n'
        f'203.0.113.9 - - [14/Jun/2024:09:13:44 +0100] "POST /unsubscribe?token={ben.upper()} HTTP/2" 200 0 '
        '"-" "Gmail one-click"\n'
        f'198.51.100.2 - - [14/Jun/2024:09:20:00 +0100] "GET /unsubscribe?token={amina}&utm=x HTTP/1.1" 200\n'
        "commit 3f786850e387550fdab836ed7e6dc881de23001b deployed (a 40-digit hash is not a token)\n"
        "request-id=9b2c1d0e4f5a6b7c8d9e0f1a2b3c4d5e6f7a (36 digits, not a token either)\n"
        f"form export;{stranger};2024-06-15\n"
        "\x00\xff binary noise \ufffd\n",
        encoding="utf-8",
        errors="surrogateescape",
    )
    result = run_cli("subscribers", "unsubscribe", "--tokens-from", str(log), cwd=project)
    assert result.code == 0, result.output  # noise in a log is reported, not an error
    assert f"no address in subscribers.csv has token {stranger}" in result.err
    assert "3 token(s): 2 unsubscribed now, 0 already, 1 matched nobody" in result.out
    after = rows(project / "subscribers.csv")
    assert after["amina.okafor@example.org"]["status"] == "unsubscribed"
    assert after["ben.hughes@example.org"]["status"] == "unsubscribed"
    assert after["amina.okafor@example.org"]["unsubscribe_reason"] == "unsubscribe link"
    assert after["chloe.martin@example.org"]["status"] == "subscribed"
    again = run_cli("subscribers", "unsubscribe", "--tokens-from", str(log), cwd=project)
    assert "0 unsubscribed now, 2 already" in again.out


def test_token_on_the_command_line(project: Path) -> None:
    sent = tokens_sent(project)
    result = run_cli("subscribers", "unsubscribe", "--token", sent["chloe.martin@example.org"], cwd=project)
    assert result.code == 0, result.output
    assert "chloe.martin@example.org: unsubscribed" in result.out
    assert rows(project / "subscribers.csv")["chloe.martin@example.org"]["status"] == "unsubscribed"


def test_an_unmatched_token_given_by_hand_is_an_error(project: Path) -> None:
    before = (project / "subscribers.csv").read_bytes()
    result = run_cli("subscribers", "unsubscribe", "--token", "ffffffffffffffffffffffffffffffff", cwd=project)
    assert result.code == 1
    assert "1 token(s) match no address in subscribers.csv" in result.err
    assert (project / "subscribers.csv").read_bytes() == before


def test_a_token_made_with_another_secret_matches_nobody(project: Path) -> None:
    sent = tokens_sent(project)
    result = run_cli(
        "subscribers",
        "unsubscribe",
        "--token",
        sent["farah.haddad@example.org"],
        cwd=project,
        env={"NEWSLETTER_SECRET": "another secret"},
    )
    assert result.code == 1 and "match no address" in result.err


def test_bad_tokens_and_files(project: Path, tmp_path: Path) -> None:
    bad = run_cli("subscribers", "unsubscribe", "--token", "not-a-token", cwd=project)
    assert bad.code == 2 and "'not-a-token' is not a token" in bad.err
    missing = run_cli("subscribers", "unsubscribe", "--tokens-from", str(tmp_path / "nope.log"), cwd=project)
    assert missing.code == 2 and "nope.log: --tokens-from: no such file" in missing.err
    empty = tmp_path / "empty.log"
    empty.write_text("nothing to see\n", encoding="utf-8")
    none = run_cli("subscribers", "unsubscribe", "--tokens-from", str(empty), cwd=project)
    assert none.code == 2 and "no unsubscribe token found" in none.err
    both = run_cli("subscribers", "unsubscribe", "a@example.org", "--token", "f" * 32, cwd=project)
    assert both.code == 2 and "not both" in both.err
    for r in (bad, missing, none, both):
        assert "Traceback" not in r.output
