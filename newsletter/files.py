"""The one way this project writes a file: whole or not at all, with its mode.

Each file is written to a hidden temporary file beside its target
(``.<name>.<pid>.<random>.tmp``), synced to disk, then renamed over the target (or,
for :func:`create_file`, linked into place only if no file is there yet). A reader, a
crash or a full disk never leaves half a file under its final name, and a failure
leaves no temporary file behind (one left by a writer that was killed is removed by
the next writer of that file).

Modes: a file that holds personal data (names, addresses, unsubscribe tokens: the
subscriber list, the outbox and dry-run messages, reports, fix lists, caches, the
journal, the secret) is written ``0600``, readable by its owner only, whatever the
umask. Everything else (build output, the web edition, a new issue) is written with
the user's umask, like any other file. A file that replaces another keeps that one's
mode.

:func:`write_files` writes several files all or none; :class:`AtomicFile` streams one
(the subscriber list, row by row); :func:`write_if_changed` leaves identical files
alone (the web edition); :class:`Appender` grows a log a line at a time (a send's
outcome log, which must survive a crash line by line, not be replaced whole).

One deliberate exception to the sync: ``write_if_changed(..., durable=False)`` still
writes whole-or-nothing but leaves the sync to the caller, for output made again from
other files: the web edition's pages and calendar files (``publish`` syncs them all at
once at the end: one sync per file made publishing many issues much slower) and
its cache (a torn entry is a miss). Personal data, the journal, the email and
``published.json`` are always synced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from newsletter.errors import NewsletterError, display_path

PERSONAL = 0o600


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def mode_for(personal: bool) -> int:
    """``0600`` for personal data, else what the user's umask gives a new file."""
    return PERSONAL if personal else 0o666 & ~_umask()


