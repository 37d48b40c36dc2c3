"""Benchmark the render pipeline on the worked example.

    python bench/build.py [--runs 200] [--cold-runs 21]

Reports, side by side in one run:
- the median in-process render time (model → HTML + text, the step done once per issue);
- the median in-process load + render with Markdown caches cleared;
- the median wall time of a cold ``newsletter build`` (a new process each time);
- the median wall time of the official MJML CLI on the same MJML, when it is installed
  (``npm install --prefix bench/.node mjml``; the script says so when it is not).
Cold runs of the two commands alternate so that both see the same machine.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter import markdown  # noqa: E402
from newsletter.project import Project  # noqa: E402
from newsletter.render import pipeline  # noqa: E402

ISSUE = REPO / "issues" / "2024-06-june-team-update.yaml"
MJML_CLI = REPO / "bench" / ".node" / "node_modules" / ".bin" / "mjml"


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _wall(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--cold-runs", type=int, default=21)
    args = ap.parse_args()

    project = Project.find(ISSUE)
    issue_file = project.load(ISSUE)
    project.render(issue_file)  # warm up

    render_ms = _median_ms(lambda: project.render(issue_file), args.runs)

    def cold_in_process() -> None:
        markdown._block_tokens.cache_clear()
        markdown._inline_tokens.cache_clear()
        project.render(project.load(ISSUE))

    load_render_ms = _median_ms(cold_in_process, args.runs)

    # The console script of this interpreter's environment (as `make run` runs it), not
    # whatever `newsletter` PATH finds first: a version manager's shim (pyenv's is a shell
    # script) would add its own start-up to every run.
    script = Path(sys.executable).with_name("newsletter")
    # Bytecode as Python keeps it after a first run (`make setup` compiles it too, for
    # machines where PYTHONDONTWRITEBYTECODE is set): otherwise each cold run would
    # compile the whole package from source first.
    compileall.compile_dir(REPO / "newsletter", quiet=1)
    build_cmd = [str(script)] if script.exists() else [sys.executable, "-m", "newsletter"]
    build_cmd += ["build", str(ISSUE.relative_to(REPO)), "-o"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        mjml_src = out / "example.mjml"
        mjml_src.write_text(pipeline.render_mjml(issue_file, project.settings, project.root), encoding="utf-8")
        has_mjml = MJML_CLI.exists()
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(args.cold_runs):
            ours.append(_wall([*build_cmd, str(out / "build")], REPO))
            if has_mjml:
                theirs.append(_wall([str(MJML_CLI), str(mjml_src), "-o", str(out / "mjml.html")], REPO))

    print(f"in-process render (model → HTML + text), median of {args.runs}: {render_ms:.2f} ms")
    print(f"in-process load + render, Markdown caches cleared, median of {args.runs}: {load_render_ms:.2f} ms")
    cold = statistics.median(ours)
    print(f"cold `newsletter build` wall time, median of {args.cold_runs}: {cold:.3f} s")
    if theirs:
        mj = statistics.median(theirs)
        print(f"official MJML CLI (MJML → HTML only), median of {args.cold_runs}: {mj:.3f} s")
        print(f"ratio MJML CLI / newsletter build: {mj / cold:.2f}×")
    else:
        print("official MJML CLI not installed: npm install --prefix bench/.node mjml")


if __name__ == "__main__":
    main()
