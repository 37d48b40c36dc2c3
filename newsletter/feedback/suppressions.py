"""Reading SendGrid's suppression lists (to the last page) and adding to them.

Lists with dates are read from a start time on (the cursor of the last sync), 500 at
a time, page after page until a short page. The unsubscribe group's list has no dates
and no pages: it is read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from newsletter.feedback.account import SendGridError, call

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

PAGE = 500
"""SendGrid's largest page for the suppression lists."""
MAX_PAGES = 100_000
"""A deadline for one list: 50 million entries."""
PUSH_CHUNK = 1000

STATUS_OF = {
    "unsubscribes": "unsubscribed",
    "group": "unsubscribed",
    "bounces": "bounced",
    "invalid_emails": "bounced",
    "spam_reports": "complained",
}
"""What each list means for the subscriber list; blocks are temporary and change nothing."""
LABEL = {
    "unsubscribes": "global unsubscribe",
    "group": "unsubscribed from the group",
    "bounces": "bounce",
    "invalid_emails": "invalid address",
    "spam_reports": "spam report",
    "blocks": "block",
}


@dataclass(frozen=True, slots=True)
class Suppression:
    """One entry of one of SendGrid's lists."""

    kind: str
    email: str
    created: int | None
    """Unix time SendGrid gives (None for the group's list, which has no dates)."""
    reason: str


def _endpoint(sg: SendGridAPIClient, kind: str) -> Any:
    s = sg.client.suppression
    return {
        "unsubscribes": s.unsubscribes,
        "bounces": s.bounces,
        "invalid_emails": s.invalid_emails,
        "spam_reports": s.spam_reports,
        "blocks": s.blocks,
    }[kind]


def _reason(kind: str, entry: dict[str, Any]) -> str:
    words = " ".join(str(entry.get("reason") or "").split())
    status = str(entry.get("status") or "").strip()
    if kind == "spam_reports":
        return "reported the email as spam"
    if kind == "unsubscribes":
        return "unsubscribed from all of the account's email"
    return f"{status} {words}".strip() if status and status not in words else words


LATEST = 253402300799
"""The last second of the year 9999: a later ``created`` is no date at all."""


def _created(value: object) -> int | None:
    """SendGrid's ``created`` as Unix time, or None when it is not a time a date can be
    made from (negative, past the year 9999, not a finite number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 <= value <= LATEST:  # also False for NaN
        return None
    return int(value)


def read_list(
    sg: SendGridAPIClient, kind: str, since: int | None, sleep: Callable[[float], None] | None = None
) -> Iterator[Suppression]:
    """Every entry of one dated list created at or after ``since`` (all when None)."""
    endpoint = _endpoint(sg, kind)
    what = f"reading SendGrid's {kind.replace('_', ' ')}"
    previous: list[Any] | None = None
    for page in range(MAX_PAGES):
        params: dict[str, int] = {"limit": PAGE, "offset": page * PAGE}
        if since is not None:
            params["start_time"] = since
        entries = call(what, lambda p=params: endpoint.get(query_params=p), sleep=sleep)  # type: ignore[misc]
        if not isinstance(entries, list):
            raise SendGridError(f"{what}: SendGrid's answer is not a list")
        if entries and entries == previous:  # the offset is not being honoured: it would never end
            raise SendGridError(
                f"{what}: SendGrid gave the same page again for offset {page * PAGE:,}; "
                "stopped reading (is SENDGRID_API_HOST right?)"
            )
        previous = entries
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("email"), str):
                raise SendGridError(f"{what}: an entry without an email address: {str(entry)[:80]}")
            yield Suppression(kind, entry["email"], _created(entry.get("created")), _reason(kind, entry))
        if len(entries) < PAGE:
            return
    raise SendGridError(f"{what}: more than {MAX_PAGES * PAGE:,} entries; stopped reading")


def read_group(sg: SendGridAPIClient, group_id: int, sleep: Callable[[float], None] | None = None) -> list[Suppression]:
    """The unsubscribe group's suppressions (all of them; SendGrid gives no dates)."""
    what = f"reading unsubscribe group {group_id}"
    emails = call(what, lambda: sg.client.asm.groups._(group_id).suppressions.get(), sleep=sleep)
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise SendGridError(f"{what}: SendGrid's answer is not a list of addresses")
    return [Suppression("group", e, None, "unsubscribed from the group") for e in emails]


def group_exists(sg: SendGridAPIClient, group_id: int) -> str:
    """The group's name; :class:`SendGridError` when SendGrid does not know it."""
    what = f"looking up unsubscribe group {group_id}"
    group = call(what, lambda: sg.client.asm.groups._(group_id).get())
    if not isinstance(group, dict) or group.get("id") != group_id:
        raise SendGridError(f"{what}: SendGrid has no such group")
    return str(group.get("name") or "")


def add_to_group(sg: SendGridAPIClient, group_id: int, emails: list[str]) -> None:
    for i in range(0, len(emails), PUSH_CHUNK):
        chunk = emails[i : i + PUSH_CHUNK]
        call(
            f"adding unsubscribes to group {group_id}",
            lambda c=chunk: sg.client.asm.groups._(group_id).suppressions.post(  # type: ignore[misc]
                request_body={"recipient_emails": c}
            ),
        )


def add_global(sg: SendGridAPIClient, emails: list[str]) -> None:
    for i in range(0, len(emails), PUSH_CHUNK):
        chunk = emails[i : i + PUSH_CHUNK]
        call(
            "adding global unsubscribes",
            lambda c=chunk: sg.client.asm.suppressions._("global").post(  # type: ignore[misc]
                request_body={"recipient_emails": c}
            ),
        )
