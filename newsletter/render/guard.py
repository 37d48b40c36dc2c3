"""Bounds on what a template may do at render time, beyond Jinja's sandbox.

The sandbox stops a template from reaching Python's internals, but not from asking
for a string of ten billion characters, a range of a billion numbers or a loop that
never ends. Here: ``*`` and ``**`` refuse results beyond :data:`MAX_TEXT` characters
or :data:`MAX_INT_DIGITS` digits, filters and string methods refuse sizes beyond
:data:`MAX_TEXT`, ``range`` stops at :data:`MAX_RANGE` items, and every call, every
filter and every step of a ``range`` checks a per-render deadline
(:data:`RENDER_SECONDS`). Each refusal is a :class:`~jinja2.exceptions.SecurityError`,
which the render pipeline reports with the template's name and line.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

MAX_TEXT = 100_000
"""Longest text (or list) a template may make with ``*``, or ask a filter or string
method for (Gmail clips a whole email at 102 KB)."""
MAX_INT_DIGITS = 1000
"""Largest number, in decimal digits, a template may make with ``*`` or ``**``."""
MAX_RANGE = 10_000
"""Most numbers one ``range()`` may give."""
RENDER_SECONDS = 10.0
"""Longest one template may take to render."""

_REMEMBERED = 10_000
"""Most (type, attribute) decisions one environment keeps (a template names a few dozen)."""

_local = threading.local()


@contextmanager
def deadline(seconds: float = RENDER_SECONDS) -> Iterator[None]:
    """Templates rendered inside this block (in this thread) must finish within ``seconds``."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def check_time() -> None:
    end = getattr(_local, "deadline", None)
    if end is not None and time.monotonic() > end:
        raise SecurityError(f"the template took longer than {RENDER_SECONDS:.0f} s (a loop that does not end?)")


def _range(*args: int) -> Iterator[int]:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() of {len(numbers):,} numbers; at most {MAX_RANGE:,} are allowed")
    for i, n in enumerate(numbers):
        if i % 256 == 0:
            check_time()
        yield n


def _bounded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a filter) checking the deadline and refusing a size argument over
    :data:`MAX_TEXT` (``center(10**10)``); the filtered value itself is not limited."""
    skip = 2 if _PassArg.from_obj(function) is not None else 1

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        for arg in (*args[skip:], *kwargs.values()):
            if type(arg) is int and abs(arg) > MAX_TEXT:
                raise SecurityError(f"the filter {name} was given {arg:,}; at most {MAX_TEXT:,} is allowed")
        return function(*args, **kwargs)

    return bounded


def _size(value: Any) -> int | None:
    if isinstance(value, str | bytes | list | tuple):
        return len(value)
    return None


def _digits(value: int) -> int:
    return max(1, int(abs(value).bit_length() * 0.30103) + 1)


class GuardedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounded ``*``, ``**``, ``range`` and render time."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self._safe: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """The sandbox's own decision, remembered for each (type, attribute name): it is made
        from nothing else (the name, and which of Python's internal or mutable types the
        object is an instance of), and making it afresh for every ``issue.title`` was a
        quarter of rendering. An object that claims another class than its type is asked
        every time. ``tests/test_render_sandbox.py`` holds the two equal."""
        kind = type(obj)
        known = self._safe.get((kind, attr))
        if known is None:
            known = super().is_safe_attribute(obj, attr, value)
            if obj.__class__ is kind and len(self._safe) < _REMEMBERED:
                self._safe[(kind, attr)] = known
        return known

    def bound_filters(self) -> None:
        """Wrap every filter (call once all are added): see :func:`_bounded`."""
        self.filters = {name: _bounded(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_TEXT:
                    raise SecurityError(f"'*' would make {size * times:,} characters or items; at most {MAX_TEXT:,} are allowed")
            if isinstance(left, int) and isinstance(right, int) and _digits(left) + _digits(right) > MAX_INT_DIGITS:
                raise SecurityError(f"'*' would make a number of more than {MAX_INT_DIGITS} digits")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if right > 0 and _digits(left) * right > MAX_INT_DIGITS:
                raise SecurityError(f"'**' would make a number of more than {MAX_INT_DIGITS} digits")
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        check_time()
        if isinstance(getattr(obj, "__self__", None), str) and any(
            isinstance(a, int) and a > MAX_TEXT for a in (*args, *kwargs.values())
        ):  # 'x'.ljust(10**10), 'x'.center(...), 'x'.zfill(...)
            raise SecurityError(f"text of more than {MAX_TEXT:,} characters asked for")
        return super().call(context, obj, *args, **kwargs)
