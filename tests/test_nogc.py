"""The pause of the cyclic garbage collector around big loops: paused inside, and left
afterwards as it was found, even when the loop fails."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from newsletter.nogc import no_cycle_collection


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.enable() if enabled else gc.disable()


@pytest.mark.usefixtures("collector")
@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_left_as_it_was(enabled: bool) -> None:
    gc.enable() if enabled else gc.disable()
    with no_cycle_collection():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled
    with pytest.raises(RuntimeError), no_cycle_collection():
        raise RuntimeError("the loop failed")
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("collector")
def test_a_loop_gives_the_same_result_with_the_collector_paused() -> None:
    """The plain twin: the same work with the collector running."""

    def work() -> list[tuple[int, str]]:
        return sorted((i % 97, str(i)) for i in range(20_000))

    gc.enable()
    plain = work()
    with no_cycle_collection():
        paused = work()
    assert paused == plain
