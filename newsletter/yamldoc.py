"""YAML files → validated pydantic models, with errors that point at file:line:column.

PyYAML (with its C loader where available) composes the document into nodes that
carry their position; we construct the Python data from those nodes and keep a
map from each data path to the position of its key and of its value. When pydantic
rejects the data, every error is translated into a :class:`~newsletter.errors.Problem`
naming the file, the line and column, the field as a user writes it
(``blocks[3].image.alt``) and, for misspelt keys or block types, a "did you mean" hint.
All problems are reported together.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from newsletter import yamllimits, yamlonepass
from newsletter.errors import InputError, Problem, display_path

try:  # the C loader is several times faster; fall back to pure Python if absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class _DocumentLoader(_Loader):
    """Safe loading, with dates and times left as text for pydantic to parse.

    PyYAML would turn ``2024-13-01`` into an exception without a position; as text
    it reaches pydantic, whose error we can point at the right line and field.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    }


M = TypeVar("M", bound=BaseModel)
PathKey = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(slots=True)
class Document:
    """The data of one YAML file and where each part of it stands."""

    file: str
    data: Any
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    """Problems found while reading (duplicate keys), reported with validation's."""
    duplicated: set[PathKey] = field(default_factory=set)
    """Mappings that hold a key twice (mostly a forgotten ``- `` that merged two items):
    validation's complaints about them are consequences, so only the duplicate is reported."""

    def position(self, path: PathKey, *, key: bool = False) -> Position | None:
        """The position of the value at ``path`` (or of its key), else of the nearest parent."""
        p = tuple(path)
        if key and p in self.keys:
            return self.keys[p]
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), None)


