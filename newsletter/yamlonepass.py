"""A YAML file's data and positions in one pass over the parser's events, its bounds met on the way.

The plain way (:func:`newsletter.yamldoc.parse_plain`) parses a file twice: its events are
walked for :mod:`newsletter.yamllimits`' bounds, then the file is parsed again, composed
into nodes, constructed into data and walked once more for the positions. That was a
third of loading an issue. Here each event is met once: the bounds are checked
(:class:`~newsletter.yamllimits.Bounds`, the same checks at the same events), the value
is built and its position noted, as the plain way would have them.

Only what issues and settings are made of is built here: mappings, lists and plain,
quoted or block scalars that are text, numbers, true/false or null, with anchors. For
anything else (an alias, a merge key ``<<``, another tag such as ``!!set`` or
``!!binary``, a key that is a list or mapping, a second document, a syntax error) this
gives up and returns None: the plain way then reads the file and says what it says.
``tests/test_yaml_onepass.py`` holds the two equal (data, positions, problems) on the
project's files, the tests' YAML and thousands of mutations of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from newsletter.yamllimits import Bounds

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BUILT = frozenset({"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})
"""Tags whose value the loader's own constructor makes from the text (numbers, true, null)."""

PathKey = tuple[Any, ...]
Duplicate = tuple[PathKey, Any, Any]
"""A key given twice in one mapping: (its path, where it is now, where it was first)."""


class GiveUp(Exception):
    """The file uses something this pass leaves to the plain way."""


class _Frame:
    __slots__ = ("value", "path", "is_map", "key", "seen")

    def __init__(self, value: Any, path: PathKey, is_map: bool) -> None:
        self.value = value
        self.path = path
        self.is_map = is_map
        self.key: Any = _NO_KEY  # a mapping's key waiting for its value
        self.seen: dict[Any, Any] = {}


_NO_KEY = object()


def build(
    loader: Any, name: str, position: Callable[[int, int], Any], key_of: Callable[[yaml.ScalarNode], Any]
) -> tuple[Any, dict[PathKey, Any], dict[PathKey, Any], list[Duplicate], bool] | None:
    """(data, value positions, key positions, duplicate keys, whether there was a document)
    of the one document ``loader`` parses, or None when the plain way must read it.

    ``position(line, column)`` makes a position (1-based); ``key_of`` is the plain way's
    reading of a mapping key that is not text. A bound crossed raises its InputError."""
    bounds = Bounds(name)
    try:
        return _build(loader, bounds, position, key_of)
    except (GiveUp, yaml.YAMLError, ValueError, TypeError, KeyError):
        return None
    finally:
        loader.dispose()


def _build(
    loader: Any, bounds: Bounds, position: Callable[[int, int], Any], key_of: Callable[[yaml.ScalarNode], Any]
) -> tuple[Any, dict[PathKey, Any], dict[PathKey, Any], list[Duplicate], bool]:
    values: dict[PathKey, Any] = {}
    keys: dict[PathKey, Any] = {}
    duplicates: list[Duplicate] = []
    stack: list[_Frame] = []
    data: Any = None
    documents = 0
    resolve = loader.resolve
    constructors = loader.yaml_constructors
    see = bounds.see
    get_event = loader.get_event
    while True:
        event = get_event()
        see(event)
        kind = type(event)
        if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            mark = event.start_mark
            frame = stack[-1] if stack else None
            if frame is not None and frame.is_map and frame.key is _NO_KEY:  # a key
                if kind is not yaml.ScalarEvent:
                    raise GiveUp
                key, path_key = _key(event, resolve, constructors, key_of, loader)
                where = position(mark.line + 1, mark.column + 1)
                path = frame.path + (path_key,)
                first = frame.seen.get(path_key)
                if first is not None:
                    duplicates.append((path, where, first))
                frame.seen[path_key] = where
                keys[path] = where
                frame.key = (key, path)
                continue
            if frame is None:
                path = ()
            elif frame.is_map:
                path = frame.key[1]
            else:
                path = frame.path + (len(frame.value),)
            values[path] = position(mark.line + 1, mark.column + 1)
            if kind is yaml.ScalarEvent:
                value = _scalar(event, resolve, constructors, loader)
            else:
                tag = event.tag
                is_map = kind is yaml.MappingStartEvent
                if tag is None or tag == "!":
                    tag = resolve(yaml.MappingNode if is_map else yaml.SequenceNode, None, event.implicit)
                if tag != (_MAP if is_map else _SEQ):
                    raise GiveUp
                value = {} if is_map else []
            if frame is None:
                data = value
            elif frame.is_map:
                frame.value[frame.key[0]] = value
                frame.key = _NO_KEY
            else:
                frame.value.append(value)
            if kind is not yaml.ScalarEvent:
                stack.append(_Frame(value, path, kind is yaml.MappingStartEvent))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise GiveUp  # more than one document: the plain way says so
        elif kind is yaml.StreamEndEvent:
            return data, values, keys, duplicates, documents > 0
        elif kind is yaml.AliasEvent:
            raise GiveUp


def _scalar(event: yaml.ScalarEvent, resolve: Any, constructors: Any, loader: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    if tag in _BUILT:
        return constructors[tag](loader, _node(tag, event))
    raise GiveUp


def _key(
    event: yaml.ScalarEvent, resolve: Any, constructors: Any, key_of: Callable[[yaml.ScalarNode], Any], loader: Any
) -> tuple[Any, Any]:
    """(the key in the data, the key in paths): the same but for a key that is not text."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value, event.value
    if tag not in _BUILT:
        raise GiveUp  # a merge key (<<) and the like
    node = _node(tag, event)
    return constructors[tag](loader, node), key_of(node)


def _node(tag: str, event: Any) -> yaml.ScalarNode:
    """The node the plain way composes from a scalar's event (for the constructors that read it)."""
    return yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
