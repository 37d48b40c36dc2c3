"""Helpers for delivery tests: a project's rendered issue, a message, a journal with recipients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from newsletter.audience import Entry
from newsletter.delivery.base import Message, Recipient
from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.plan import (
    NewRow,
    RowMaker,
    content_hash,
    make_message,
    new_rows,
    recipient_maker,
    used_fields,
)
from newsletter.delivery.state import load_secret
from newsletter.project import open_issue
from newsletter.render.pipeline import Rendered
from newsletter.settings import Delivery, Settings

ISSUE = "issues/2024-06-june-team-update.yaml"


def person(email: str, first_name: str = "", last_name: str = "", fields: dict[str, str] | None = None, line: int = 2) -> Entry:
    """A list entry as the audience module yields it to a send."""
    return Entry(email, first_name, last_name, fields or {}, line)


def people(n: int, domain: str = "example.org") -> list[Entry]:
    return [person(f"reader{i:06d}@{domain}", f"Reader{i}", "Test", {}, i + 2) for i in range(n)]


@dataclass
class Kit:
    root: Path
    settings: Settings
    message: Message
    journal: Journal
    send: SendRow
    rendered: Rendered
    people: list[Entry]

    def delivery(self, **changes: object) -> Delivery:
        return self.settings.delivery.model_copy(update=changes)

    def source(self) -> Iterator[NewRow]:
        """The list as a send reads it (the recipients not in the journal yet are sent first)."""
        return new_rows(self.people, self.settings, used_fields(self.rendered), self.root / "list.csv")

    def recipients(self) -> list[Recipient]:
        """Everyone on the list as the providers get them (``seq`` from 1)."""
        return list(map(self.maker(), ((i, *row[:4]) for i, row in enumerate(self.source(), 1))))

    def maker(self) -> RowMaker:
        """Makes recipients from journal rows, as a send of this project does."""
        return recipient_maker(self.settings, load_secret(self.root))

    def refresh(self) -> None:
        self.send = self.journal.refresh(self.send.key)


def make_kit(root: Path, recipients: list[Entry], *, key: str = "test-send") -> Kit:
    project, _, rendered = open_issue(root / ISSUE)
    message = make_message(rendered, project.settings, send_id=key)
    journal = Journal.open(root)
    send = journal.create(
        key=key,
        slug=rendered.slug,
        provider="sendgrid",
        list_path="list.csv",
        content_hash=content_hash(message),
        eligible=len(recipients),
    )
    return Kit(root, project.settings, message, journal, send, rendered, recipients)
