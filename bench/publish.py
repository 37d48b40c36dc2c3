"""Benchmark ``newsletter publish``: the web edition of 100 issues, beside ``mkdocs build`` of the same text.

    python bench/publish.py [--issues 100] [--runs 5] [--no-mkdocs] [--phases] [--dir FOLDER] [--against DIR]

Makes a project in a temporary folder with ``--issues`` copies of the worked example
(one a month, each with its three events), and a MkDocs project of the same text (each
issue as a Markdown page: title, intro, headings, paragraphs, quotes, lists, events,
links; MkDocs' own theme and search index, as ``mkdocs new`` sets up). Then times, in
new processes, alternating:
- *cold*: an empty ``site/``, no ``published.json`` and no cache (``.newsletter/``);
- *again*: the same command once more, nothing changed;
- *one changed*: one issue edited (a word of its text), then publish;
- *mkdocs*: ``mkdocs build`` into an empty folder (MkDocs is installed for the benchmark
  only: ``make bench`` does it);
- *against*: with ``--against DIR``, a cold publish by the package in ``DIR`` (another
  version: ``git archive COMMIT newsletter | tar -x -C DIR``, put first on ``PYTHONPATH``),
  whose site must be byte for byte this version's.
Run it after ``make setup``, which compiles the package's bytecode and the theme's
templates as an install does (a cold publish is a new project's, not a new installation's).
Prints the medians of wall time and of CPU time (user + system of the child process), and
the ratios side by side. ``--phases`` also says where a cold publish's CPU time goes
(medians of ``--runs`` cold publishes, each in a new process, its steps timed by wrapping
the functions that do them).

The last run's output is moved aside before a cold run, and deleted only at the end:
deleting it just before would make the timed run pay for the benchmark's own clean-up.
ext4, allocating an inode for a new file, passes over every inode of its group freed in
the last minute (``recently_deleted`` in the kernel): with the 700 files of the run
before just removed, creating a file cost half a millisecond of system time instead of
a tenth, and more with every repetition. A first publish on a real project has no such
pile of freshly deleted files, and MkDocs gets the same treatment.
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "issues" / "2024-06-june-team-update.yaml"
NEWSLETTER = Path(sys.executable).parent / "newsletter"
MKDOCS = Path(sys.executable).parent / "mkdocs"
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1735689600"}  # 1 January 2025: every issue is out


def make_project(root: Path, count: int) -> None:
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    (root / "issues").mkdir()
    text = EXAMPLE.read_text(encoding="utf-8")
    for n in range(count):
        year, month = 2016 + n // 12, n % 12 + 1
        issue = text.replace("date: 2024-06-14", f"date: {year}-{month:02d}-14")
        issue = issue.replace('title: "June Team Update', f'title: "Update {n + 1}')
        for old in ("2024-07-01", "2024-08-06", "2024-09-06"):
            issue = issue.replace(f"start: {old}", f"start: {year}-{month:02d}-2{old[-1]}")
        (root / "issues" / f"{year}-{month:02d}-update.yaml").write_text(issue, encoding="utf-8")


def markdown_of(data: dict) -> str:
    """The issue's text as one Markdown page (what MkDocs gets to build)."""
    out = [f"# {data['title']}", "", str(data.get("intro", "")), ""]
    for block in data["blocks"]:
        kind = block["type"]
        if kind == "heading":
            out += [f"## {block['text']}", ""]
        elif kind == "text":
            out += [block["text"], ""]
        elif kind == "quote":
            out += [f"> {block['text']}", f"> — {block.get('by', '')}", ""]
        elif kind == "list":
            out += [f"- {item}" for item in block["items"]] + [""]
        elif kind == "image":
            out += [f"![{block.get('alt', '')}]({block['src']})", ""]
        elif kind == "button":
            out += [f"[{block['label']}]({block['url']})", ""]
        elif kind == "events":
            out += [f"- **{e['title']}** {e['start']}, {e.get('place', 'online')}" for e in block["items"]] + [""]
        elif kind == "links":
            out += [f"- [{item['title']}]({item['url']})" for item in block["items"]] + [""]
        elif kind == "contact":
            out += [block["text"], ""]
    return "\n".join(out) + "\n"


