"""The files of a project that name a person, and what forgetting does to each.

Everything the tool writes about readers lives in the project folder (or beside the
list): the outbox's and the dry run's messages (``.eml``, ``request-1.json``),
``unsent.csv`` reports and fix lists wherever they were written, the list's cached
figures (``.newsletter/cache/``), the outcome logs (``.newsletter/outcomes/``) and the
send journal. Rather than trust a list of places, the whole project is searched
(version control, virtual environments and caches of tools left out) for the address
(case ignored, as written and in its ASCII form) and for the reader's unsubscribe
token, and each file found is handled by what it is:

``delete``
    a message (``.eml``), a dry run's file, a cache of the list's figures, the readers
    SendGrid did not deliver to (``.newsletter/deliveries/``): made again when needed.
``rows``
    a CSV (reports, fix lists, other exports): the records that name the person are
    cut out, every other byte kept.
``scrub``
    an outcome log: the address is replaced by ``[forgotten]``, the lines kept.
``journal``
    the send journal: made anonymous through its own API (:mod:`newsletter.delivery.journal`).
``manual``
    anything else (an issue, a note): named, never changed, for the person to edit.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsletter.delivery.state import STATE_DIR
from newsletter.files import write_file

SKIP_DIRS = frozenset(
    (".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".tox")
)
CHUNK = 8 << 20
DELETE, ROWS, SCRUB, JOURNAL, MANUAL = "delete", "rows", "scrub", "journal", "manual"
WHAT = {
    DELETE: "removed",
    ROWS: "rows naming them removed",
    SCRUB: "address replaced by [forgotten]",
    JOURNAL: "rows made anonymous",
    MANUAL: "left as it is: edit it yourself",
}
FORGOTTEN = b"[forgotten]"


@dataclass(frozen=True, slots=True)
class Needles:
    """What marks a file as naming the person: byte strings, lower-case."""

    words: tuple[bytes, ...]
    """The address as written and in its ASCII form; the unsubscribe token."""
    addresses: tuple[bytes, ...]
    """The address forms alone (what a scrub replaces)."""
    name_part: str
    """The address as the outbox writes it into a file name."""

    def found_in(self, path: Path) -> bool:
        if self.name_part and self.name_part in path.name.lower():
            return True
        longest = max(len(w) for w in self.words)
        try:
            with open(path, "rb") as fh:
                tail = b""
                while chunk := fh.read(CHUNK):
                    text = (tail + chunk).lower()
                    if any(w in text for w in self.words):
                        return True
                    tail = chunk[-longest:]
        except OSError:
            return False
        return False


def needles(address: str, ascii_form: str, token: str | None) -> Needles:
    forms = tuple(dict.fromkeys(f.lower().encode("utf-8") for f in (address, ascii_form)))
    words = forms + ((token.encode("ascii"),) if token else ())
    name_part = re.sub(r"[^A-Za-z0-9@._+-]", "_", address).lower()[:80]
    return Needles(words, forms, name_part)


def action(path: Path, root: Path) -> str:
    """What forgetting does to a file that names the person (see the module's description)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts
    if STATE_DIR in parts:
        if path.name.startswith("journal.sqlite3"):
            return JOURNAL
        if "outcomes" in parts:
            return SCRUB
        if "cache" in parts or "deliveries" in parts:  # pulled again by `newsletter results`
            return DELETE
        return MANUAL
    if path.suffix.lower() == ".eml" or "dry-run" in parts:
        return DELETE
    if path.suffix.lower() in (".csv", ".tsv"):
        return ROWS
    return MANUAL


def files(folders: list[Path]) -> Iterator[Path]:
    """Every regular file under these folders (links not followed; tools' folders left out)."""
    seen: set[Path] = set()
    for folder in folders:
        for here, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(names):
                path = Path(here) / name
                if path not in seen and path.is_file() and not path.is_symlink():
                    seen.add(path)
                    yield path


def naming(folders: list[Path], found: Needles, leave: set[Path]) -> list[Path]:
    """The files under ``folders`` that name the person, but those in ``leave``."""
    return [p for p in files(folders) if p.resolve() not in leave and found.found_in(p)]


def scrubber(found: Needles) -> Callable[[str], str]:
    """A function that replaces the address in a text by ``[forgotten]`` (case ignored)."""
    pattern = re.compile("|".join(re.escape(w.decode("utf-8")) for w in found.addresses), re.IGNORECASE)

    def scrub_text(text: str) -> str:
        return pattern.sub("[forgotten]", text)

    return scrub_text


def scrub(path: Path, found: Needles) -> None:
    """Replace the address in a log by ``[forgotten]`` (case ignored), keeping every other byte."""
    data = path.read_bytes()
    for word in found.addresses:
        data = re.sub(re.escape(word), FORGOTTEN, data, flags=re.IGNORECASE)
    write_file(path, data, personal=True)


def drop_rows(path: Path, found: Needles) -> bool:
    """Cut the CSV records that name the person out of the file, every other byte kept;
    False when the file cannot be read as CSV (it is then left alone)."""
    data = path.read_bytes()
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    try:
        text = data[len(bom) :].decode("utf-8")
        lines = io.StringIO(text, newline="").readlines()
        first = lines[0] if lines else ""
        delimiter = max(",;\t", key=first.count)
        reader = csv.reader(iter(lines), delimiter=delimiter, strict=True)
        keep: list[str] = []
        done = 0
        for _ in reader:
            record = "".join(lines[done : reader.line_num])
            if not any(w in record.lower().encode("utf-8") for w in found.words):
                keep.append(record)
            done = reader.line_num
        keep.extend(lines[done:])
    except (UnicodeDecodeError, csv.Error):
        return False
    write_file(path, bom + "".join(keep).encode("utf-8"))
    return True
