"""The send journal's tables, and opening a journal file to write: its format checked
(or upgraded), its durability settings, its tables made when new."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import NewsletterError, display_path

if TYPE_CHECKING:
    import sqlite3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL,
    provider TEXT NOT NULL,
    list_path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created REAL NOT NULL,
    eligible INTEGER NOT NULL DEFAULT 0,
    batches INTEGER NOT NULL DEFAULT 0,
    loaded INTEGER NOT NULL DEFAULT 0,
    finished REAL,
    timing TEXT
);
CREATE TABLE IF NOT EXISTS recipients (
    send_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    vals TEXT,
    state TEXT NOT NULL,
    batch INTEGER,
    reason TEXT,
    tracked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (send_id, seq)
) WITHOUT ROWID;
"""
# Each address is in a send once because the list gives it once: the audience module
# yields one line per address, ignoring case. An index on the address to enforce it
# again would slow every large send, so the journal has none.
# A row keeps what the recipient's message is made from and nothing that can be
# worked out again: the display name is the first and last name joined, the
# unsubscribe token a keyed hash of the address (``state.unsubscribe_token``), and
# ``vals`` (the merge values as JSON) is NULL when the message uses no merge field
# but the names. Narrow rows keep what a large send writes small.
# ``tracked`` is 1 for a reader who agreed to click and open tracking (``tracking:
# consented``); rows are written a batch at a time, all of a batch alike, and a batch
# never mixes the two. Format 2 lacked it: such a journal gains it, every row 0 (not
# tracked by consent: format 2 had no such thing), and its sends resume.
# ``timing`` is when the send's messages go (:mod:`newsletter.delivery.timing`), which a
# resumed send keeps. Formats 2 and 3 lacked it: such a journal gains it, NULL (not known:
# those sends resume as they are asked to).
SCHEMA_VERSION = 4
UPGRADABLE = (2, 3)


def check_format(db: sqlite3.Connection, path: Path, *, upgrade: bool) -> None:
    """Refuse, before changing a byte of it, a journal whose rows mean something else;
    with ``upgrade``, bring a format this version knows up to date (reading needs none:
    what formats 3 and 4 added is read by the send loop only)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "recipients" in tables and version in UPGRADABLE:
        if upgrade:
            if version < 3:
                db.execute("ALTER TABLE recipients ADD COLUMN tracked INTEGER NOT NULL DEFAULT 0")
            db.execute("ALTER TABLE sends ADD COLUMN timing TEXT")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    elif "recipients" in tables and version != SCHEMA_VERSION:
        db.close()
        raise NewsletterError(
            f"{display_path(path)}: this send journal was written by another version of newsletter"
            f" (journal format {version}, this version reads {SCHEMA_VERSION}); finish its sends with"
            " that version, or move the file aside to start afresh"
        )


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Ready a journal opened to write: its format checked (and upgraded), then WAL,
    ``synchronous=FULL`` and the tables."""
    check_format(db, path, upgrade=True)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA temp_store=FILE")
    db.executescript(_SCHEMA)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
