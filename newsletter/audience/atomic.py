"""Atomic, locked, spreadsheet-safe writes of CSV files.

Written through :class:`newsletter.files.AtomicFile` (the one way to write a file):
a reader, or a crash, sees the old file or the new one, never half of it. Every cell
is neutralised for spreadsheets.
"""

from __future__ import annotations

import csv
import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from newsletter.audience.csvfile import _NEEDS_LOOK, Dialect, input_error, neutralize
from newsletter.files import AtomicFile, remove_stale_temporaries


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the list for a read-modify-write (other writers wait)."""
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise input_error(path, None, "no such file", "give the list with --list PATH") from None
        except OSError as exc:
            raise input_error(path, None, f"cannot open: {exc.strerror}") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # replaced while we waited: lock the new file
    try:
        remove_stale_temporaries(path)
        yield
    finally:
        os.close(fd)


class AtomicCsv:
    """Rows go to a temporary file beside ``path`` (:class:`newsletter.files.AtomicFile`); on
    :meth:`commit` it is flushed to disk and renamed over ``path``. Without a commit, or on
    any error, ``path`` is untouched. Every cell is neutralised for spreadsheets."""

    def __init__(self, path: Path, dialect: Dialect) -> None:
        self.dialect = dialect
        self.rows = 0
        self._file = AtomicFile(path, encoding="utf-8-sig" if dialect.bom else "utf-8", newline="")
        self.path = self._file.path

    def __enter__(self) -> AtomicCsv:
        fh = self._file.__enter__()
        self._writer = csv.writer(
            fh,
            delimiter=self.dialect.delimiter,
            lineterminator=self.dialect.lineterminator,
            quotechar='"',
            doublequote=True,
            quoting=csv.QUOTE_MINIMAL,
        )
        return self

    def writerow(self, cells: Iterable[str]) -> None:
        try:
            # most cells need no look at all: the function is called only for those that might
            self._writer.writerow([neutralize(c) if c[:1] in _NEEDS_LOOK else c for c in cells])
        except OSError as exc:
            raise self._file.error(exc) from None
        self.rows += 1

    def commit(self) -> None:
        self._file.commit()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._file.__exit__(exc_type, exc, tb)


def write_atomic(path: Path, header: list[str], rows: Iterable[list[str]], dialect: Dialect) -> int:
    """Write a whole CSV atomically (see :class:`AtomicCsv`); returns the number of data rows."""
    with AtomicCsv(path, dialect) as out:
        out.writerow(header)
        for row in rows:
            out.writerow(row)
        out.commit()
    return out.rows - 1


def write_report(path: Path, header: list[str], rows: Iterable[list[str]]) -> None:
    """A plain CSV report (comma, UTF-8, LF), written atomically and spreadsheet-safe."""
    write_atomic(path, header, rows, Dialect())
