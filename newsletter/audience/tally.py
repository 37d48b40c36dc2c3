"""Tally a whole list, and reuse the figures while the list is unchanged.

One pass classifies every row (:mod:`newsletter.audience.scan`); with the fast
path it takes a few seconds for a million rows. The figures, and which lines are
eligible, are then kept in ``.newsletter/cache/`` beside the list, keyed on the
list's size, modification time and SHA-256 of its bytes, the audience, whether
evidence of consent is required (and then the day: a date of consent in the future
becomes a valid one), and the code and library versions that produced them; a
changed byte or setting means a fresh tally. Results with DNS checks are never kept.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsletter.audience import halves
from newsletter.audience.csvfile import open_list
from newsletter.audience.scan import Candidate, Scanner, Tally
from newsletter.errors import Problem
from newsletter.files import write_file
from newsletter.nogc import no_cycle_collection

if TYPE_CHECKING:
    from newsletter.audience.select import Figures
    from newsletter.issue.model import Audience

CACHE_DIR = Path(".newsletter") / "cache"


def tally(list_path: Path, *, check_dns: bool = False, evidence: bool = False) -> tuple[Tally, list[Problem]]:
    """Classify every row of the list (with ``evidence``: the subscribed rows without
    evidence of consent found too); the header's warnings alongside. A big list is read
    on two cores (:mod:`newsletter.audience.halves`), unless DNS is asked too."""
    if not check_dns and (found := halves.tally(list_path, evidence=evidence)) is not None:
        return found
    with open_list(list_path) as reader, no_cycle_collection():
        scanner = Scanner(reader.shown, reader.header, reader.dialect.delimiter, check_dns=check_dns, evidence=evidence)
        result = scanner.scan(reader)
        return result, reader.header.warnings


# ---------------------------------------------------------------- reuse


@dataclass(frozen=True, slots=True)
class Identity:
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Identity:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@functools.cache
def _code_version() -> str:
    import email_validator
    import idna

    digest = hashlib.sha256(f"{email_validator.__version__} {idna.__version__}".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_file(list_path: Path, audience: Audience | None, evidence: bool) -> Path:
    which = json.dumps(
        [str(list_path.resolve()), sorted(audience.tags) if audience else [], sorted(audience.exclude_tags) if audience else []]
        # the settings that change who is eligible are part of the name: switching one never finds stale figures
        + ([f"evidence {dt.date.today().isoformat()}"] if evidence else [])
    )
    name = f"{list_path.name}.{hashlib.sha256(which.encode()).hexdigest()[:16]}.json"
    return list_path.resolve().parent / CACHE_DIR / name


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Which bytes were tallied: taken before reading, checked again before a second read."""

    identity: Identity
    sha256: str
    code: str

    def as_dict(self) -> dict[str, Any]:
        i = self.identity
        return {"size": i.size, "mtime_ns": i.mtime_ns, "sha256": self.sha256, "code": self.code}


_HASHED: dict[Path, tuple[Identity, str]] = {}
"""Content hashes taken in this process, by the list's identity (see :func:`fingerprint`)."""
SETTLED_NS = 2_000_000_000
"""How much older than the hash a file's modification time must be for the hash to be reused."""


def fingerprint(list_path: Path) -> Fingerprint:
    """Which bytes the list holds now. A send asks several times (its checks, then the
    send); hashing a big list each time adds up, so a hash taken in
    this process is reused while the file's size, modification time and inode are
    unchanged, but only for a file last modified well before the hash was taken: a
    change within the file system's timestamp granularity of the hashing could leave
    all three as they were (git's "racily clean" rule)."""
    with open_list(list_path):  # the clear error for a missing or unreadable file
        pass
    identity = Identity.of(list_path)
    key = list_path.resolve()
    known = _HASHED.get(key)
    if known is not None and known[0] == identity:
        return Fingerprint(identity, known[1], _code_version())
    hashed_at = time.time_ns()
    digest = _content_hash(list_path)
    if identity.mtime_ns < hashed_at - SETTLED_NS and Identity.of(list_path) == identity:
        _HASHED[key] = (identity, digest)
    return Fingerprint(identity, digest, _code_version())


Longest = dict[str, list[Candidate]]


def _pack_bits(bits: bytearray) -> str:
    return base64.b64encode(zlib.compress(bytes(bits))).decode("ascii")


def _unpack_bits(text: str) -> bytearray:
    return bytearray(zlib.decompress(base64.b64decode(text)))


def cached(list_path: Path, audience: Audience | None, fp: Fingerprint, *, evidence: bool = False) -> Figures | None:
    """The figures of an earlier tally of exactly these bytes for this audience (and
    requirement of evidence), if any."""
    from newsletter.audience.select import AudienceSummary, Figures

    try:
        data = json.loads(_cache_file(list_path, audience, evidence).read_text(encoding="utf-8"))
        if data["key"] != fp.as_dict():
            return None
        longest = {
            str(name): [(int(size), int(line), str(value)) for size, line, value in heap]
            for name, heap in data["longest"].items()
        }
        return Figures(
            AudienceSummary.from_dict(data["summary"]),
            _unpack_bits(data["eligible_lines"]),
            _unpack_bits(data["written_lines"]),
            fp,
            longest,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zlib.error):
        return None


def store(list_path: Path, audience: Audience | None, figures: Figures, *, evidence: bool = False) -> None:
    """Keep the figures for next time; silently skipped where the folder is not writable."""
    fp = figures.fp
    if Identity.of(list_path) != fp.identity:
        return  # changed while we read it: what we found may not match the fingerprint
    path = _cache_file(list_path, audience, evidence)
    data = {
        "key": fp.as_dict(),
        "summary": figures.summary.as_dict(),
        "eligible_lines": _pack_bits(figures.bitmap),
        "written_lines": _pack_bits(figures.written),
        "longest": figures.longest,
    }
    with contextlib.suppress(OSError):  # a cache: only speed is lost without it
        write_file(path, json.dumps(data, ensure_ascii=False), personal=True)