def _target_mode(path: Path, personal: bool) -> int:
    """The mode a write to ``path`` ends with: the replaced file's, else :func:`mode_for`."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return mode_for(personal)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")  # secrets.token_hex, unimported


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


def _temporary(path: Path, data: bytes, mode: int | None, *, durable: bool = True) -> Path:
    """``data`` written whole (and synced) in a hidden file beside ``path``, with ``mode``
    (None: what the user's umask gives a new file, as the kernel applies it when creating
    the file; readable by others, as the file will be, and without two calls to ask the
    umask and one to change the mode, for each of the web edition's hundreds of files)."""
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PERSONAL if mode is not None else 0o666)
    try:
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked (a nearly full disk)
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(errno.ENOSPC, "No space left on device")
                view = view[written:]
            if mode is not None and mode != PERSONAL:
                os.fchmod(fd, mode)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def write_files(files: Mapping[Path, bytes | str], *, personal: bool = False) -> None:
    """Write several files so that readers see all the old or all the new contents:
    every file is written whole beside its target first, and only then are they put
    in place (a rename, which needs no space). A failure leaves nothing behind, not
    even a folder this call made."""
    made: list[Path] = []
    for folder in sorted({p.parent for p in files}):
        missing = [d for d in (folder, *folder.parents) if not d.exists()]
        folder.mkdir(parents=True, exist_ok=True, mode=0o700 if personal else 0o777)
        made.extend(missing)
    written: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            written[path] = _temporary(path, _bytes(data), _target_mode(path, personal))
        for path, tmp in written.items():
            os.replace(tmp, path)
    except BaseException:
        for tmp in written.values():
            tmp.unlink(missing_ok=True)
        for folder in sorted(made, key=lambda d: len(d.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def write_file(path: Path, data: bytes | str, *, personal: bool = False) -> None:
    """Write one file so that readers see the old or the new content, never half of it."""
    write_files({path: data}, personal=personal)


def create_file(path: Path, data: bytes | str, *, personal: bool = False) -> bool:
    """Write a new file whole, never over an existing one: False (and nothing written)
    when ``path`` already exists."""
    if path.exists():
        return False
    tmp = _temporary(path, _bytes(data), mode_for(personal))
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Write ``data`` unless ``path`` already holds exactly these bytes (then the file, and
    its modification time, are left alone); whether it was written. ``durable=False``
    leaves out the sync, for many files made again from others (the caller syncs once
    at the end). Errors are :class:`NewsletterError` naming the file."""
    try:
        try:
            same = path.stat().st_size == len(data) and path.read_bytes() == data
        except FileNotFoundError:  # a new file (its own errors are met by the handler below)
            write_file(path, data) if durable else _replace_new(path, data)
            return True
        if same:
            return False
        tmp = _temporary(path, data, _target_mode(path, False), durable=durable)
        try:
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _error(path, exc) from None
    return True


def _replace_new(path: Path, data: bytes) -> None:
    tmp = _temporary(path, data, None, durable=False)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _error(path: Path, exc: OSError) -> NewsletterError:
    what = "disk full" if exc.errno == errno.ENOSPC else f"cannot write: {exc.strerror}"
    return NewsletterError(f"{display_path(path)}: {what}; the file was not changed")


class AtomicFile:
    """``with AtomicFile(path) as fh: fh.write(...); commit()``: the content streams to a
    temporary file beside ``path``; on :meth:`commit` it is synced and renamed over
    ``path`` (keeping the old file's mode; a new file is ``0600`` when ``personal``).
    Without a commit, or on any error (a full disk included, even in the last flush),
    ``path`` is untouched and no temporary file is left. Errors are
    :class:`NewsletterError` naming the file."""

    def __init__(self, path: Path, *, encoding: str = "utf-8", newline: str | None = "", personal: bool = True) -> None:
        self.path = Path(os.path.realpath(path))
        self._encoding = encoding
        self._newline = newline
        self._personal = personal
        self._tmp = _tmp_name(self.path)
        self._commit = False

    def __enter__(self) -> IO[Any]:
        try:
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PERSONAL)
            self._fh: IO[Any] = os.fdopen(fd, "w", encoding=self._encoding, newline=self._newline)
        except OSError as exc:
            raise self.error(exc) from None
        return self._fh

    def commit(self) -> None:
        self._commit = True

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None and self._commit:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                mode = _target_mode(self.path, self._personal)
                if mode != PERSONAL:
                    os.chmod(self._tmp, mode)
                os.replace(self._tmp, self.path)
                fsync_dir(self.path.parent)
        except OSError as error:
            raise self.error(error) from None
        finally:
            try:
                self._fh.close()  # flushes what is buffered: may fail on a full disk too
            except OSError as error:
                if exc_type is None:
                    raise self.error(error) from None
            finally:
                self._tmp.unlink(missing_ok=True)

    def error(self, exc: OSError) -> NewsletterError:
        return _error(self.path, exc)


class Appender:
    """A log that only grows (a send's outcome log): each :meth:`append` is one
    ``write`` to a file opened for appending (``0600``: it names recipients), so lines
    from several threads never interleave. A write the disk cannot take whole raises
    ``OSError`` (ENOSPC) rather than leave half a line as the log's last word; the
    caller decides when a line must also be synced (:meth:`sync`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PERSONAL)

    def append(self, data: bytes) -> None:
        if os.write(self._fd, data) != len(data):
            raise OSError(errno.ENOSPC, f"{display_path(self.path)} could not be written whole")

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def lock_file(path: Path) -> int:
    """A descriptor of the lock file ``path`` (made empty, owner only, when missing), for
    ``fcntl.flock``: nothing is ever written to it."""
    return os.open(path, os.O_RDWR | os.O_CREAT, PERSONAL)


def personal_file(path: Path) -> None:
    """Make sure ``path`` exists and is readable by its owner only (a database that
    another library will open and write, such as the send journal)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PERSONAL)
    try:
        os.fchmod(fd, PERSONAL)
    finally:
        os.close(fd)


def read_json(path: Path, limit: int, problem: Callable[[str], Exception]) -> dict[str, Any]:
    """A small JSON file the project keeps (a send record, an approval): at most ``limit``
    bytes read, UTF-8, an object. What is wrong with it goes to ``problem`` (what, in words),
    whose exception is raised; a file that cannot be read is a :class:`NewsletterError`."""
    import json

    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise NewsletterError(f"{display_path(path)}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise problem(f"larger than {limit // (1 << 20)} MB" if limit >= 1 << 20 else f"larger than {limit} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise problem(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise problem("not a JSON object")
    return data
