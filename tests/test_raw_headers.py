"""Headers as RFC 5322, 2047 and 2369 define them, read from the raw bytes (a decoding
parser would hide an encoded ``<URL>``): for messages made directly, over SMTP, in the
outbox, in the dry run and in a test send, with generated names and links."""

from __future__ import annotations

import dataclasses
import email.header
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.delivery.base import Recipient
from newsletter.delivery.headers import clean_name
from newsletter.delivery.mime import MimeBuilder
from tests.conftest import EXAMPLE_ISSUE, run_cli
from tests.delivery_kit import make_kit
from tests.smtp_server import SmtpServer

ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[qQbB]\?[^?\s]*\?=")
LONG_LINK = "https://www.coproductioncollective.co.uk/newsletters/unsubscribe/confirm?list=monthly&token={token}"
NAMES = [
    ("A" * 200, ""),  # one word longer than a line
    ("Chloé", "Martin & Co"),
    ("Zoë " * 30, "Ünïcødé"),  # long, non-ASCII, with spaces
    ("李小龍" * 20, "山田"),  # wide characters: B encoding
    ('Dev "The Dev"', "Patel\\"),
    ("Ann", "Lee-" + "x" * 90),
    ("🎉" * 40, ""),
]


def header_block(raw: bytes) -> bytes:
    head, sep, _ = raw.partition(b"\r\n\r\n")
    assert sep, "no blank line after the headers"
    return head + b"\r\n"


def unfolded(head: bytes) -> dict[bytes, bytes]:
    """Each header's value with only the CRLFs of folding removed (RFC 5322 2.2.3)."""
    out: dict[bytes, bytes] = {}
    for field in re.split(rb"\r\n(?![ \t])", head.rstrip(b"\r\n")):
        name, _, value = field.partition(b":")
        out[name.lower()] = value.replace(b"\r\n", b"")[1:]
    return out


def assert_raw_headers(raw: bytes) -> dict[bytes, bytes]:
    """The rules, on bytes: CRLF line ends only; each line at most 998 octets, and at
    most 78 unless it holds a single word (no whitespace to fold at); encoded words of
    at most 75 characters, and none in List-Unsubscribe, Message-ID or an address."""
    head = header_block(raw)
    assert b"\r\n" in head and b"\n" not in head.replace(b"\r\n", b"") and b"\r" not in head.replace(b"\r\n", b"")
    for line in head.split(b"\r\n")[:-1]:
        assert len(line) <= 998, line[:80]
        if len(line) > 78:
            word = line.split(b": ", 1)[1] if not line[:1].isspace() else line.lstrip(b" \t")
            assert not re.search(rb"[ \t]", word), f"a {len(line)}-octet line that could be folded: {line!r}"
        for word in ENCODED_WORD.findall(line):
            assert len(word) <= 75, word
    fields = unfolded(head)
    for name in (b"list-unsubscribe", b"message-id"):
        assert b"=?" not in fields[name], fields[name]
    for name in (b"from", b"to", b"reply-to"):
        if name in fields:
            address = fields[name].rpartition(b"<")[2] if fields[name].endswith(b">") else fields[name]
            assert b"=?" not in address
    return fields


def decoded_name(value: bytes) -> str:
    """The display name of ``Name <address>``, decoded as RFC 2047 6.2 says (whitespace
    between adjacent encoded words dropped: the standard library's new parser adds a space)."""
    phrase = value.rpartition(b" <")[0].decode("utf-8")
    text = "".join(
        part.decode(cs or "ascii") if isinstance(part, bytes) else part for part, cs in email.header.decode_header(phrase)
    )
    if text.startswith('"') and text.endswith('"'):
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def check_message(raw: bytes, name: str, link: str | None = None) -> None:
    fields = assert_raw_headers(raw)
    if clean_name(name):
        assert decoded_name(fields[b"to"]) == clean_name(name)
    if link is not None:
        assert fields[b"list-unsubscribe"] == f"<{link}>".encode()


def test_the_example_link_is_one_plain_line(project: Path) -> None:
    text = (
        (project / "newsletter.yaml")
        .read_text()
        .replace("https://www.coproductioncollective.co.uk/unsubscribe?token={token}", LONG_LINK)
    )
    (project / "newsletter.yaml").write_text(text)
    kit = make_kit(project, [])
    recipient = Recipient(1, "chloe@example.org", "Chloé Martin", {"unsubscribe_url": LONG_LINK.format(token="a" * 32)}, "a" * 32)
    raw = MimeBuilder(kit.message).build(recipient)
    assert f"\r\nList-Unsubscribe: <{LONG_LINK.format(token='a' * 32)}>\r\n".encode() in raw
    check_message(raw, "Chloé Martin", LONG_LINK.format(token="a" * 32))


