"""Where each URL, image and piece of text in the email comes from.

The issue and the settings are walked field by field (generically, so new block
types need nothing here); every string becomes a :class:`Source` that knows its
file, line, column and field. Checks that look at the rendered HTML use the index
to point a finding back at the YAML the editor wrote.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from markdown_it.token import Token
from pydantic import BaseModel

from newsletter import markdown
from newsletter.checks.finding import Where
from newsletter.yamldoc import Document, PathKey

Kind = Literal["link", "image", "address", "text"]
Locate = Callable[[PathKey], Where]

LINK_FIELDS = frozenset({"url", "link", "signup"})
ADDRESS_FIELDS = frozenset({"email", "contact_email"})
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Whitespace runs as one space, trimmed: how text compares once rendered."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Source:
    where: Where
    kind: Kind
    value: str
    decorative: bool = False


def field_name(path: PathKey, data: Any) -> str:
    """``('blocks', 3, 'url')`` → ``blocks[3].button.url``, as load errors name fields."""
    out = ""
    node = data
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        if isinstance(part, int) and isinstance(node, Mapping) and isinstance(node.get("type"), str):
            out += f".{node['type']}"
    return out


class Locator:
    """Data paths of one YAML file → :class:`Where`; text found in a field → its own line."""

    def __init__(self, doc: Document | None, file: str, path: Path | None = None) -> None:
        self.doc = doc
        self.file = doc.file if doc is not None else file
        self._path = path
        self._starts = sorted({(p.line, p.column) for p in doc.values.values()}) if doc else []

    def __call__(self, path: PathKey) -> Where:
        if self.doc is None:
            return Where(self.file, None, None, field_name(path, None))
        pos = self.doc.position(path)
        return Where(
            self.file,
            pos.line if pos else None,
            pos.column if pos else None,
            field_name(path, self.doc.data),
        )

    @cached_property
    def _lines(self) -> list[str]:
        if self._path is None:
            return []
        try:
            return self._path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []

    def refine(self, where: Where, snippet: str) -> Where:
        """The line and column of ``snippet`` inside the value at ``where`` (a long text
        block spans many lines), or ``where`` itself when it cannot be found there."""
        if where.file != self.file or where.line is None or not snippet or "\n" in snippet:
            return where
        after = bisect.bisect_right(self._starts, (where.line, where.column or 0))
        end = self._starts[after][0] if after < len(self._starts) else len(self._lines) + 1
        for number in range(where.line, max(end, where.line + 1)):
            if number > len(self._lines):
                break
            line = self._lines[number - 1]
            start = (where.column or 1) - 1 if number == where.line else 0
            col = line.find(snippet, start)
            if col >= 0:
                return Where(where.file, number, col + 1, where.field)
        return where


def _markdown_refs(text: str) -> Iterator[tuple[Kind, str]]:
    """Links and images written in Markdown (hrefs normalised as the renderer writes them)."""
    if "](" not in text and "<" not in text:
        return
    try:
        tokens = markdown.parser().parse(text)
    except ValueError:  # a URL the loader would refuse; nothing of it is rendered
        return

    def walk(items: list[Token]) -> Iterator[tuple[Kind, str]]:
        for tok in items:
            if tok.type == "link_open":
                yield "link", str(tok.attrGet("href") or "")
            elif tok.type == "image":
                yield "image", str(tok.attrGet("src") or "")
            if tok.children:
                yield from walk(tok.children)

    yield from walk(tokens)


def walk_model(model: BaseModel, path: PathKey = ()) -> Iterator[tuple[PathKey, str, Any, BaseModel]]:
    """(data path, field name, value, owning model) for every leaf value of a model."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        yield from _walk_value(value, path + (info.alias or name,), name, model)


def _walk_value(value: Any, path: PathKey, name: str, owner: BaseModel) -> Iterator[tuple[PathKey, str, Any, BaseModel]]:
    if isinstance(value, BaseModel):
        yield from walk_model(value, path)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk_value(item, path + (i,), name, owner)
    elif value is not None:
        yield path, name, value, owner


def sources_of(model: BaseModel, locate: Locate) -> list[Source]:
    """Every string of ``model`` as a :class:`Source`, in the order of the model's fields."""
    out: list[Source] = []
    for path, name, value, owner in walk_model(model):
        if not isinstance(value, str):
            continue
        where = locate(path)
        if name == "src":
            out.append(Source(where, "image", value, bool(getattr(owner, "decorative", False))))
        elif name in LINK_FIELDS:
            out.append(Source(where, "link", value))
        elif name in ADDRESS_FIELDS:
            out.append(Source(where, "address", value))
            out.append(Source(where, "link", f"mailto:{value}"))
        else:
            out.append(Source(where, "text", value))
            for kind, ref in _markdown_refs(value):
                out.append(Source(where, kind, ref))
    return out


@dataclass
class SourceIndex:
    """Look up the source of a rendered URL, image or text."""

    sources: list[Source]
    refine: Callable[[Where, str], Where] = lambda where, _: where
    links: dict[str, list[Source]] = field(default_factory=dict)
    images: dict[str, list[Source]] = field(default_factory=dict)
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for src in self.sources:
            if src.kind == "link":
                self.links.setdefault(src.value.strip(), []).append(src)
            elif src.kind == "image":
                self.images.setdefault(src.value.strip(), []).append(src)

    def _next(self, table: dict[str, list[Source]], kind: str, key: str) -> Source | None:
        """The n-th rendered use of a URL maps to its n-th source (the last one after that)."""
        found = table.get(key.strip())
        if not found:
            return None
        n = self._seen.get((kind, key), 0)
        self._seen[(kind, key)] = n + 1
        return found[min(n, len(found) - 1)]

    def link(self, href: str) -> Source | None:
        return self._next(self.links, "link", href)

    def image(self, src: str) -> Source | None:
        return self._next(self.images, "image", src)

    def where(self, source: Source) -> Where:
        """Where a link or image was written: its own line inside a long text."""
        return self.refine(source.where, source.value)

    def text(self, snippet: str) -> Where | None:
        """The first field whose text contains ``snippet`` (whitespace-insensitive)."""
        wanted = squash(snippet)
        if not wanted:
            return None
        for exact in (True, False):
            for src in self.sources:
                value = squash(src.value)
                if value == wanted if exact else wanted in value:
                    return self.refine(src.where, snippet.strip())
        return None
