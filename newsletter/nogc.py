"""Pausing Python's cyclic garbage collector around loops over a million rows, and
sparing it the walks over every object at exit.

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


def spare_the_exit() -> None:
    """Leave every object alive now out of the collector's walks at exit.

    At exit Python frees the modules and runs the cyclic collector over everything still
    alive, more than once: some 40,000 containers once the web edition's libraries are
    loaded (their schemas, grammars and compiled templates), 16 ms of the 0.59 s of CPU
    time of publishing 100 issues, to find the few objects in reference cycles, which the
    end of the process frees anyway. Frozen (``gc.freeze``), they are not walked;
    reference counting still frees everything, and ``atexit`` handlers still run
    (``tests/test_nogc.py``). Called once the command is done, just before the process exits.
    """
    gc.freeze()
