"""Benchmark ``newsletter publish``: the web edition of 100 issues.

    python bench/publish.py [--issues 100] [--runs 5]

Makes a project in a temporary folder with ``--issues`` copies of the worked example
(one a month, each with its three events), then times, in new processes, alternating:
- *cold*: an empty ``site/`` and no compiled-template cache (``.newsletter/cache``);
- *again*: the same command once more, nothing changed (every file compared, none written).
Prints the medians and the number of files written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "issues" / "2024-06-june-team-update.yaml"
NEWSLETTER = Path(sys.executable).parent / "newsletter"


def make_project(root: Path, count: int) -> None:
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    (root / "issues").mkdir()
    text = EXAMPLE.read_text(encoding="utf-8")
    for n in range(count):
        year, month = 2016 + n // 12, n % 12 + 1
        issue = text.replace("date: 2024-06-14", f"date: {year}-{month:02d}-14")
        issue = issue.replace("title: \"June Team Update", f"title: \"Update {n + 1}")
        for old in ("2024-07-01", "2024-08-06", "2024-09-06"):
            issue = issue.replace(f"start: {old}", f"start: {year}-{month:02d}-2{old[-1]}")
        (root / "issues" / f"{year}-{month:02d}-update.yaml").write_text(issue, encoding="utf-8")


def run(root: Path) -> tuple[float, str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1735689600"}  # 1 January 2025: every issue is out
    t = time.perf_counter()
    done = subprocess.run([str(NEWSLETTER), "publish"], cwd=root, env=env, check=True,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    files = next(line.strip() for line in done.stdout.splitlines() if line.strip().startswith("files"))
    return elapsed, files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.issues)
        cold: list[float] = []
        again: list[float] = []
        for _ in range(args.runs):
            shutil.rmtree(root / "site", ignore_errors=True)
            shutil.rmtree(root / ".newsletter", ignore_errors=True)
            seconds, cold_files = run(root)
            cold.append(seconds)
            seconds, again_files = run(root)
            again.append(seconds)
        size = sum(p.stat().st_size for p in (root / "site").iterdir())
        count = len(list((root / "site").iterdir()))
    print(f"publish {args.issues} issues ({count} files, {size / 1e6:.1f} MB), medians of {args.runs}:")
    print(f"  cold  {statistics.median(cold):.2f} s  ({min(cold):.2f}-{max(cold):.2f})  {cold_files}")
    print(f"  again {statistics.median(again):.2f} s  ({min(again):.2f}-{max(again):.2f})  {again_files}")


if __name__ == "__main__":
    main()
