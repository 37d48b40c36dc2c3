"""Benchmark what the preview's send state costs a page load (newsletter/preview/sends.py).

    python bench/preview_sends.py [--recipients 100000] [--runs 9]

Makes a journal with one finished send of ``--recipients`` people (the real Journal code)
in a temporary folder and reports medians of:
- first read: the journal read and counted (the first page load after the journal changed);
- page load: the same call again, answered from what was read (the journal unchanged:
  one ``stat`` of its file and its log);
- no journal: a project that was never sent (no state folder).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsletter.delivery.journal import Journal  # noqa: E402
from newsletter.preview import sends  # noqa: E402


def make(root: Path, n: int) -> None:
    journal = Journal.open(root)
    try:
        send = journal.create(
            key="issue", slug="issue", provider="smtp", list_path="subscribers.csv", content_hash="x", eligible=0
        )
        journal.add_pending(send, [(i, f"p{i}@example.org", "P", str(i), None) for i in range(1, n + 1)])
        journal.set_loaded(send)
        journal.db.execute("UPDATE recipients SET state = 'accepted'")
    finally:
        journal.close()


def median_ms(call, runs: int, before=lambda: None) -> float:
    times = []
    for _ in range(runs):
        before()
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make(root, args.recipients)
        files = {"issue": "issues/issue.yaml"}
        assert sends.states(root, files, "Europe/London")["issue"].state == "sent"
        journal = root / ".newsletter" / "journal.sqlite3"

        def touched() -> None:
            os.utime(journal, ns=(time.time_ns(), time.time_ns()))

        first = median_ms(lambda: sends.states(root, files, "Europe/London"), args.runs, touched)
        cached = median_ms(lambda: sends.states(root, files, "Europe/London"), args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        never = median_ms(lambda: sends.states(Path(tmp), files, "Europe/London"), args.runs)
    print(
        f"send state, {args.recipients} recipients: first read {first:.1f} ms, "
        f"page load (journal unchanged) {cached:.3f} ms, no journal {never:.3f} ms (medians of {args.runs})"
    )


if __name__ == "__main__":
    main()
