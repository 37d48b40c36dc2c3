"""An SMTP send's "no such mailbox" refusals into the list, as ``bounced``.

SendGrid reports its bounces later, through its suppression lists
(:mod:`newsletter.feedback.sync`); an SMTP server says so at once, in its reply to the
recipient or to the message, which the journal keeps as the row's reason. At the end of
each run of a send, the send's ``failed`` rows whose reply says the address does not
exist (:func:`newsletter.delivery.refusals.mailbox_gone`) turn their addresses
``bounced`` in the list, in one rewrite of it, through the same code as SendGrid's
bounces (:func:`newsletter.feedback.listmap.apply`): a status only gets stricter, the
date goes in ``status_at`` and the server's reply in ``status_reason``. Rows a killed
run recorded (settled from its outcome log when the send resumes) are included, and
doing it again changes nothing, so a send that stops anywhere loses no bounce. An
address no longer in the list is not added back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from newsletter.delivery.journal import Journal, SendRow
from newsletter.delivery.refusals import mailbox_gone
from newsletter.errors import NewsletterError, ProblemsFound, display_path
from newsletter.feedback.listmap import Changed, Target, apply, key_for

KIND = "smtp"
"""Where the status came from (``Changed.kind``; SendGrid's are its list names)."""


def gone(journal: Journal, send: SendRow) -> dict[str, Target]:
    """key → ``bounced`` target for every failed row of ``send`` refused as a dead address."""
    targets: dict[str, Target] = {}
    for email, state, why in journal.not_accepted(send):
        if state == "failed" and mailbox_gone(why):
            key, normalized = key_for(email)
            targets.setdefault(key, Target(normalized or email, "bounced", KIND, "", why))
    return targets


def bounce_refused(journal: Journal, send: SendRow, list_path: Path, *, today: dt.date | None = None) -> list[Changed]:
    """Mark ``bounced`` in the list the addresses the SMTP server said do not exist; returns
    the rows that changed (none when they already were, or when there is nothing to do)."""
    targets = gone(journal, send)
    if not targets:
        return []
    return apply(list_path, targets, dry_run=False, today=today, collect=False, add=False).changed


def bounce_refused_in_list(journal: Journal, send: SendRow, list_path: Path) -> str:
    """:func:`bounce_refused` for a send's end: the line to print ("" when nothing changed).

    A list that cannot be rewritten (a row that cannot be read, a full disk) stops the
    send before it is marked finished, so the same command does it once that is fixed.
    """
    try:
        changed = bounce_refused(journal, send, list_path)
    except NewsletterError as exc:
        raise ProblemsFound(
            f"the send is recorded, but the addresses the SMTP server said do not exist could "
            f"not be marked bounced in {display_path(list_path)}: {exc.format_message()}. Fix that and "
            "run the same command again"
        ) from None
    if not changed:
        return ""
    return (
        f"{len(changed)} address(es) the SMTP server said do not exist are now 'bounced' in "
        f"{display_path(list_path)} (`newsletter report` shows each reply)"
    )
