"""The send journal: SQLite under ``.newsletter/``, one row per recipient per send.

States move ``pending → in_flight → accepted | failed | unknown`` (and
``pending → suppressed`` when an address stops being eligible before it was sent;
``unknown → marked_sent | pending`` by the editor's decision).
Rows are written as the list is read, a batch at a time, ``pending`` while the
request before them is out, and become ``in_flight`` in the commit that precedes
their own request (``sends.loaded`` says when every eligible address has its
row); rows that must wait go back to ``pending``.
Each change is committed durably (WAL, ``synchronous=FULL``) before and after the
request it belongs to, so after a crash the journal says exactly which recipients
were in the request whose answer it never recorded: those rows are ``in_flight``,
and the send's outcome log (:mod:`newsletter.delivery.outcomes`, written by the
process that posted the request) says what became of them. Only one process may
send at a time (a lock file next to the database).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

import orjson

from newsletter.delivery.base import BatchResult, RowTuple
from newsletter.delivery.journal_read import DONE_STATES, JOURNAL_FILE, STATES, JournalReader, Row, SendRow, journal_path
from newsletter.delivery.journal_schema import prepare
from newsletter.delivery.state import state_dir
from newsletter.errors import NewsletterError, UsageError, display_path
from newsletter.files import lock_file, personal_file

__all__ = ["DONE_STATES", "JOURNAL_FILE", "STATES", "Journal", "Row", "SendRow"]


class Journal(JournalReader):
    """The journal database of one project, opened to send (read and written)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            try:
                personal_file(path)  # names and addresses: owner only (SQLite's -wal and -shm follow)
            except OSError:
                if not path.exists():
                    raise
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            prepare(self.db, path)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise NewsletterError(f"{display_path(path)}: cannot open the send journal: {exc}") from None
        self._lock_fd: int | None = None
        self.before_request: Callable[[], None] | None = None
        """Called before rows become ``in_flight`` for a request (the send record's lease)."""
        self._deferred = False
        """A transaction is open whose commit was deferred (see :meth:`_tx`)."""

    @classmethod
    def open(cls, root: Path) -> Journal:
        return cls(state_dir(root) / JOURNAL_FILE)

    @classmethod
    def existing(cls, root: Path) -> Journal | None:
        """The journal if one was ever written (reading never creates one)."""
        path = journal_path(root)
        return cls(path) if path.exists() else None

    # -- locking ---------------------------------------------------------------------

    def lock(self) -> Journal:
        """Hold the send lock; refuse if another send of this project is running."""
        fd = lock_file(self.path.with_suffix(".lock"))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError("another `newsletter send` of this project is running; wait for it to finish") from None
        self._lock_fd = fd
        return self

    def close(self) -> None:
        if self._deferred:
            self.db.execute("COMMIT")
            self._deferred = False
        self.db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _tx(self, *, defer: bool = False) -> _Transaction:
        """A write transaction. With ``defer`` its commit waits for the next one's, so
        that the answer to one batch and the start of the next share one commit (one
        ``fsync`` per batch fewer); a stop in between leaves that batch ``in_flight``,
        settled from the outcome log: never sent twice. :meth:`close` commits it."""
        return _Transaction(self, defer)

    # -- sends -----------------------------------------------------------------------

    def create(
        self,
        *,
        key: str,
        slug: str,
        provider: str,
        list_path: str,
        content_hash: str,
        eligible: int,
        created: float | None = None,
        timing: str | None = None,
    ) -> SendRow:
        """Record a new send; its recipients are added batch by batch (:meth:`add_pending`, :meth:`begin_batch`).
        ``created``: when it began (now unless given: a local-time send's times are reckoned from it);
        ``timing``: when its messages go (:meth:`newsletter.delivery.timing.Timing.text`)."""
        with self._tx():
            self.db.execute(
                "INSERT INTO sends (key, slug, provider, list_path, content_hash, created, eligible, timing)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, slug, provider, list_path, content_hash, time.time() if created is None else created, eligible, timing),
            )
        return self.refresh(key)

    def timing(self, send: SendRow) -> str | None:
        """When the send's messages go, as :meth:`create` kept it (None: begun before the
        journal kept it)."""
        row = self.db.execute("SELECT timing FROM sends WHERE id = ?", (send.id,)).fetchone()
        return row[0] if row is not None and isinstance(row[0], str) else None

    def add_pending(self, send: SendRow, rows: list[RowTuple], as_json: bytes | None = None, *, tracked: bool = False) -> None:
        """Write new rows (see :class:`Row`) as ``pending`` (``tracked``: readers who agreed
        to tracking, every one of them), in the open transaction: they
        are committed with the next change (:meth:`begin_batch` makes them the next
        batch). Pending rows are never in a request, so a stop before that commit, or
        after it, loses or risks nobody: written during one request, they keep the
        writing out of the pause between its answer and the next request.

        The rows go to SQLite as one JSON array (``as_json``, when the caller has it),
        unpacked by SQLite's own JSON functions: faster than binding each row's values
        from Python (``bench/``; figures in docs/performance.md).
        """
        data = as_json if as_json is not None else orjson.dumps(rows)
        with self._tx(defer=True):
            try:
                if b"\\u0000" in data:  # SQLite's JSON strings end at a NUL: bind these rows one by one
                    self.db.executemany(
                        "INSERT INTO recipients (send_id, seq, email, first_name, last_name, vals, state, tracked)"
                        f" VALUES ({send.id}, ?, ?, ?, ?, ?, 'pending', {int(tracked)})",
                        rows,
                    )
                else:
                    self.db.execute(
                        "INSERT INTO recipients (send_id, seq, email, first_name, last_name, vals, state, tracked)"
                        f" SELECT {send.id}, json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
                        " json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'),"
                        f" 'pending', {int(tracked)} FROM json_each(?)",
                        (data,),
                    )
            except sqlite3.IntegrityError as exc:
                raise NewsletterError(f"the send journal already has these recipients: {exc}") from None

    def accepted_elsewhere(self, send: SendRow, emails: Iterable[str], reason: str) -> int:
        """Mark ``pending`` rows whose address (any case) is in ``emails`` as ``accepted``: a
        send begun on another clone that SendGrid's Email Logs show them in."""
        with self._tx():
            self.db.execute("DROP TABLE IF EXISTS temp.elsewhere")
            self.db.execute("CREATE TEMP TABLE elsewhere (email TEXT PRIMARY KEY COLLATE NOCASE) WITHOUT ROWID")
            self.db.executemany("INSERT OR IGNORE INTO temp.elsewhere VALUES (?)", ((e,) for e in emails))
            n = self.db.execute(
                "UPDATE recipients SET state = 'accepted', reason = ? WHERE send_id = ? AND state = 'pending'"
                " AND email IN (SELECT email FROM temp.elsewhere)",
                (reason, send.id),
            ).rowcount
            self.db.execute("DROP TABLE temp.elsewhere")
        return int(n)

    def delete_send(self, send: SendRow) -> None:
        """Remove a send and its rows (one made here that could not go on)."""
        with self._tx():
            self.db.execute("DELETE FROM recipients WHERE send_id = ?", (send.id,))
            self.db.execute("DELETE FROM sends WHERE id = ?", (send.id,))

    def set_loaded(self, send: SendRow) -> SendRow:
        """Every eligible address has its row: the send's audience is now fixed."""
        with self._tx():
            self.db.execute(
                "UPDATE sends SET loaded = 1, eligible = (SELECT count(*) FROM recipients WHERE send_id = ?) WHERE id = ?",
                (send.id, send.id),
            )
        return self.refresh(send.key)

    def set_content(self, send: SendRow, content_hash: str, list_path: str) -> None:
        with self._tx():
            self.db.execute(
                "UPDATE sends SET content_hash = ?, list_path = ? WHERE id = ?",
                (content_hash, list_path, send.id),
            )

    def set_finished(self, send: SendRow, finished: bool) -> None:
        with self._tx():
            self.db.execute(
                "UPDATE sends SET finished = ? WHERE id = ?",
                (time.time() if finished else None, send.id),
            )

    # -- recovery and resolution -----------------------------------------------------

    def settle(self, send: SendRow, result: BatchResult) -> None:
        """Record what became of ``in_flight`` rows (see :func:`~newsletter.delivery.outcomes.settle`):
        accepted, failed, unknown, or ``pending`` again for those certainly not sent."""
        with self._tx():
            self._record(send, result)

    def _record(self, send: SendRow, result: BatchResult) -> None:
        sql = "UPDATE recipients SET state = ?, reason = ? WHERE send_id = ? AND seq = ? AND state = 'in_flight'"
        self.db.executemany(
            "UPDATE recipients SET state = 'accepted' WHERE send_id = ? AND seq = ? AND state = 'in_flight'",
            ((send.id, seq) for seq in result.accepted),
        )
        for state, reasons in (("failed", result.failed), ("unknown", result.unknown), ("pending", result.retry)):
            self.db.executemany(sql, ((state, r, send.id, seq) for seq, r in reasons.items()))

    def settle_unknown_batch(self, send: SendRow, batch: int, state: str, reason: str) -> int:
        """Settle the ``unknown`` rows of one try (from SendGrid's Email Logs): ``accepted``,
        or ``pending`` to be sent again, or ``unknown`` with a new reason."""
        assert state in ("accepted", "pending", "unknown")
        with self._tx():
            cur = self.db.execute(
                "UPDATE recipients SET state = ?, reason = ? WHERE send_id = ? AND batch = ? AND state = 'unknown'",
                (state, reason or None, send.id, batch),
            )
        return int(cur.rowcount)

    def resolve_unknown(self, send: SendRow, *, resend: bool) -> int:
        """The editor's decision about ``unknown`` rows: send again, or count as sent."""
        with self._tx():
            if resend:
                cur = self.db.execute(
                    "UPDATE recipients SET state = 'pending', reason = 'resent by the editor (was unknown)'"
                    " WHERE send_id = ? AND state = 'unknown'",
                    (send.id,),
                )
            else:
                cur = self.db.execute(
                    "UPDATE recipients SET state = 'marked_sent',"
                    " reason = 'marked sent by the editor (was unknown: ' || coalesce(reason, '') || ')'"
                    " WHERE send_id = ? AND state = 'unknown'",
                    (send.id,),
                )
        return cur.rowcount

    def reconcile(self, send: SendRow, current: Iterable[str]) -> tuple[int, int, int]:
        """Compare the send's audience with the list as it is now.

        Pending addresses no longer eligible become ``suppressed``; suppressed ones
        eligible again return to ``pending``. Returns (suppressed, restored, new),
        ``new`` counting eligible addresses that joined after the send began (they
        are not added: a send's audience is fixed when it starts).
        """
        with self._tx():
            self.db.execute("DROP TABLE IF EXISTS temp.current")
            self.db.execute("CREATE TEMP TABLE current (email TEXT PRIMARY KEY COLLATE NOCASE) WITHOUT ROWID")
            self.db.executemany("INSERT OR IGNORE INTO temp.current VALUES (?)", ((e,) for e in current))
            suppressed = self.db.execute(
                "UPDATE recipients SET state = 'suppressed',"
                " reason = 'no longer eligible (unsubscribed, bounced or removed from the list)'"
                " WHERE send_id = ? AND state = 'pending'"
                " AND email NOT IN (SELECT email FROM temp.current)",
                (send.id,),
            ).rowcount
            restored = self.db.execute(
                "UPDATE recipients SET state = 'pending', reason = NULL"
                " WHERE send_id = ? AND state = 'suppressed'"
                " AND email IN (SELECT email FROM temp.current)",
                (send.id,),
            ).rowcount
            new = self.db.execute(
                "SELECT count(*) FROM temp.current WHERE email NOT IN (SELECT email FROM recipients WHERE send_id = ?)",
                (send.id,),
            ).fetchone()[0]
            self.db.execute("DROP TABLE temp.current")
        return suppressed, restored, new

    # -- the send loop ---------------------------------------------------------------

    def begin_batch(self, send: SendRow, first: int, last: int, count: int) -> int:
        """Mark ``pending`` rows first..last ``in_flight`` (durably); returns the batch number."""
        if self.before_request is not None:
            self.before_request()
        with self._tx():
            batch = self.db.execute(
                "UPDATE sends SET batches = batches + 1 WHERE id = ? RETURNING batches", (send.id,)
            ).fetchone()[0]
            changed = self.db.execute(
                "UPDATE recipients SET state = 'in_flight', batch = ?, reason = NULL"
                " WHERE send_id = ? AND seq BETWEEN ? AND ? AND state = 'pending'",
                (batch, send.id, first, last),
            ).rowcount
            if changed != count:
                raise NewsletterError("the send journal changed under this send; run the command again")
        return int(batch)

    def finish_batch(
        self, send: SendRow, first: int, last: int, count: int, result: BatchResult, *, with_next: bool = False
    ) -> None:
        """Record what became of a batch (durably); rows not mentioned go back to ``pending``.

        ``with_next``: committed with the next change (the next batch's start), see :meth:`_tx`.
        """
        with self._tx(defer=with_next):
            if len(result.accepted) == count:
                self.db.execute(
                    "UPDATE recipients SET state = 'accepted' WHERE send_id = ? AND seq BETWEEN ? AND ? AND state = 'in_flight'",
                    (send.id, first, last),
                )
                return
            self._record(send, result)
            self.db.execute(
                "UPDATE recipients SET state = 'pending' WHERE send_id = ? AND seq BETWEEN ? AND ? AND state = 'in_flight'",
                (send.id, first, last),
            )

    def refuse(self, send: SendRow, reasons: dict[int, str]) -> None:
        """Mark ``pending`` rows ``failed`` before they are ever in a request (an address
        the provider cannot deliver to), in the open transaction."""
        with self._tx(defer=True):
            self.db.executemany(
                "UPDATE recipients SET state = 'failed', reason = ? WHERE send_id = ? AND seq = ? AND state = 'pending'",
                ((why, send.id, seq) for seq, why in reasons.items()),
            )

    def whole_batch(self, send: SendRow, first: int, last: int, state: str, reason: str) -> None:
        """Set every ``in_flight`` row of a batch to ``state`` with ``reason`` (durably)."""
        with self._tx():
            self.db.execute(
                "UPDATE recipients SET state = ?, reason = ? WHERE send_id = ? AND seq BETWEEN ? AND ? AND state = 'in_flight'",
                (state, reason, send.id, first, last),
            )

    # -- a scheduled send recalled before its time (`newsletter cancel`) -----------------

    def cancel_send(self, send: SendRow, new_key: str, reason: str) -> int:
        """Record the send's recipients as ``cancelled`` (all but those that failed or were
        suppressed) and file the send under ``new_key``, so the issue can be sent again."""
        with self._tx():
            n = self.db.execute(
                "UPDATE recipients SET state = 'cancelled', reason = ? WHERE send_id = ?"
                " AND state IN ('accepted', 'marked_sent', 'pending', 'in_flight', 'unknown')",
                (reason, send.id),
            ).rowcount
            self.db.execute("UPDATE sends SET key = ?, finished = ? WHERE id = ?", (new_key, time.time(), send.id))
        return int(n)

    # -- one person: forgetting what a send holds of them ------------------------------

    def forget(self, email: str, stand_in: str, scrub: Callable[[str], str]) -> int:
        """Make every row of this address anonymous: the address becomes ``stand_in``,
        names and merge values go, ``scrub`` takes the address out of the reason, and a
        row not yet sent (pending, in flight, unknown) becomes ``suppressed``, so that no
        send ever reaches it. The old bytes are overwritten (``secure_delete``) and the
        write-ahead log emptied, so no copy of them stays in the files. Returns how many
        rows changed."""
        self.db.execute("PRAGMA secure_delete = ON")
        with self._tx():
            rows = self.db.execute(
                "SELECT send_id, seq, state, reason FROM recipients WHERE email = ? COLLATE NOCASE OR email = ?",
                (email, email),
            ).fetchall()
            changes = []
            for send_id, seq, state, reason in rows:
                if state in ("pending", "in_flight", "unknown"):
                    state, reason = "suppressed", "forgotten on request"
                elif reason:
                    reason = scrub(reason)
                changes.append((stand_in, state, reason, send_id, seq))
            self.db.executemany(
                "UPDATE recipients SET email = ?, first_name = '', last_name = '', vals = NULL, state = ?, reason = ?"
                " WHERE send_id = ? AND seq = ?",
                changes,
            )
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(changes)


class _Transaction:
    def __init__(self, journal: Journal, defer: bool) -> None:
        self.journal = journal
        self.defer = defer

    def __enter__(self) -> None:
        if not self.journal._deferred:
            self.journal.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        journal = self.journal
        if t is None and self.defer:
            journal._deferred = True
            return
        journal._deferred = False
        journal.db.execute("COMMIT" if t is None else "ROLLBACK")
