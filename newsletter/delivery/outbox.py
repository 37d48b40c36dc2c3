"""The ``outbox`` provider: one ``.eml`` file per message in a folder; nothing leaves the machine.

It is the default when no SendGrid key is configured, so a send can be tried end to
end on a fresh machine; open the files in any mail program to see what readers get.
Each file is written whole under a temporary name, synced, then renamed: a reader
(or a full disk) never leaves half a message under its final name. Writing a
recipient's message again overwrites the same file, so a stopped batch is simply
written again on the next run: the outbox never has an ``unknown`` recipient.
The files hold names and addresses, so they are readable by their owner only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from newsletter.delivery.base import Attempt, BatchResult, Message, ProviderBase, Recipient, RetryLater, Traits
from newsletter.delivery.mime import MimeBuilder
from newsletter.files import write_file

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


def eml_name(recipient: Recipient) -> str:
    return f"{recipient.seq:07d}-{_UNSAFE.sub('_', recipient.email)[:80]}.eml"


def write_eml(path: Path, data: bytes) -> None:
    """Write one message whole (readers never see half a file; on any error, a full disk
    included, no file is left behind), readable by its owner only."""
    write_file(path, data, personal=True)


class OutboxProvider(ProviderBase):
    """Writes ``<folder>/<seq>-<address>.eml`` for each recipient."""

    name = "outbox"
    traits = Traits(max_batch=1000, message_by_message=True, resend_is_harmless=True, delivers=False)

    def __init__(self, folder: Path, *, subject_prefix: str = "") -> None:
        self.folder = folder
        self.subject_prefix = subject_prefix
        self._builder: MimeBuilder | None = None

    def send(self, message: Message, recipients: Sequence[Recipient], on: Attempt) -> BatchResult:
        if self._builder is None or self._builder.message is not message:
            self._builder = MimeBuilder(message, subject_prefix=self.subject_prefix)
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise RetryLater(f"cannot write to the outbox {self.folder}: {exc.strerror}") from None
        result = BatchResult()
        for i, recipient in enumerate(recipients):
            if on.stopping.is_set():
                result.retry.update((r.seq, "not written yet: the send was interrupted") for r in recipients[i:])
                break
            try:
                write_eml(self.folder / eml_name(recipient), self._builder.build(recipient))
            except OSError as exc:  # a full or read-only disk: trying again at once cannot help
                result.retry.update((r.seq, f"not written: {exc.strerror or exc}") for r in recipients[i:])
                result.stop = f"cannot write to the outbox {self.folder}: {exc.strerror or exc}"
                break
            result.accepted.append(recipient.seq)
        return result

    def close(self, *, at_once: bool = False) -> None:
        self._builder = None
