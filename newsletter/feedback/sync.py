"""``newsletter subscribers sync``: SendGrid's suppressions into the list, and back.

1. Read SendGrid's lists since the last sync (the cursor in ``.newsletter/``): global
   unsubscribes, the unsubscribe group's suppressions (when one is configured),
   bounces, invalid emails, spam reports, and blocks (shown only: they are temporary).
2. Make the list at least as strict (:mod:`newsletter.feedback.listmap`).
3. Push what the list holds as unsubscribed or complained and SendGrid lacks: into
   the unsubscribe group, or into the global unsubscribes only when asked (a global
   unsubscribe also stops the account's other mail, such as receipts).
4. Move the cursor on (only when everything above succeeded).

A sync that stops anywhere leaves the list old or new, never half; running it again
finishes the job, and a second sync in a row changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.audience.forgotten import FILE as FORGOTTEN_FILE
from newsletter.audience.forgotten import Forgotten
from newsletter.delivery.state import load_secret
from newsletter.errors import display_path
from newsletter.feedback import cursor
from newsletter.feedback.account import SendGridError, api_host, client
from newsletter.feedback.listmap import Changed, apply, key_for, strictest
from newsletter.feedback.suppressions import (
    Suppression,
    add_global,
    add_to_group,
    group_exists,
    read_group,
    read_list,
)
from newsletter.settings import Settings

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

DATED = ("unsubscribes", "bounces", "invalid_emails", "spam_reports", "blocks")


@dataclass(frozen=True, slots=True)
class SyncOptions:
    list_path: Path
    root: Path
    settings: Settings
    dry_run: bool = False
    push_global: bool = False
    push: bool = True
    count_unpushed: bool = True
    """Count the list's unsubscribes that are not pushed (no group, no --push-global): a
    pass over the list; a send's sync skips it when nothing else needs one."""


@dataclass(slots=True)
class SyncResult:
    list_file: str
    host: str
    group_id: int | None
    dry_run: bool
    read: dict[str, int] = field(default_factory=dict)
    """How many entries each of SendGrid's lists gave."""
    changed: list[Changed] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    blocks: list[Suppression] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    push_target: str = ""
    """``group N`` | ``global`` | "" (nothing to push into: said in :attr:`not_pushed`)."""
    not_pushed: int = 0
    """Local unsubscribes SendGrid lacks that were not pushed (no group, no --push-global)."""
    written: bool = False
    forgotten: int = 0
    """Addresses SendGrid still lists that were forgotten on request: never added back."""

    @property
    def added(self) -> int:
        return sum(1 for c in self.changed if c.line is None)

    def as_dict(self) -> dict[str, object]:
        return {
            "list": self.list_file,
            "dry_run": self.dry_run,
            "group_id": self.group_id,
            "read": dict(sorted(self.read.items())),
            "changed": [c.as_dict() for c in self.changed],
            "unchanged": self.unchanged,
            "skipped_invalid": self.skipped,
            "blocks": [{"email": b.email, "created": b.created, "reason": b.reason} for b in self.blocks],
            "pushed": {"into": self.push_target, "emails": self.pushed},
            "not_pushed": self.not_pushed,
            "list_written": self.written,
        }

    def summary(self) -> str:
        """One line for a send's summary."""
        verb = "would change" if self.dry_run else "changed"
        parts = [f"{len(self.changed)} row(s) {verb} ({self.added} added)"]
        if self.pushed:
            parts.append(f"{len(self.pushed)} unsubscribe(s) pushed to SendGrid ({self.push_target})")
        return "Synced with SendGrid first: " + ", ".join(parts)


def sync(o: SyncOptions, *, sleep: Callable[[float], None] | None = None) -> SyncResult:
    """Run one sync (see the module); raise :class:`SendGridError` in SendGrid's words."""
    sg = client(o.settings.delivery.sendgrid.timeout)
    host = api_host()
    group_id = o.settings.delivery.sendgrid.asm_group_id
    result = SyncResult(display_path(o.list_path), host, group_id, o.dry_run)
    began = int(time.time())
    since = cursor.load(o.root, host)
    found: list[Suppression] = []
    if group_id is not None:
        try:
            group_exists(sg, group_id)
        except SendGridError as exc:
            if exc.status == 404:
                raise SendGridError(
                    f"SendGrid has no unsubscribe group {group_id} (delivery.sendgrid.asm_group_id in "
                    f"newsletter.yaml): {exc.message.split(': ', 1)[-1]}",
                    404,
                ) from None
            raise
        found.extend(read_group(sg, group_id, sleep))
        result.read["group"] = len(found)
    for kind in DATED:
        n = 0
        for s in read_list(sg, kind, since.get(kind), sleep):
            n += 1
            if kind == "blocks":
                result.blocks.append(s)
            else:
                found.append(s)
        result.read[kind] = n
    pushing = o.push and (o.push_global or group_id is not None)
    targets = strictest(found)
    if (o.root / FORGOTTEN_FILE).is_file():  # a forgotten address never comes back, not even as unsubscribed
        register = Forgotten(o.root, load_secret(o.root))
        kept = {key: t for key, t in targets.items() if t.email not in register}
        result.forgotten, targets = len(targets) - len(kept), kept
    mapped = apply(o.list_path, targets, dry_run=o.dry_run, collect=pushing or o.count_unpushed)
    result.changed, result.unchanged, result.skipped = mapped.changed, mapped.unchanged, mapped.skipped
    result.written = mapped.written
    if o.push:
        _push(sg, o, result, mapped.strict, found, group_id, since)
    if not o.dry_run:
        cursor.save(o.root, host, began, list(DATED))
    return result


def _push(
    sg: SendGridAPIClient,
    o: SyncOptions,
    result: SyncResult,
    strict: dict[str, str],
    found: list[Suppression],
    group_id: int | None,
    since: dict[str, int],
) -> None:
    """Push the list's unsubscribes and complaints that the target list lacks. Judged
    against the whole target list (the group's is always read whole; the global one is
    read whole for this), so a second sync pushes nothing."""
    if o.push_global:
        result.push_target = "global"
        if since.get("unsubscribes") is None:  # this sync read the whole global list already
            known = {key_for(s.email)[0] for s in found if s.kind == "unsubscribes"}
        else:
            known = {key_for(s.email)[0] for s in read_list(sg, "unsubscribes", None)}
    elif group_id is not None:
        result.push_target = f"group {group_id}"
        known = {key_for(s.email)[0] for s in found if s.kind == "group"}
    else:
        known = set()
    lacking = sorted(email for key, email in strict.items() if key not in known)
    if not result.push_target:
        result.not_pushed = len(lacking)
        return
    result.pushed = lacking
    if o.dry_run or not lacking:
        return
    if o.push_global:
        add_global(sg, lacking)
    else:
        assert group_id is not None
        add_to_group(sg, group_id, lacking)
