"""Forgetting one address everywhere the project holds it (erasure, GDPR Art. 17).

In order, with the send lock held so that no send runs meanwhile: every row of the
address leaves the list; the send journal's rows are made anonymous (the address
replaced by a stand-in, names and merge values gone, a row not yet sent suppressed);
every other file that names the person is handled as :mod:`newsletter.privacy.places`
says; the address's keyed hash goes into ``forgotten.txt`` so that no import adds it
back; and, when asked, SendGrid is asked to erase what it holds
(``POST /v3/recipients/erasejob``). Then the project is searched again: whatever
still names the person is reported (exit 1), never silently left.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.forgotten import Forgotten
from newsletter.audience.person import address_of, remove
from newsletter.delivery.journal import JOURNAL_FILE, Journal
from newsletter.delivery.state import SECRET_ENV, STATE_DIR, load_secret
from newsletter.errors import NewsletterError, display_path
from newsletter.privacy import places
from newsletter.privacy.holdings import needles_for, searched
from newsletter.privacy.people import root_of


@dataclass(slots=True)
class Forgot:
    address: str
    list_file: str
    list_lines: list[int] = field(default_factory=list)
    journal_rows: int = 0
    files: list[tuple[str, str]] = field(default_factory=list)
    """(file, what was done) of every other file that named the person."""
    left: list[str] = field(default_factory=list)
    """Files that still name the person: to edit by hand."""
    register: str = ""
    newly_registered: bool = False
    shared_secret: bool = False
    """The register's key is ``NEWSLETTER_SECRET`` (every clone refuses the address),
    not this machine's ``.newsletter/secret``."""
    erase_job: str | None = None
    erase_error: str | None = None


def forget(list_path: Path, raw_address: str, *, at_sendgrid: bool = False) -> Forgot:
    address, key = address_of(raw_address)
    root = root_of(list_path)
    result = Forgot(address, display_path(list_path))
    with ExitStack() as stack:
        journal = Journal.existing(root)
        if journal is not None:
            stack.enter_context(journal)
            journal.lock()  # no send of this project runs while it forgets
        secret = load_secret(root)
        register = Forgotten(root, secret)
        found = needles_for(root, address)
        result.list_lines = remove(list_path, key)
        if journal is not None:
            result.journal_rows = journal.forget(address, register.stand_in(address), places.scrubber(found))
        journal_files = {(root / STATE_DIR / JOURNAL_FILE).resolve()}
        journal_files |= {p.with_name(p.name + s) for p in list(journal_files) for s in ("-wal", "-shm")}
        leave = {list_path.resolve(), register.path.resolve()}
        for path in places.naming(searched(root, list_path), found, leave | journal_files):
            done = _handle(path, root, found)
            result.files.append((display_path(path), done))
        result.newly_registered = register.add(address)
        result.register = display_path(register.path)
        result.shared_secret = bool(os.environ.get(SECRET_ENV))
        still = places.naming(searched(root, list_path), found, {register.path.resolve()})
        result.left = [display_path(p) for p in still]
    if at_sendgrid:
        from newsletter.feedback.erasure import erase

        try:
            result.erase_job = erase([address])
        except NewsletterError as exc:
            result.erase_error = exc.format_message()
    return result


def _handle(path: Path, root: Path, found: places.Needles) -> str:
    what = places.action(path, root)
    try:
        if what == places.DELETE:
            path.unlink()
        elif what == places.SCRUB:
            places.scrub(path, found)
        elif what == places.ROWS and not places.drop_rows(path, found):
            return "not CSV as far as can be read: left as it is, edit it yourself"
    except OSError as exc:
        return f"could not be changed ({exc.strerror}): edit it yourself"
    return places.WHAT[what]