def make_mkdocs(root: Path, issues: Path) -> None:
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: Co-Production Collective\n", encoding="utf-8")
    (root / "docs" / "index.md").write_text("# Newsletter archive\n", encoding="utf-8")
    for path in sorted(issues.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        (root / "docs" / f"{path.stem}.md").write_text(markdown_of(data), encoding="utf-8")


PHASES = """\
import os, sys, time
start = time.process_time()
from newsletter.cli import cli
from newsletter.project import Project
from newsletter.web import edition, issue, make, page
import newsletter.render.pipeline, lxml.html, pydantic, yaml  # noqa: E401,F401
spent = {"start-up and imports": time.process_time()}

def timed(owner, name, label):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        before = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - before
    setattr(owner, name, wrapper)

timed(Project, "load", "loading the issues (YAML, validation)")
timed(issue, "render_html_for_browsers", "rendering (Jinja, MJML)")
timed(issue, "web_page", "making the pages (lxml)")
timed(make, "vevent", "calendar entries (VEVENTs)")
timed(edition, "write_if_changed", "writing the files")
sys.argv = ["newsletter", "publish"]
try:
    cli(prog_name="newsletter")
except SystemExit:
    pass
total = time.process_time()
spent["everything else"] = total - sum(spent.values())
print(repr(spent), file=sys.stderr)
"""


def phases(root: Path, trash: Path, runs: int) -> dict[str, float]:
    """Median CPU seconds of each step of a cold publish (in-process clock: without the
    interpreter's own start-up and exit)."""
    seen: dict[str, list[float]] = {}
    for _ in range(runs):
        for old in (root / "site", root / ".newsletter", root / "published.json"):
            set_aside(old, trash)
        done = subprocess.run([sys.executable, "-c", PHASES], cwd=root, env=ENV, check=True, capture_output=True, text=True)
        for label, value in ast.literal_eval(done.stderr.strip().splitlines()[-1]).items():
            seen.setdefault(label, []).append(value)
    return {label: statistics.median(values) for label, values in seen.items()}


def set_aside(path: Path, trash: Path) -> None:
    """Move ``path`` (if it exists) into ``trash``, to be deleted after the timed runs."""
    if path.exists():
        trash.mkdir(exist_ok=True)
        path.rename(trash / f"{len(list(trash.iterdir()))}-{path.name}")


def timed(command: list[str], cwd: Path, extra: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child, its output)."""
    env = {**ENV, **(extra or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def site_bytes(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def files_line(out: str) -> str:
    return next(line.strip() for line in out.splitlines() if line.strip().startswith("files"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--issues", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-mkdocs", action="store_true")
    ap.add_argument("--phases", action="store_true", help="say where a cold publish's CPU time goes")
    ap.add_argument("--dir", type=Path, default=None, help="make the projects here (default: the temp folder)")
    ap.add_argument(
        "--against",
        type=Path,
        default=None,
        help="also a cold publish by the package in this folder (another version), alternating",
    )
    args = ap.parse_args()
    mkdocs = not args.no_mkdocs and MKDOCS.exists()
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "again": [], "one changed": [], "mkdocs": [], "against": []}
    same_site: list[bool] = []
    lines: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        make_project(root, args.issues)
        docs = Path(tmp) / "mkdocs"
        if mkdocs:
            make_mkdocs(docs, root / "issues")
        edited = sorted((root / "issues").glob("*.yaml"))[len(list((root / "issues").glob("*.yaml"))) // 2]
        original = edited.read_text(encoding="utf-8")
        trash = Path(tmp) / "trash"
        for run in range(args.runs):
            for old in (root / "site", root / ".newsletter", root / "published.json"):
                set_aside(old, trash)
            edited.write_text(original, encoding="utf-8")
            wall, cpu, out = timed([str(NEWSLETTER), "publish"], root)
            results["cold"].append((wall, cpu))
            lines["cold"] = files_line(out)
            made = site_bytes(root / "site") if args.against else {}
            wall, cpu, out = timed([str(NEWSLETTER), "publish"], root)
            results["again"].append((wall, cpu))
            lines["again"] = files_line(out)
            edited.write_text(original.replace("a busy month", f"a busy month ({run})"), encoding="utf-8")
            wall, cpu, out = timed([str(NEWSLETTER), "publish"], root)
            results["one changed"].append((wall, cpu))
            lines["one changed"] = files_line(out)
            if args.against:  # last: its site and cache must not be the next runs' "before"
                edited.write_text(original, encoding="utf-8")
                for old in (root / "site", root / ".newsletter", root / "published.json"):
                    set_aside(old, trash)
                wall, cpu, out = timed([str(NEWSLETTER), "publish"], root, {"PYTHONPATH": str(args.against.resolve())})
                results["against"].append((wall, cpu))
                lines["against"] = files_line(out) + f"  ({args.against})"
                same_site.append(site_bytes(root / "site") == made)
            if mkdocs:
                set_aside(docs / "site", trash)
                wall, cpu, _ = timed([str(MKDOCS), "build", "--quiet"], docs)
                results["mkdocs"].append((wall, cpu))
        site_files = [p for p in (root / "site").rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in site_files)
        steps = phases(root, trash, args.runs) if args.phases else {}
    where = args.dir or Path(tempfile.gettempdir())
    print(f"publish {args.issues} issues ({len(site_files)} files, {size / 1e6:.1f} MB) in {where}, medians of {args.runs}:")
    medians = {}
    for name, values in results.items():
        if not values:
            continue
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        medians[name] = (wall, cpu)
        print(f"  {name:12} wall {wall:.2f} s  CPU {cpu:.2f} s  {lines.get(name, '')}")
    cold = medians["cold"][1]
    print(f"  again / cold (CPU): {medians['again'][1] / cold:.0%};  one changed / cold: {medians['one changed'][1] / cold:.0%}")
    if "mkdocs" in medians:
        print(f"  cold publish / mkdocs build (CPU): {cold / medians['mkdocs'][1]:.2f}x")
    if "against" in medians:
        print(f"  cold publish / against (CPU): {cold / medians['against'][1]:.2f}x;  the same site: {all(same_site)}")
        if "mkdocs" in medians:
            print(f"  against / mkdocs build (CPU): {medians['against'][1] / medians['mkdocs'][1]:.2f}x")
    if steps:
        print(f"where a cold publish's CPU goes (in-process clock, medians of {args.runs}):")
        for label, value in steps.items():
            print(f"  {label:40} {value:.3f} s")


if __name__ == "__main__":
    main()
