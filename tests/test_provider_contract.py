"""The provider contract: a provider of three methods sends through the real send loop and
journal; delivery imports nothing above it; the session speaks and asks only through the
reporter the command passes in."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import ClassVar

import pytest

from newsletter.commands.send_hooks import send_hooks
from newsletter.delivery.base import Attempt, BatchResult, Message, Recipient, Traits
from newsletter.delivery.run import ProgressSink, deliver
from newsletter.delivery.session import Context, SendOptions, real_send
from newsletter.errors import ProblemsFound, UsageError
from newsletter.project import open_issue
from tests.conftest import EXAMPLE_ISSUE, REPO
from tests.delivery_kit import make_kit, people, person


class Memory:
    """A whole provider as a newcomer writes one: declarations, send, unsendable, close."""

    name: ClassVar[str] = "memory"
    traits: ClassVar[Traits] = Traits(max_batch=10, message_by_message=True)

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.busy_once = True
        self.closed = False

    def send(self, message: Message, recipients: Sequence[Recipient], on: Attempt) -> BatchResult:
        result = BatchResult()
        for r in recipients:
            if r.email.startswith("busy") and self.busy_once:  # a 4xx: tried again by the loop
                self.busy_once = False
                result.retry[r.seq] = "451 try again later"
                continue
            self.sent.append(r.email)
            result.accepted.append(r.seq)
        return result

    def unsendable(self, email: str) -> str | None:
        return "no SMTPUTF8 here"

    def close(self, *, at_once: bool = False) -> None:
        self.closed = True


def test_a_provider_of_three_methods_sends_through_the_loop(project: Path) -> None:
    readers = [*people(23), person("busy@example.org"), person("jöe@example.org")]
    kit = make_kit(project, readers)
    provider = Memory()
    try:
        result = deliver(
            kit.journal,
            kit.send,
            kit.message,
            provider,
            kit.maker(),
            kit.delivery(backoff=0.0, backoff_cap=0.0),
            source=kit.source(),
        )
    finally:
        provider.close()
    kit.refresh()
    counts = kit.journal.counts(kit.send)
    assert result.outcome == "done"
    assert counts["accepted"] == 24 and counts["failed"] == 1 and counts["pending"] == 0
    assert sorted(provider.sent) == sorted(p.email for p in readers[:24])  # the busy one once, when retried
    assert result.requests == 4  # 10 + 10 + 4 (one busy; the non-ASCII one refused first), then the busy one
    assert provider.closed


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module a file imports, at the top or inside a function (relative ones resolved)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            yield node.lineno, module


def test_nothing_in_delivery_imports_upward() -> None:
    upward = ("newsletter.checks", "newsletter.feedback", "newsletter.commands", "newsletter.cli")
    found = [
        f"{path.name}:{line}: {module}"
        for path in sorted((REPO / "newsletter" / "delivery").glob("*.py"))
        for line, module in _imports(path)
        if module.startswith(upward)
    ]
    assert found == []


class Recorder:
    """A reporter that keeps what it is told and answers its questions with ``answer``."""

    def __init__(self, answer: bool | None) -> None:
        self.answer = answer
        self.said: list[str] = []
        self.warned: list[str] = []
        self.asked: list[str] = []
        self.notes: list[str] = []

    def say(self, text: str = "") -> None:
        self.said.append(text)

    def warn(self, text: str) -> None:
        self.warned.append(text)

    def ask(self, question: str) -> bool | None:
        self.asked.append(question)
        return self.answer

    def progress(self, total: int, done: int) -> AbstractContextManager[ProgressSink]:
        recorder = self

        class Notes:
            def advance(self, accepted: int, total: int) -> None:
                pass

            def note(self, text: str) -> None:
                recorder.notes.append(text)

        @contextmanager
        def notes() -> Iterator[ProgressSink]:
            yield Notes()

        return notes()


def _outbox_send(project: Path, answer: bool | None) -> tuple[Recorder, Path]:
    proj, issue_file, rendered = open_issue(project / EXAMPLE_ISSUE)
    ctx = Context(proj, issue_file, rendered, proj.settings, proj.list_path(None), "outbox")
    r = Recorder(answer)
    real_send(ctx, SendOptions(issue_path=project / EXAMPLE_ISSUE, provider="outbox"), None, r, send_hooks(ctx))
    return r, project / "outbox" / rendered.slug


@pytest.mark.parametrize("answer", [False, None])
def test_the_session_asks_through_the_reporter_and_a_no_sends_nothing(
    project: Path, answer: bool | None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ProblemsFound if answer is False else UsageError) as raised:
        _outbox_send(project, answer)
    assert ("you said no" if answer is False else "no terminal to ask in") in str(raised.value)
    assert not (project / "outbox").exists()
    assert capsys.readouterr() == ("", "")


def test_the_session_speaks_only_through_the_reporter(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r, folder = _outbox_send(project, True)
    assert len(r.asked) == 1 and "with outbox?" in r.asked[0]
    assert len(list(folder.glob("*.eml"))) == 5
    assert any(line.startswith("Written to the outbox: 5 message file(s)") for line in r.said)
    assert r.said[-1].startswith("No email was sent: 5 message(s) written to")
    assert capsys.readouterr() == ("", "")