def _pos(node: yaml.Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


def _key(node: yaml.ScalarNode) -> Any:
    """A mapping key as the data holds it: text, or a number or true/false written bare."""
    if node.tag == "tag:yaml.org,2002:str" or node.style:
        return node.value
    try:
        value = yaml.load(node.value, Loader=_DocumentLoader)  # noqa: S506 (our safe loader)
    except yaml.YAMLError:
        return node.value
    return value if isinstance(value, int | float | bool) or value is None else node.value


def _index(doc: Document, node: yaml.Node, path: PathKey, problems: list[Problem]) -> None:
    doc.values[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = _key(key_node)
            if key in seen:
                problems.append(_duplicate(doc, path + (key,), _pos(key_node), seen[key]))
            seen[key] = _pos(key_node)
            doc.keys[path + (key,)] = _pos(key_node)
            _index(doc, value_node, path + (key,), problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(doc, item, path + (i,), problems)


def parse(text: str, file: str) -> Document:
    """Parse YAML text into a :class:`Document`; syntax errors raise :class:`InputError`.

    The text is held to :mod:`newsletter.yamllimits`' bounds (size, depth, aliases). An
    issue is read in one pass (:mod:`newsletter.yamlonepass`); what that pass leaves
    alone (aliases, tags, merge keys, mistakes) is read by :func:`parse_plain`, its twin."""
    yamllimits.check_characters(text, file)
    built = yamlonepass.build(_DocumentLoader(text), file, Position, _key)
    if built is None:
        return parse_plain(text, file)
    data, values, keys, duplicates, _ = built
    doc = Document(file, data, values, keys)
    for path, where, first in duplicates:
        doc.problems.append(_duplicate(doc, path, where, first))
    return doc


def _duplicate(doc: Document, path: PathKey, where: Position, first: Position) -> Problem:
    doc.duplicated.add(path[:-1])  # the mapping's other mistakes follow from this one
    return Problem(
        doc.file,
        where.line,
        where.column,
        _field_name(path, doc.data),
        "duplicate key",
        f"first given on line {first.line}; keep one"
        + (", or start a new item with '- ' before it" if len(path) > 1 and isinstance(path[-2], int) else ""),
    )


def parse_plain(text: str, file: str) -> Document:
    """:func:`parse` the plain way: the bounds walked over the parser's events, then the
    text composed into nodes, constructed into data, and the nodes walked for positions."""
    yamllimits.check_text(text, file, _DocumentLoader)
    loader = _DocumentLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise InputError(_syntax_problem(text, file, exc)) from None
    except yaml.reader.ReaderError as exc:
        line, column = yamllimits.line_column(text, exc.position)
        raise InputError(
            Problem(file, line, column, "", f"character U+{exc.character:04X} is not allowed", "delete it")
        ) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise InputError(Problem(file, None, None, "", f"YAML error: {exc}")) from None
    finally:
        loader.dispose()
    doc = Document(file, data)
    if node is not None:
        _index(doc, node, (), doc.problems)
    return doc


def _syntax_problem(text: str, file: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A syntax error at the line where the mistake starts, in plain words (see :mod:`yamlhints`)."""
    from newsletter import yamlhints  # here: only a file with a mistake needs it

    known = yamlhints.explain(text, exc)
    if known is not None:
        line, column, message, hint = known
        return Problem(file, line + 1, column + 1, "", f"YAML syntax error: {message}", hint)
    mark = exc.problem_mark or exc.context_mark
    message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
    return Problem(
        file,
        mark.line + 1 if mark else None,
        mark.column + 1 if mark else None,
        "",
        f"YAML syntax error: {message}",
        "check the indentation and quoting on this line and the one before it",
    )


def read(path: Path) -> Document:
    """Read and parse one YAML file."""
    name = display_path(path)
    return parse(yamllimits.read_text(path, name), name)


def validate(doc: Document, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Validate a parsed document against ``model``; all errors raise one :class:`InputError`."""
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(Problem(doc.file, 1, 1, "", "expected a mapping of keys to values at the top level"))
    try:
        result = model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = doc.problems + problems_from(exc, doc, model)
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise InputError(problems) from None
    if doc.problems:
        raise InputError(doc.problems)
    return result


def load(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Read, parse and validate one YAML file."""
    return validate(read(path), model, context=context)


# --- translating pydantic errors --------------------------------------------------


def _field_name(loc: PathKey, data: Any = None) -> str:
    """The field as people count: ``block 3 (image), alt`` for ``blocks[2].image.alt``,
    ``block 2 (events), item 1, start`` for ``blocks[1].events.items[0].start``."""
    segments: list[tuple[str, bool]] = []  # (words, counted)
    node = data
    skip: str | None = None
    for depth, part in enumerate(loc):
        if isinstance(part, int) and depth > 0 and segments:
            key = segments[-1][0]
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if key == "blocks":
                kind = item.get("type") if isinstance(item, Mapping) else None
                label = f"block {part + 1}" + (f" ({kind})" if isinstance(kind, str) else "")
                skip = kind if isinstance(kind, str) else None
            else:
                label = f"item {part + 1}" if key == "items" else f"{key} item {part + 1}"
            segments[-1] = (label, True)
            node = item
            continue
        if skip is not None and part == skip:
            skip = None
            continue  # the union tag pydantic puts after a block's position
        skip = None
        if (
            isinstance(part, str)
            and depth > 0
            and (
                not isinstance(node, Mapping | list) or (isinstance(node, Mapping) and part not in node and depth < len(loc) - 1)
            )
        ):
            continue  # the tag of a union's member (``per language`` in greeting.per language.cy)
        segments.append((str(part), False))
        node = node.get(part) if isinstance(node, Mapping) else None
    out = ""
    counted_before = False
    for words, counted in segments:
        if out:
            out += ", " if counted or counted_before else "."
        out += words
        counted_before = counted
    return out


def _data_path(loc: PathKey, data: Any) -> PathKey:
    """Drop the parts of a pydantic location that name a union member, not a key."""
    path: list[str | int] = []
    node = data
    tag_skipped = False
    for part in loc:
        if isinstance(node, Mapping) and node.get("type") == part and not tag_skipped:
            tag_skipped = True  # the tag pydantic puts after a discriminated union's position
            continue
        tag_skipped = False
        if isinstance(node, Mapping) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, Mapping) and isinstance(part, str):
            # a union tag (``image`` in blocks[3].image.alt) or a missing key
            continue
        else:
            break
    return tuple(path)


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types a field annotation may hold."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_unwrap(arg))
        return out
    return [tp]


def _allowed_keys(model: type[BaseModel], loc: PathKey) -> list[str]:
    """Field names (as written in YAML) of the model found at ``loc``."""
    current: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                for name, info in tp.model_fields.items():
                    if part in (name, info.alias):
                        nxt.extend(_unwrap(info.annotation))
                if isinstance(part, str) and not nxt:
                    # maybe a union tag: keep the member whose literal tag matches
                    tag = tp.model_fields.get("type")
                    if tag is not None and part in typing.get_args(tag.annotation):
                        nxt.append(tp)
            elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
                for arg in typing.get_args(tp)[:1]:
                    nxt.extend(_unwrap(arg))
            elif typing.get_origin(tp) is dict:
                args = typing.get_args(tp)
                if len(args) == 2:
                    nxt.extend(_unwrap(args[1]))
        current = nxt
    names: list[str] = []
    for tp in current:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            names.extend(info.alias or name for name, info in tp.model_fields.items())
    return sorted(set(names))


def _did_you_mean(word: str, choices: list[str]) -> str:
    import difflib  # here: only a file with a mistake needs it

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if choices:
        return "expected one of: " + ", ".join(choices)
    return ""


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():  # an acronym such as "URL"
        return text
    return text[:1].lower() + text[1:] if text else text


_DATES = {
    "date_parsing": "a date: write it as YYYY-MM-DD, e.g. 2024-06-14",
    "date_from_datetime_parsing": "a date: write it as YYYY-MM-DD, e.g. 2024-06-14",
    "date_type": "a date: write it as YYYY-MM-DD, e.g. 2024-06-14",
    "datetime_parsing": "a date and time: write it as YYYY-MM-DD HH:MM, e.g. 2024-07-01 12:00",
    "datetime_from_date_parsing": "a date and time: write it as YYYY-MM-DD HH:MM, e.g. 2024-07-01 12:00",
    "datetime_type": "a date and time: write it as YYYY-MM-DD HH:MM, e.g. 2024-07-01 12:00",
}
"""Our words for a date or time pydantic could not read; its own reason follows as the hint."""
_OUT_OF_RANGE = re.compile(r"(\w+) value is outside expected range(?: of (\d+)-(\d+))?")
_MISSING = {
    "alt": (
        "field required: the image has no alt text",
        'add alt: "what the image shows", for readers who cannot see it; if it adds nothing, write alt: "" and decorative: true',
    ),
}
"""Missing fields that deserve more than "field required": (message, hint)."""


def _date_reason(detail: str) -> str:
    """pydantic's reason a date did not parse, in plain words (none when its words are
    not plain: "unexpected extra characters at the end of the input" for an hour of 25)."""
    m = _OUT_OF_RANGE.search(detail)
    if m is None:
        return ""
    unit, low, high = m.groups()
    return f"the {unit} must be {low} to {high}" if low else f"no such {unit} in that month"


_HINTS = {
    "bool_parsing": "use true or false",
    "string_type": "put the text in quotes",
    "list_type": "start each item on its own line with '- '",
    "model_type": "expected keys and values indented under this key",
    "model_attributes_type": "expected keys and values indented under this key",
}


def problems_from(exc: ValidationError, doc: Document, model: type[BaseModel]) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc: PathKey = tuple(err["loc"])
        of_key = loc[-1:] == ("[key]",)  # pydantic's mark of a mapping's key that is wrong
        if of_key:
            loc = loc[:-1]
        kind = err["type"]
        message = _lower_first(err["msg"])
        hint = ""
        path = _data_path(loc, doc.data)
        if any(path[: len(merged)] == merged for merged in doc.duplicated):
            continue
        pos = doc.position(path, key=of_key or kind in ("extra_forbidden", "invalid_key"))
        if kind == "extra_forbidden":
            key = str(loc[-1])
            message = f"unknown key '{key}'"
            hint = _did_you_mean(key, _allowed_keys(model, loc[:-1]))
        elif kind == "missing":
            message, hint = _MISSING.get(str(loc[-1]), ("field required", ""))
        elif kind in _DATES:
            shown = err.get("input")
            what = f"'{shown}'" if isinstance(shown, str | int | float) else "this"
            message = f"{what} is not {_DATES[kind]}"
            hint = _date_reason(str(err.get("ctx", {}).get("error", "")))
        elif kind == "invalid_key":
            message = f"unknown key '{loc[-1]}'"
            hint = _did_you_mean(str(loc[-1]), _allowed_keys(model, loc[:-1]))
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            tag = str(ctx.get("tag", ""))
            message = f"unknown {ctx.get('discriminator', 'type').strip(chr(39))} '{tag}'"
            hint = _did_you_mean(tag, [t for t in tags if t])
            pos = doc.position(path + ("type",))
        elif kind == "union_tag_not_found":
            message = "field required: 'type' (which kind of block this is)"
        elif kind == "too_short":
            n = err.get("ctx", {}).get("min_length", 1)
            if isinstance(err.get("input"), str):  # text given as nothing (or only spaces)
                message = "is empty" if n == 1 else f"needs at least {n} characters"
            else:
                message = f"needs at least {n} item{'s' if n != 1 else ''}"
        elif kind == "too_long":
            ctx = err.get("ctx", {})
            message = f"has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} are allowed"
            hint = "an email this long is clipped by mail clients; split it into several issues"
        elif kind in _HINTS:
            hint = _HINTS[kind]
        if kind == "value_error":
            message = _lower_first(str(err.get("ctx", {}).get("error", err["msg"])))
        problems.append(
            Problem(
                doc.file,
                pos.line if pos else None,
                pos.column if pos else None,
                _field_name(loc, doc.data),
                message,
                hint,
            )
        )
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems
