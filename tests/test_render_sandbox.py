"""The sandbox's remembered attribute decisions (``GuardedSandbox.is_safe_attribute``) against
their twin, Jinja's own ``ImmutableSandboxedEnvironment.is_safe_attribute`` asked afresh: the
same answer for every kind of object a template can reach (Python's internal types, the
mutable containers and their ABCs, classes, models, text) and every kind of name (plain,
private, dunder, ``mro``, the mutating methods), asked once and asked again; and a template
still cannot reach what the sandbox forbids once the answer is remembered."""

from __future__ import annotations

import collections
import collections.abc
import datetime as dt
import sys
import types
from typing import Any

import pytest
from jinja2.exceptions import SecurityError
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_FUNCTION_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    UNSAFE_METHOD_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
    _mutable_spec,
)
from markupsafe import Markup

from newsletter.render.guard import GuardedSandbox
from newsletter.settings import Colours


class OwnDict(dict):  # type: ignore[type-arg]
    pass


class OwnList(list):  # type: ignore[type-arg]
    pass


class Registered:
    """Not a subclass of MutableMapping, but registered as one."""

    def clear(self) -> None:
        pass


collections.abc.MutableMapping.register(Registered)


class Pretender:
    """An object that says it is of another class than its type (as proxies do): two of
    them, of one type, may claim different classes."""

    def __init__(self, claims: type) -> None:
        self.claims = claims

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return self.claims

    def append(self) -> None:
        pass


def function() -> None:
    pass


def generator() -> Any:
    yield 1


async def coroutine() -> None:
    pass


async def async_generator() -> Any:
    yield 1


def objects() -> list[Any]:
    frame = sys._getframe()
    try:
        raise ValueError
    except ValueError as exc:
        traceback = exc.__traceback__
    running = coroutine()
    items = [
        {},
        OwnDict(),
        [],
        OwnList(),
        (),
        set(),
        frozenset(),
        collections.deque(),
        collections.OrderedDict(),
        "text",
        Markup("<b>"),
        1,
        1.5,
        None,
        True,
        dt.date(2024, 6, 14),
        function,
        print,
        str.upper,
        "x".upper,
        Colours().model_copy,
        generator(),
        running,
        async_generator(),
        function.__code__,
        frame,
        traceback,
        str,
        type,
        Colours,
        Colours(),
        Registered(),
        Pretender(str),
        Pretender(list),
        types.SimpleNamespace(a=1),
        object(),
    ]
    running.close()
    return items


NAMES = sorted(
    {
        "title",
        "upper",
        "keys",
        "items",
        "get",
        "append",
        "clear",
        "update",
        "pop",
        "add",
        "popleft",
        "insert",
        "mro",
        "_private",
        "__class__",
        "__globals__",
        "__init__",
        "__subclasses__",
        "format",
        "format_map",
        "model_copy",
        "model_fields",
        *UNSAFE_FUNCTION_ATTRIBUTES,
        *UNSAFE_METHOD_ATTRIBUTES,
        *UNSAFE_GENERATOR_ATTRIBUTES,
        *UNSAFE_COROUTINE_ATTRIBUTES,
        *UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
        *(name for _, unsafe in _mutable_spec for name in unsafe),
    }
)


def test_a_remembered_decision_is_jinjas_own() -> None:
    remembering = GuardedSandbox()
    fresh = ImmutableSandboxedEnvironment()
    compared = 0
    for _ in range(2):  # asked once, then answered from what was remembered
        for obj in objects():
            for name in NAMES:
                assert remembering.is_safe_attribute(obj, name, None) == fresh.is_safe_attribute(obj, name, None), (
                    type(obj),
                    name,
                )
                compared += 1
    assert compared == 2 * len(objects()) * len(NAMES)
    assert not remembering.is_safe_attribute([], "append", None)
    assert remembering.is_safe_attribute("x", "upper", None)


@pytest.mark.parametrize(
    "source",
    [
        "{{ items.append(1) }}",
        "{{ mapping.clear() }}",
        "{{ function.__globals__ }}",
        "{{ ''.__class__.mro() }}",
        "{{ generator.gi_frame }}",
    ],
)
def test_a_template_cannot_reach_what_the_sandbox_forbids_the_second_time_either(source: str) -> None:
    env = GuardedSandbox()
    context = {"items": [], "mapping": {}, "function": function, "generator": generator()}
    for _ in range(2):
        try:
            out = env.from_string(source).render(context)
        except SecurityError:
            continue
        assert "globals" not in out and "frame" not in out.lower() and out.strip() in ("", "None")
    assert context["items"] == [] and context["mapping"] == {}
