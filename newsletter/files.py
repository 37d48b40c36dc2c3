"""The one way this project writes a file: whole or not at all, with its mode.

Each file is written to a hidden temporary file beside its target, synced to disk,
then renamed over the target (or, for :func:`create_file`, linked into place only if
no file is there yet). A reader, a crash or a full disk never leaves half a file
under its final name, and a failure leaves no temporary file behind.

Modes: a file that holds personal data (names, addresses, unsubscribe tokens: the
outbox and dry-run messages, reports, fix lists, caches, the journal, the secret) is
written ``0600``, readable by its owner only, whatever the umask. Everything else
(build output, a new issue) is written with the user's umask, like any other file.

(The subscriber list itself is streamed row by row, under a lock, by
:mod:`newsletter.audience.atomic`, which follows the same rules.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

PERSONAL = 0o600


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def mode_for(personal: bool) -> int:
    """``0600`` for personal data, else what the user's umask gives a new file."""
    return PERSONAL if personal else 0o666 & ~_umask()


def _temporary(path: Path, data: bytes, mode: int) -> Path:
    """``data`` written whole and synced in a hidden file beside ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PERSONAL)
    try:
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked (a nearly full disk)
                written = os.write(fd, view)
                if written <= 0:
                    raise OSError(28, "No space left on device")
                view = view[written:]
            if mode != PERSONAL:
                os.fchmod(fd, mode)
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
    mode = mode_for(personal)
    made: list[Path] = []
    for folder in sorted({p.parent for p in files}):
        missing = [d for d in (folder, *folder.parents) if not d.exists()]
        folder.mkdir(parents=True, exist_ok=True, mode=0o700 if personal else 0o777)
        made.extend(missing)
    written: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            written[path] = _temporary(path, _bytes(data), mode)
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


def personal_file(path: Path) -> None:
    """Make sure ``path`` exists and is readable by its owner only (a database that
    another library will open and write, such as the send journal)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PERSONAL)
    try:
        os.fchmod(fd, PERSONAL)
    finally:
        os.close(fd)
