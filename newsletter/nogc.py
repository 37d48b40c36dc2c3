"""Pausing Python's cyclic garbage collector around loops over a million rows.

Speed code: the send loop, the list tally and the web edition's loop run without the
cyclic collector. Plain twin: the same loop with the collector running (it changes when
memory is freed, never a result); ``tests/test_nogc.py`` holds that the collector is
paused inside and left as it was found afterwards. Figures: docs/performance.md (``bench/``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector (it runs again afterwards).

    A loop over a big list makes containers by the million (a list per CSV row, a few
    dicts per recipient) and frees them soon after; none is in a reference cycle, so
    reference counting frees them all, while the collector, woken by so many
    allocations, scans the survivors again and again and finds nothing: a noticeable
    part of a large send or of tallying a large list.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
