"""The one way to write a file: atomically, keeping its mode.

Writing goes to a temporary file beside the target, which is flushed to disk and
renamed over it: a reader (or a crash, even SIGKILL) sees the old file or the new
one, never half of it. A writer killed mid-way leaves only its temporary file
(``.<name>.<pid>.<random>.tmp``), which the next writer of that file removes.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from pathlib import Path
from typing import IO, Any

from newsletter.errors import NewsletterError, display_path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Temporary files of ``path`` left by a writer that was killed (its process is gone)."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp$")
    for sibling in path.parent.iterdir():
        m = pattern.match(sibling.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            sibling.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicFile:
    """``with AtomicFile(path) as fh: fh.write(...); commit()``: the content goes to a temporary
    file beside ``path``; on :meth:`commit` it is flushed to disk and renamed over ``path``
    (keeping the old file's mode). Without a commit, or on any error, ``path`` is untouched.

    ``binary`` opens the temporary file for bytes; otherwise for text in ``encoding``
    with ``newline`` as :func:`open` takes it. ``durable=False`` leaves out the two
    fsyncs (file and folder): still all-or-nothing for readers, but a power cut may lose
    the change; for files that are made again from others, written many at a time (the
    caller syncs once at the end). Errors are :class:`NewsletterError` naming the file.
    """

    def __init__(self, path: Path, *, binary: bool = False, encoding: str = "utf-8", newline: str | None = "",
                 durable: bool = True) -> None:
        self.path = Path(os.path.realpath(path))
        self._durable = durable
        self._binary = binary
        self._encoding = encoding
        self._newline = newline
        self._tmp = self.path.parent / f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        self._commit = False

    def __enter__(self) -> IO[Any]:
        try:
            if self._binary:
                self._fh: IO[Any] = open(self._tmp, "wb")
            else:
                self._fh = open(self._tmp, "w", encoding=self._encoding, newline=self._newline)
        except OSError as exc:
            raise self.error(exc) from None
        return self._fh

    def commit(self) -> None:
        self._commit = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None and self._commit:
                self._fh.flush()
                if self._durable:
                    os.fsync(self._fh.fileno())
                self._fh.close()
                try:
                    os.chmod(self._tmp, os.stat(self.path).st_mode & 0o7777)
                except FileNotFoundError:
                    pass
                os.replace(self._tmp, self.path)
                if self._durable:
                    fsync_dir(self.path.parent)
        except OSError as error:
            raise self.error(error) from None
        finally:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)

    def error(self, exc: OSError) -> NewsletterError:
        what = "disk full" if exc.errno == errno.ENOSPC else f"cannot write: {exc.strerror}"
        return NewsletterError(f"{display_path(self.path)}: {what}; the file was not changed")


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see :class:`AtomicFile`)."""
    out = AtomicFile(path, binary=True, durable=durable)
    with out as fh:
        fh.write(data)
        out.commit()


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically, line ends as they are."""
    write_bytes(path, text.encode("utf-8"))


def write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Write ``data`` atomically unless ``path`` already holds exactly these bytes (then the
    file, and its modification time, are left alone). Whether it was written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise AtomicFile(path).error(exc) from None
    write_bytes(path, data, durable=durable)
    return True
