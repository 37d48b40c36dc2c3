"""Reading the send journal: the one read-only API over ``.newsletter/journal.sqlite3``.

Every question asked of the journal is answered here, with typed results: which sends
there are (:class:`SendRow`), how many recipients are in each state (:meth:`JournalReader.counts`,
:class:`SendFigures`), whether a send is finished (:func:`is_finished`, the one
definition), and the rows of one send or one person. :class:`~newsletter.delivery.journal.Journal`
(the writer, used by ``send``) is a :class:`JournalReader` too; ``status``, ``report``,
``check``'s history rules, the preview and the send records open the journal read-only
through :func:`open_existing`, :func:`local_sends` and :func:`local_figures`, which never
create it, never change it, and load SQLite only when a journal exists (importing this
module does not). With no write-ahead log beside the file nobody is writing: it is read
as immutable (no ``-wal``/``-shm`` files appear); while a send runs it is read through
the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from newsletter.delivery.state import STATE_DIR
from newsletter.errors import NewsletterError, display_path

T = TypeVar("T")

if TYPE_CHECKING:
    import sqlite3

JOURNAL_FILE = "journal.sqlite3"
STATES = ("pending", "in_flight", "accepted", "failed", "unknown", "marked_sent", "suppressed", "cancelled")
DONE_STATES = ("accepted", "marked_sent", "failed", "suppressed")
"""States a send is finished with: ``marked_sent`` is an ``unknown`` row the editor chose to
count as sent (kept apart, so that ``status`` and ``report`` still show who it is).
``cancelled``: in a scheduled send recalled with ``newsletter cancel``."""

SEND_COLUMNS = "SELECT id, key, slug, provider, list_path, content_hash, created, eligible, batches, loaded, finished FROM sends"


@dataclass(frozen=True, slots=True)
class SendRow:
    id: int
    key: str
    slug: str
    provider: str
    list_path: str
    content_hash: str
    created: float
    eligible: int
    batches: int
    loaded: int
    finished: float | None
    """When the send loop found it finished (:func:`is_finished`); None while it is not."""


class Row(NamedTuple):
    """One recipient of a send as the journal keeps it (new rows are plain tuples of these)."""

    seq: int
    email: str
    first_name: str
    last_name: str
    vals: str | None
    """The merge values as JSON, or None when the message uses only the names."""


def done(counts: Mapping[str, int]) -> int:
    """How many recipients the send is finished with (see :data:`DONE_STATES`)."""
    return sum(counts.get(state, 0) for state in DONE_STATES)


def is_finished(send: SendRow, counts: Mapping[str, int]) -> bool:
    """Whether a send is finished: its whole audience is written down (``loaded``) and
    every eligible recipient is in a state the send is done with."""
    return bool(send.loaded) and done(counts) == send.eligible


@dataclass(frozen=True, slots=True)
class SendFigures:
    """One send with how many of its recipients are in each state."""

    send: SendRow
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return done(self.counts)

    @property
    def finished(self) -> bool:
        return is_finished(self.send, self.counts)


class JournalReader:
    """Questions asked of an open journal database; none of them changes it."""

    db: sqlite3.Connection

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    # -- sends -----------------------------------------------------------------------

    def find(self, key: str) -> SendRow | None:
        row = self.db.execute(SEND_COLUMNS + " WHERE key = ?", (key,)).fetchone()
        return SendRow(*row) if row else None

    def refresh(self, key: str) -> SendRow:
        found = self.find(key)
        assert found is not None
        return found

    def sends(self) -> list[SendRow]:
        """Every send, oldest first."""
        return [SendRow(*r) for r in self.db.execute(SEND_COLUMNS + " ORDER BY created, id")]

    def sends_for(self, slug: str) -> list[SendRow]:
        rows = self.db.execute(SEND_COLUMNS + " WHERE slug = ? ORDER BY created", (slug,)).fetchall()
        return [SendRow(*r) for r in rows]

    def counts(self, send: SendRow) -> dict[str, int]:
        found = dict(self.db.execute("SELECT state, count(*) FROM recipients WHERE send_id = ? GROUP BY state", (send.id,)))
        return {state: int(found.get(state, 0)) for state in STATES}

    def figures(self) -> list[SendFigures]:
        """Every send with its counts, oldest first, in one query."""
        sends = {row.id: row for row in self.sends()}
        counts = {send_id: dict.fromkeys(STATES, 0) for send_id in sends}
        for send_id, state, n in self.db.execute("SELECT send_id, state, count(*) FROM recipients GROUP BY send_id, state"):
            if send_id in counts:
                counts[send_id][str(state)] = int(n)
        return [SendFigures(row, counts[send_id]) for send_id, row in sends.items()]

    # -- the rows of one send ----------------------------------------------------------

    def present(self, send: SendRow) -> set[str]:
        """Lower-cased addresses that already have a row (to continue loading after a stop)."""
        return {e.lower() for (e,) in self.db.execute("SELECT email FROM recipients WHERE send_id = ?", (send.id,))}

    def next_seq(self, send: SendRow) -> int:
        row = self.db.execute("SELECT max(seq) FROM recipients WHERE send_id = ?", (send.id,)).fetchone()
        return int(row[0] or 0) + 1

    def next_run(self, send: SendRow, after_seq: int, size: int) -> tuple[list[Row], bool]:
        """The next ``pending`` rows after ``after_seq`` (at most ``size``), up to the first
        whose tracking differs from the first's: the rows of one request, and whether they
        agreed to tracking."""
        rows = self.db.execute(
            "SELECT seq, email, first_name, last_name, vals, tracked FROM recipients"
            " WHERE send_id = ? AND seq > ? AND state = 'pending' ORDER BY seq LIMIT ?",
            (send.id, after_seq, size),
        ).fetchall()
        if not rows:
            return [], False
        tracked = rows[0][5]
        run = []
        for row in rows:
            if row[5] != tracked:
                break
            run.append(Row._make(row[:5]))
        return run, bool(tracked)

    def in_flight(self, send: SendRow) -> dict[int, list[int]]:
        """The rows a stopped send left ``in_flight``: batch number → seqs."""
        found: dict[int, list[int]] = {}
        for batch, seq in self.db.execute(
            "SELECT batch, seq FROM recipients WHERE send_id = ? AND state = 'in_flight' ORDER BY seq", (send.id,)
        ):
            found.setdefault(int(batch or 0), []).append(int(seq))
        return found

    def unknown(self, send: SendRow) -> list[tuple[str, int, str]]:
        """(email, batch, reason) of every ``unknown`` recipient."""
        return self.db.execute(
            "SELECT email, batch, coalesce(reason, '') FROM recipients WHERE send_id = ? AND state = 'unknown' ORDER BY seq",
            (send.id,),
        ).fetchall()

    def delivered(self, send: SendRow) -> Iterator[str]:
        """The address of everyone the send reached: accepted, or marked sent by the editor."""
        for (email,) in self.db.execute(
            "SELECT email FROM recipients WHERE send_id = ? AND state IN ('accepted', 'marked_sent') ORDER BY seq",
            (send.id,),
        ):
            yield str(email)

    def not_accepted(self, send: SendRow) -> Iterator[tuple[str, str, str]]:
        """(email, state, reason) of everyone not accepted, in list order."""
        yield from self.db.execute(
            "SELECT email, state, coalesce(reason, '') FROM recipients WHERE send_id = ? AND state != 'accepted' ORDER BY seq",
            (send.id,),
        )

    # -- one person --------------------------------------------------------------------

    def person(self, email: str) -> list[tuple[SendRow, str, str]]:
        """(send, state, reason) of every send this address is in (case ignored), oldest first.
        A full scan of the recipients (the journal has no index on addresses)."""
        rows = self.db.execute(
            "SELECT send_id, state, coalesce(reason, '') FROM recipients WHERE email = ? COLLATE NOCASE OR email = ?",
            (email, email),
        ).fetchall()
        sends = {row.id: row for row in self.sends()}
        found = [(sends[send_id], state, reason) for send_id, state, reason in rows if send_id in sends]
        return sorted(found, key=lambda f: f[0].created)


def journal_path(root: Path) -> Path:
    return root / STATE_DIR / JOURNAL_FILE


def _read_only(path: Path) -> sqlite3.Connection:
    import sqlite3

    live = path.with_name(path.name + "-wal").exists()
    mode = "mode=ro" if live else "mode=ro&immutable=1"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=5)


class JournalView(JournalReader):
    """This clone's journal opened read-only (``status``, ``report``, what is held about a
    person, a correction's readers): ``with open_existing(root) as journal: ...``."""

    written: bool
    """False for a file SQLite has not written yet (a send stopped as it began)."""

    def __init__(self, path: Path) -> None:
        import sqlite3

        from newsletter.delivery.journal_schema import check_format

        try:
            super().__init__(_read_only(path))
        except sqlite3.DatabaseError as exc:
            raise NewsletterError(f"{display_path(path)}: cannot read the send journal: {exc}") from None
        try:
            check_format(self.db, path, upgrade=False)
            self.written = (
                self.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sends'").fetchone()[0] == 1
            )
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise NewsletterError(f"{display_path(path)}: cannot read the send journal: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> JournalView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_existing(root: Path) -> JournalView | None:
    """The journal opened read-only, or None if none was ever written (never creates one)."""
    path = journal_path(root)
    if not path.is_file():
        return None
    view = JournalView(path)
    if not view.written:
        view.close()
        return None
    return view


def local_sends(root: Path) -> list[SendRow]:
    """Every send in this clone's journal, oldest first (the sends table only: no scan of
    the recipients); [] with no journal or one that cannot be read."""
    return _asked(root, JournalReader.sends)


def local_figures(root: Path) -> list[SendFigures]:
    """Every send in this clone's journal with its counts, oldest first; [] with no
    journal or one that cannot be read."""
    return _asked(root, JournalReader.figures)


def _asked(root: Path, question: Callable[[JournalReader], list[T]]) -> list[T]:
    """``question`` asked of this clone's journal opened read-only; [] without one, or when
    it cannot be read."""
    path = journal_path(root)
    if not path.is_file():
        return []  # never sent: SQLite is not even loaded
    import sqlite3

    try:
        db = _read_only(path)
        try:
            return question(JournalReader(db))
        finally:
            db.close()
    except sqlite3.Error:
        return []