@pytest.mark.slow  # a property test of 150 generated sends (~10 s)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    path=st.text("abcdefghij/-_.~%0123456789", min_size=0, max_size=900),
    mailto=st.booleans(),
)
def test_generated_names_and_links(project: Path, name: str, path: str, mailto: bool) -> None:
    kit = make_kit(project, [], key=f"gen-{abs(hash((name, path, mailto)))}")
    message = dataclasses.replace(kit.message, unsubscribe_mailto="leave@example.org" if mailto else None)
    link = f"https://lists.example.org/{path}?t=" + "b" * 32
    raw = MimeBuilder(message, subject_prefix="[TEST] ").build(
        Recipient(1, "r@example.org", name, {"unsubscribe_url": link}, "b" * 32)
    )
    fields = assert_raw_headers(raw)
    expected = f"<{link}>" + (", <mailto:leave@example.org?subject=unsubscribe>" if mailto else "")
    assert fields[b"list-unsubscribe"].decode() == expected
    if clean_name(name):
        assert decoded_name(fields[b"to"]) == clean_name(name)


@pytest.mark.parametrize("subject", ["Café " * 40, "A" * 300, "Plain words " * 20, "Ünï" * 100])
def test_generated_subjects(project: Path, subject: str) -> None:
    kit = make_kit(project, [])
    message = dataclasses.replace(kit.message, subject=subject)
    raw = MimeBuilder(message).build(Recipient(1, "r@example.org", "", {"unsubscribe_url": "https://x.example.org/u"}, "c" * 32))
    fields = assert_raw_headers(raw)
    words = email.header.decode_header(fields[b"subject"].decode())
    text = "".join(p.decode(cs or "ascii") if isinstance(p, bytes) else p for p, cs in words)
    assert text == subject


def hostile_project(project: Path) -> list[tuple[str, str]]:
    """The example project with a long unsubscribe link and subscribers named from NAMES."""
    settings_file = project / "newsletter.yaml"
    settings_file.write_text(
        settings_file.read_text().replace("https://www.coproductioncollective.co.uk/unsubscribe?token={token}", LONG_LINK)
    )
    rows = ["email,first_name,last_name,status"]
    rows += [
        f'reader{i}@example.org,"{first.replace(chr(34), chr(34) * 2)}","{last.replace(chr(34), chr(34) * 2)}",subscribed'
        for i, (first, last) in enumerate(NAMES)
    ]
    (project / "subscribers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return NAMES


def names_by_address() -> dict[str, str]:
    return {f"reader{i}@example.org": f"{first} {last}" for i, (first, last) in enumerate(NAMES)}


def link_in(raw: bytes) -> str:
    value = unfolded(header_block(raw))[b"list-unsubscribe"].decode()
    assert value.startswith("<https://www.coproductioncollective.co.uk/newsletters/unsubscribe/confirm?list=monthly&token=")
    return value[1:-1]


def test_outbox_messages(project: Path) -> None:
    hostile_project(project)
    r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--force", cwd=project)
    assert r.code == 0, r.output
    files = sorted((project / "outbox" / "2024-06-june-team-update").glob("*.eml"))
    assert len(files) == len(NAMES)
    names = names_by_address()
    for path in files:
        raw = path.read_bytes()
        to = unfolded(header_block(raw))[b"to"].decode()
        address = to.rpartition("<")[2].rstrip(">")
        check_message(raw, names[address], link_in(raw))


def test_dry_run_messages(project: Path) -> None:
    hostile_project(project)
    r = run_cli("send", EXAMPLE_ISSUE, "--dry-run", "--force", cwd=project)
    assert r.code == 0, r.output
    files = sorted((project / "build" / "dry-run" / "2024-06-june-team-update").glob("*.eml"))
    assert files
    names = names_by_address()
    for path in files:
        raw = path.read_bytes()
        address = unfolded(header_block(raw))[b"to"].decode().rpartition("<")[2].rstrip(">")
        check_message(raw, names[address], link_in(raw))


def test_smtp_and_test_send(project: Path) -> None:
    hostile_project(project)
    names = names_by_address()
    with SmtpServer() as server:
        r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--force", "--provider", "smtp", cwd=project, env={"SMTP_URL": server.url})
        assert r.code == 0, r.output
        assert len(server.handler.messages) == len(NAMES)
        for _, [address], raw in server.handler.messages:
            check_message(raw, names[address], link_in(raw))
        t = run_cli(
            "send",
            EXAMPLE_ISSUE,
            "--force",
            "--provider",
            "smtp",
            "--test-to",
            "me@example.org",
            "--as",
            "reader2@example.org",
            cwd=project,
            env={"SMTP_URL": server.url},
        )
        assert t.code in (0, 1), t.output
        raw = server.handler.messages[-1][2]
        fields = assert_raw_headers(raw)
        assert b"[TEST]" in fields[b"subject"]
        link_in(raw)


def test_a_link_too_long_for_any_header_line_is_refused_before_sending(project: Path) -> None:
    settings_file = project / "newsletter.yaml"
    settings_file.write_text(
        settings_file.read_text().replace(
            "https://www.coproductioncollective.co.uk/unsubscribe?token={token}",
            "https://www.coproductioncollective.co.uk/" + "u" * 1000 + "?token={token}",
        )
    )
    r = run_cli("send", EXAMPLE_ISSUE, "--yes", "--force", cwd=project)
    assert r.code == 2, r.output
    assert "newsletter.yaml: unsubscribe_url: the unsubscribe link is too long for a List-Unsubscribe header line" in r.err
    assert "Traceback" not in r.output and not (project / "outbox").exists()
