"""Benchmark ``subscribers show`` and ``subscribers forget`` on a million-row list, and the
list's scan side by side with another version's code.

    python bench/people.py [--rows 1000000] [--runs 3] [--against DIR] [--evidence]

Generates the list of ``bench/subscribers.py`` into a temporary project, then times
``show`` of an address half-way down (``--runs`` times) and one ``forget`` of it (wall
time and peak RSS of the command). With ``--against DIR`` (a checkout of another
version, e.g. ``git archive 5e93cfe newsletter | tar -x -C DIR``) it also times the
list's one-pass scan (CPU time) under each version's code, alternating, and prints the
ratio of the medians. With ``--evidence`` the list has the evidence-of-consent columns
(``bench/subscribers.py --evidence``), and this version's scan is also timed with evidence
of consent required against the same scan without (``consent: required`` on and off).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from subscribers import generate  # noqa: E402

SCAN = """
import sys, time
from pathlib import Path
from newsletter.audience.csvfile import open_list
from newsletter.audience.scan import Scanner
from newsletter.nogc import no_cycle_collection
with open_list(Path(sys.argv[1])) as reader, no_cycle_collection():
    extra = {"evidence": True} if sys.argv[2:] == ["required"] else {}
    scanner = Scanner(reader.shown, reader.header, reader.dialect.delimiter, **extra)
    start = time.process_time()
    scanner.scan(reader)
    print(time.process_time() - start)
"""


def timed(args: list[str], cwd: Path, code: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one command, by GNU time."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(code)},
        check=False,
    )
    wall, peak = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak) // 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--against", type=Path)
    ap.add_argument("--evidence", action="store_true", help="evidence columns; time the scan with them required")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-people-"))
    try:
        shutil.copy(REPO / "newsletter.yaml", folder)
        generate(folder / "subscribers.csv", args.rows, evidence=args.evidence)
        with open(folder / "subscribers.csv", encoding="utf-8") as fh:
            for _ in range(args.rows // 2):
                line = fh.readline()
        address = line.split(",", 1)[0]
        shows = [timed(["-m", "newsletter", "subscribers", "show", address], folder, REPO) for _ in range(args.runs)]
        print(f"show: median {statistics.median(s for s, _ in shows):.2f} s, peak {max(m for _, m in shows)} MB")
        wall, peak = timed(["-m", "newsletter", "subscribers", "forget", address], folder, REPO)
        print(f"forget: {wall:.2f} s, peak {peak} MB")
        if args.against is not None:
            times: dict[str, list[float]] = {"this": [], "other": []}
            for _ in range(args.runs):
                for name, code in (("other", args.against), ("this", REPO)):
                    out = subprocess.run(
                        [sys.executable, "-c", SCAN, str(folder / "subscribers.csv")],
                        capture_output=True,
                        text=True,
                        check=True,
                        env={**os.environ, "PYTHONPATH": str(code)},
                    )
                    times[name].append(float(out.stdout))
            this, other = statistics.median(times["this"]), statistics.median(times["other"])
            print(
                f"scan (CPU): this {this:.2f} s, other {other:.2f} s: {this / other:.2f}x (medians of {args.runs}, alternating)"
            )
        if args.evidence:
            found: dict[str, list[float]] = {"optional": [], "required": []}
            for _ in range(args.runs):
                for name in found:
                    out = subprocess.run(
                        [sys.executable, "-c", SCAN, str(folder / "subscribers.csv"), name],
                        capture_output=True,
                        text=True,
                        check=True,
                        env={**os.environ, "PYTHONPATH": str(REPO)},
                    )
                    found[name].append(float(out.stdout))
            on, off = statistics.median(found["required"]), statistics.median(found["optional"])
            print(
                f"scan (CPU) with evidence required {on:.2f} s, optional {off:.2f} s: {on / off:.2f}x "
                f"(medians of {args.runs}, alternating)"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
