"""Atomic, locked, spreadsheet-safe writes of CSV files.

Writing goes to a temporary file beside the target, which is flushed to disk and
renamed over it: a reader (or a crash, even SIGKILL) sees the old file or the new
one, never half of it. A writer killed mid-way leaves only its temporary file,
which the next writer removes. Every cell is neutralised for spreadsheets.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from newsletter.audience.csvfile import _NEEDS_LOOK, Dialect, input_error, neutralize
from newsletter.errors import NewsletterError, display_path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files left by a writer that was killed (its process is gone)."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp$")
    for sibling in path.parent.iterdir():
        m = pattern.match(sibling.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            sibling.unlink(missing_ok=True)


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
        _remove_stale_temporaries(path)
        yield
    finally:
        os.close(fd)


class AtomicCsv:
    """Rows go to a temporary file beside ``path``; on :meth:`commit` it is flushed to disk
    and renamed over ``path``. Without a commit, or on any error, ``path`` is untouched.
    Every cell is neutralised for spreadsheets."""

    def __init__(self, path: Path, dialect: Dialect) -> None:
        self.path = Path(os.path.realpath(path))
        self.dialect = dialect
        self.rows = 0
        self._tmp = self.path.parent / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        self._commit = False

    def __enter__(self) -> AtomicCsv:
        try:
            self._fh = open(self._tmp, "w", encoding="utf-8-sig" if self.dialect.bom else "utf-8", newline="")
        except OSError as exc:
            raise self._error(exc) from None
        self._writer = csv.writer(
            self._fh,
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
            raise self._error(exc) from None
        self.rows += 1

    def commit(self) -> None:
        self._commit = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None and self._commit:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                try:
                    os.chmod(self._tmp, os.stat(self.path).st_mode & 0o7777)
                except FileNotFoundError:
                    pass
                os.replace(self._tmp, self.path)
                _fsync_dir(self.path.parent)
        except OSError as error:
            raise self._error(error) from None
        finally:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)

    def _error(self, exc: OSError) -> NewsletterError:
        what = "disk full" if exc.errno == errno.ENOSPC else f"cannot write: {exc.strerror}"
        return NewsletterError(f"{display_path(self.path)}: {what}; the file was not changed")


def write_atomic(path: Path, header: list[str], rows: Iterable[list[str]], dialect: Dialect) -> int:
    """Write a whole CSV atomically (see :class:`AtomicCsv`); returns the number of data rows."""
    with AtomicCsv(path, dialect) as out:
        out.writerow(header)
        for row in rows:
            out.writerow(row)
        out.commit()
    return out.rows - 1


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_report(path: Path, header: list[str], rows: Iterable[list[str]]) -> None:
    """A plain CSV report (comma, UTF-8, LF), written atomically and spreadsheet-safe."""
    write_atomic(path, header, rows, Dialect())
