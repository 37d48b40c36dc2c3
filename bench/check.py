"""Benchmark ``newsletter check`` on the worked example.

    python bench/check.py [--runs 50] [--cold-runs 11] [--rows 100000]

Reports, side by side in one run:
- the median in-process render time and the median time of ``run_checks`` on the same
  rendered issue (offline), with the example's 7-row list;
- ``run_checks`` with a generated list of ``--rows`` subscribers (read once, streamed):
  median time and the peak of memory allocated during one run (tracemalloc);
- the median wall time of a cold ``newsletter build`` and a cold ``newsletter check``
  (a new process each, alternating so both see the same machine).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.checks import run_checks  # noqa: E402
from newsletter.project import Project  # noqa: E402

ISSUE = REPO / "issues" / "2024-06-june-team-update.yaml"


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _wall(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's code, whatever is installed
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def _big_list(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["email", "first_name", "last_name", "status", "tags", "subscribed_at", "source"])
        for i in range(rows):
            status = "unsubscribed" if i % 17 == 0 else "subscribed"
            out.writerow(
                [
                    f"reader{i}@coproductioncollective.co.uk",
                    f"Reader{i % 997}",
                    f"Surname{i % 31}",
                    status,
                    "community;cuppas" if i % 3 else "partners",
                    "2024-01-01",
                    "website",
                ]
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--cold-runs", type=int, default=11)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()

    project = Project.find(ISSUE)
    issue_file = project.load(ISSUE)
    rendered = project.render(issue_file)
    run_checks(project, issue_file, rendered)  # warm up (imports, caches)

    render_ms = _median_ms(lambda: project.render(issue_file), args.runs)
    check_ms = _median_ms(lambda: run_checks(project, issue_file, rendered), args.runs)
    print(f"render (in-process, median of {args.runs})        {render_ms:8.2f} ms")
    print(f"run_checks, 7-row list (median of {args.runs})     {check_ms:8.2f} ms  ({check_ms / render_ms:.2f}x the render)")

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.csv"
        _big_list(big, args.rows)
        runs = max(3, args.runs // 10)
        big_ms = _median_ms(lambda: run_checks(project, issue_file, rendered, list_path=big), runs)
        tracemalloc.start()
        run_checks(project, issue_file, rendered, list_path=big)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        run_checks(project, issue_file, rendered)
        _, small_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size_mb = big.stat().st_size / 1e6
        print(
            f"run_checks, {args.rows}-row list ({size_mb:.1f} MB, median of {runs})"
            f"  {big_ms:8.2f} ms; peak allocated {peak / 1e6:.1f} MB (7-row list: {small_peak / 1e6:.1f} MB)"
        )

        work = Path(tmp) / "project"
        work.mkdir()
        for name in ("newsletter.yaml", "subscribers.csv"):
            shutil.copy(REPO / name, work / name)
        shutil.copytree(REPO / "issues", work / "issues")
        exe = [sys.executable, "-m", "newsletter"]
        issue = "issues/2024-06-june-team-update.yaml"
        build, check = [], []
        for _ in range(args.cold_runs):
            build.append(_wall([*exe, "build", issue, "-o", str(Path(tmp) / "out")], work))
            check.append(_wall([*exe, "check", issue], work))
        b, c = statistics.median(build) * 1000, statistics.median(check) * 1000
        print(f"cold `newsletter build` (median of {args.cold_runs})        {b:8.1f} ms")
        print(f"cold `newsletter check` (median of {args.cold_runs})        {c:8.1f} ms  ({c / b:.2f}x build)")


if __name__ == "__main__":
    main()
