"""The ``outbox`` provider: one ``.eml`` file per message in a folder; nothing leaves the machine.

It is the default when no SendGrid key is configured, so a send can be tried end to
end on a fresh machine; open the files in any mail program to see what readers get.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from newsletter.delivery.base import BatchResult, Message, Recipient, RetryLater
from newsletter.delivery.mime import MimeBuilder

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def eml_name(recipient: Recipient) -> str:
    return f"{recipient.seq:07d}-{_UNSAFE.sub('_', recipient.email)[:80]}.eml"


def write_eml(path: Path, data: bytes) -> None:
    """Write one message durably and atomically (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class OutboxProvider:
    """Writes ``<folder>/<seq>-<address>.eml`` for each recipient."""

    name = "outbox"
    max_batch = 1000

    def __init__(self, folder: Path, *, subject_prefix: str = "") -> None:
        self.folder = folder
        self.subject_prefix = subject_prefix
        self._builder: MimeBuilder | None = None

    def prepare(self, message: Message, recipients: Sequence[Recipient]) -> None:
        return None  # each message is built where it is sent

    def send(self, message: Message, recipients: Sequence[Recipient], prepared: object = None) -> BatchResult:
        if self._builder is None or self._builder.message is not message:
            self._builder = MimeBuilder(message, subject_prefix=self.subject_prefix)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for recipient in recipients:
                write_eml(self.folder / eml_name(recipient), self._builder.build(recipient))
        except OSError as exc:
            raise RetryLater(f"cannot write to the outbox {self.folder}: {exc.strerror}") from None
        return BatchResult(accepted=[r.seq for r in recipients])

    def close(self) -> None:
        self._builder = None
