"""Unsubscribe tokens back into addresses.

A token is a keyed hash of the address (:func:`newsletter.delivery.state.unsubscribe_token`):
it cannot be reversed, so the list is read once and each address's token made with the
project's secret; the tokens asked about are looked up in that table. Tokens are found
in any text (a form export, a web server's log): every run of exactly 32 hexadecimal
digits is one. A file of tokens is read only if it is an ordinary file (a pipe or a
device is refused, never waited on), a megabyte at a time, at most :data:`MAX_FILE_BYTES`
of it, in UTF-8 or, when it says so with a byte order mark or looks so, UTF-16.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.audience.csvfile import open_list, unneutralize
from newsletter.audience.validate import Address, check_address
from newsletter.delivery.state import token_maker
from newsletter.errors import InputError, Problem, display_path

TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?![0-9A-Za-z])")
"""A token standing alone: not part of a longer run of letters and digits (a hash, an id)."""
_WORD_END = re.compile(r"[^0-9A-Za-z]")
MAX_FILE_BYTES = 1 << 30
"""The largest file of tokens read (a year of a busy web server's log is less)."""
MAX_TOKENS = 1_000_000
"""The most distinct tokens one run takes."""
_CHUNK = 1 << 20


@dataclass(slots=True)
class Matched:
    emails: dict[str, str] = field(default_factory=dict)
    """token → the address it was made for."""
    unmatched: list[str] = field(default_factory=list)
    """Tokens that no address in the list makes (in the order given)."""


def tokens_in(text: str) -> list[str]:
    """Every token in ``text``, lower-cased, once each, in order of first appearance."""
    return list(dict.fromkeys(m.group(0).lower() for m in TOKEN.finditer(text)))


def tokens_from_file(path: Path) -> list[str]:
    """Every token in the file, once each, in order (see the module for the bounds)."""
    shown = display_path(path)

    def problem(words: str, hint: str = "") -> InputError:
        return InputError(Problem(shown, None, None, "--tokens-from", words, hint))

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise problem("no such file") from None
    except IsADirectoryError:
        raise problem("is a folder, not a file") from None
    except OSError as exc:
        raise problem(f"cannot read: {exc.strerror}") from None
    found: dict[str, None] = {}
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise problem("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise problem(
                "not an ordinary file (a pipe or a device is refused, never waited on)",
                "save the tokens or the log to a file first",
            )
        if info.st_size > MAX_FILE_BYTES:
            raise problem(
                f"the file is {info.st_size:,} bytes; at most {MAX_FILE_BYTES:,} are read",
                "split the file, or keep only the lines with unsubscribe links",
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            first = fh.read(_CHUNK)
            decoder = codecs.getincrementaldecoder(_encoding(first))("replace")
            carry, data, size = "", first, 0
            while True:
                size += len(data)
                if size > MAX_FILE_BYTES:
                    raise problem(f"the file grew past {MAX_FILE_BYTES:,} bytes while it was read")
                text = carry + decoder.decode(data, final=not data)
                # a run of letters and digits at the end may go on in the next chunk: keep it
                cut = max((m.start() for m in _WORD_END.finditer(text, max(0, len(text) - 64))), default=-1)
                if data and 0 <= cut and len(text) - cut < 64:
                    text, carry = text[: cut + 1], text[cut + 1 :]
                else:
                    carry = ""
                for t in tokens_in(text):
                    found[t] = None
                if len(found) > MAX_TOKENS:
                    raise problem(
                        f"more than {MAX_TOKENS:,} different tokens",
                        "split the file into parts and give them one after the other",
                    )
                if not data:
                    break
                data = fh.read(_CHUNK)
    except OSError as exc:
        raise problem(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    return list(found)


def _encoding(start: bytes) -> str:
    """UTF-16 when the file starts with its byte order mark or looks like it (every
    other byte a NUL, as a Windows tool writes an ASCII log), else UTF-8."""
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = start[:4096]
    if len(sample) >= 64:
        if sample[1::2].count(0) > 0.9 * len(sample[1::2]) and sample[0::2].count(0) < 0.1 * len(sample[0::2]):
            return "utf-16-le"
        if sample[0::2].count(0) > 0.9 * len(sample[0::2]) and sample[1::2].count(0) < 0.1 * len(sample[1::2]):
            return "utf-16-be"
    return "utf-8-sig"


def given_tokens(raw: Iterable[str]) -> list[str]:
    """Tokens from ``--token``: each must be one token (all bad ones reported at once)."""
    found: list[str] = []
    problems = []
    for t in raw:
        text = t.strip()
        if TOKEN.fullmatch(text):
            found.append(text.lower())
        else:
            problems.append(
                Problem(
                    "command line",
                    None,
                    None,
                    "--token",
                    f"{t!r} is not a token (32 hexadecimal digits, as in the unsubscribe link)",
                )
            )
    if problems:
        raise InputError(problems, summary="not unsubscribe tokens; the list was not changed")
    return list(dict.fromkeys(found))


def match(list_path: Path, secret: bytes, tokens: list[str]) -> Matched:
    """Which address of the list each token was made for (one streamed read)."""
    wanted = set(tokens)
    token = token_maker(secret)
    hits: dict[str, str] = {}
    with open_list(list_path) as reader:
        email_at = reader.header.roles["email"]
        for _line, cells, problem in reader.records():
            if problem is not None or len(hits) == len(wanted):
                continue
            raw = unneutralize(cells[email_at])
            checked = check_address(raw)
            if not isinstance(checked, Address):
                continue
            # the link was made from the address as sent (normalised), lower-cased by the token
            t = token(checked.normalized)
            if t in wanted and t not in hits:
                hits[t] = checked.normalized
    result = Matched()
    for t in tokens:
        if t in hits:
            result.emails[t] = hits[t]
        else:
            result.unmatched.append(t)
    return result
