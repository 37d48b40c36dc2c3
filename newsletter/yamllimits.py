"""Bounds on what a YAML file may ask of the loader, checked before anything is built.

A YAML file is small text, but aliases let a few hundred bytes stand for billions of
values (an "alias bomb"), an alias inside its own anchor makes a loop, and deep
nesting exhausts Python's stack. Every file this project reads is first read whole
within :data:`MAX_BYTES` (only a regular file: a FIFO or a device is refused, never
waited on), then its event stream is walked once, without recursion, counting the
values each anchor stands for. A file beyond a bound is an :class:`InputError` at the
line and column where the bound was crossed; nothing else is done with it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from newsletter.errors import InputError, Problem

MAX_BYTES = 1_000_000
"""Largest YAML file read (an issue is a few KB; Gmail clips an email over 102 KB)."""
MAX_DEPTH = 40
"""Deepest nesting of lists and mappings (an issue needs six levels at most)."""
MAX_VALUES = 100_000
"""Most values a file may hold once every alias is expanded."""


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of the character at ``offset`` in ``text``."""
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


def read_text(path: Path, name: str, limit: int = MAX_BYTES, hint: str | None = None) -> str:
    """The file's text, if it is a regular UTF-8 file within ``limit`` bytes (``hint``: what
    to do about a larger one)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(Problem(name, None, None, "", "file not found")) from None
    except OSError as exc:
        raise InputError(Problem(name, None, None, "", f"cannot read: {exc.strerror}")) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                Problem(
                    name,
                    None,
                    None,
                    "",
                    "not a regular file (a folder, pipe or device)",
                    "an issue or settings file must be an ordinary text file",
                )
            )
        if info.st_size > limit:
            raise too_large(name, info.st_size, limit, hint)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(Problem(name, None, None, "", f"cannot read: {exc.strerror}")) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise too_large(name, len(data), limit, hint)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        line, column = line_column(good, len(good))
        raise InputError(
            Problem(
                name,
                line,
                column,
                "",
                f"not UTF-8 text (byte 0x{data[exc.start]:02x}: {exc.reason})",
                "save the file as UTF-8 in your editor",
            )
        ) from None


def too_large(name: str, size: int, limit: int = MAX_BYTES, hint: str | None = None) -> InputError:
    return InputError(
        Problem(
            name,
            None,
            None,
            "",
            f"file is {size:,} bytes; at most {limit:,} are read",
            hint or "an issue is a few KB of text and Gmail clips an email over 102 KB: remove pasted data or split the issue",
        )
    )


def check_text(text: str, name: str, loader: Callable[[str], Any]) -> None:
    """Refuse text beyond :data:`MAX_BYTES`, control characters YAML does not allow, and
    (walking the event stream) nesting beyond :data:`MAX_DEPTH`, an alias that refers to
    its own anchor, and aliases standing for more than :data:`MAX_VALUES` values."""
    check_characters(text, name)
    _walk(loader(text), name)


def check_characters(text: str, name: str) -> None:
    """Refuse text beyond :data:`MAX_BYTES` and control characters YAML does not allow (the
    bounds of the structure are :class:`Bounds`', met event by event)."""
    if len(text) > MAX_BYTES:
        raise too_large(name, len(text.encode("utf-8")))
    bad = _CONTROL.search(text)
    if bad is not None:
        line, column = line_column(text, bad.start())
        raise InputError(
            Problem(
                name,
                line,
                column,
                "",
                f"control character U+{ord(bad.group()):04X} in the text",
                "delete it: most editors do not show it, so retype the line if unsure",
            )
        )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
"""Characters YAML does not allow in a file (tab, line feed and carriage return are allowed)."""


def _problem(name: str, mark: Any, message: str, hint: str) -> InputError:
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return InputError(Problem(name, line, column, "", message, hint))


class Bounds:
    """The structure's bounds, met one parser event at a time (:meth:`see` raises at the
    event that crosses one): depth, an alias inside its own anchor, values once expanded."""

    __slots__ = ("name", "sizes", "aliases", "stack", "total")

    def __init__(self, name: str) -> None:
        self.name = name
        self.sizes: dict[str, int] = {}
        self.aliases = 0
        self.stack: list[list[Any]] = []  # [anchor, values so far] of each open list or mapping
        self.total = 0
        """The values so far of every open list and mapping together (the stack's counts' sum)."""

    def see(self, event: Any) -> None:
        stack = self.stack
        kind = type(event)
        if kind is yaml.ScalarEvent:
            n = 1
            if event.anchor:
                self.sizes[event.anchor] = 1
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            stack.append([event.anchor, 1])
            self.total += 1
            if len(stack) > MAX_DEPTH:
                raise _problem(
                    self.name,
                    event.start_mark,
                    f"nested more than {MAX_DEPTH} levels deep",
                    "an issue needs a few levels at most; look for an unclosed [ or {",
                )
            return
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            anchor, n = stack.pop()
            self.total -= n
            if anchor:
                self.sizes[str(anchor)] = n
        elif kind is yaml.AliasEvent:
            if any(entry[0] == event.anchor for entry in stack):
                raise _problem(
                    self.name,
                    event.start_mark,
                    f"the alias *{event.anchor} is inside its own anchor &{event.anchor} (a loop)",
                    "an alias can only repeat something that is complete before it",
                )
            n = self.sizes.get(event.anchor or "", 1)
            self.aliases += 1
        else:
            return
        if stack:
            stack[-1][1] += n
            self.total += n
            total = self.total
        else:
            total = n
        if total > MAX_VALUES:
            if self.aliases:
                raise _problem(
                    self.name,
                    event.start_mark,
                    f"the aliases (*name) up to here make the file stand for more than {MAX_VALUES:,} values",
                    "repeat fewer parts with aliases, or write them out",
                )
            raise _problem(
                self.name,
                event.start_mark,
                f"the file holds more than {MAX_VALUES:,} values",
                "an issue holds a few hundred; remove pasted data or split the issue",
            )


def _walk(loader: Any, name: str) -> None:
    bounds = Bounds(name)
    try:
        while loader.check_event():
            bounds.see(loader.get_event())
    except yaml.YAMLError:
        return  # a syntax error: the parse that follows reports it with its hint
    finally:
        loader.dispose()
