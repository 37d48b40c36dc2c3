"""The pause of the cyclic garbage collector around big loops: paused inside, and left
afterwards as it was found, even when the loop fails."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


@pytest.mark.parametrize("args", [["--version"], ["no-such-command"]])
def test_the_command_line_leaves_what_is_alive_out_of_the_walks_at_exit(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """Whether the command ends well or not, everything alive at its end is frozen before
    the process exits (the collector's last walks over it were a tenth of a short command)."""
    from newsletter import cli

    monkeypatch.setattr(sys, "argv", ["newsletter", *args])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit):
            cli.main()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_atexit_handlers_still_run_after_the_freeze(tmp_path: Path) -> None:
    """What a finished command leaves to ``atexit`` (a log's last flush, a clean-up) still happens."""
    script = (
        "import atexit, pathlib, sys\n"
        "from newsletter.nogc import spare_the_exit\n"
        "atexit.register(lambda: pathlib.Path(sys.argv[1], 'ran').write_text('yes'))\n"
        "spare_the_exit()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    assert (tmp_path / "ran").read_text() == "yes"
