"""Benchmark ``newsletter subscribers sync``: 100,000 suppressions into a 1,000,000-row list.

    python bench/sync.py [--rows 1000000] [--suppressions 100000] [--runs 3] [--keep DIR]

The SendGrid-compatible test server runs in this process (each kind of request and
answer checked against SendGrid's files the first time) holding the suppressions: 40% global unsubscribes, 10% in the unsubscribe
group, 25% bounces, 10% invalid emails, 10% spam reports, 5% blocks. Four in five are
addresses of the list, one in five are not (they are added). Each run copies the same
generated list, then times a first sync (everything new: 200 pages read, the list
rewritten, the group's push) in a new process; wall time and the process's peak RSS.

Target (issue 12): ≤ 20 s and ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.sendgrid_server import KEY, SendGridServer  # noqa: E402

GROUP = 42


def generate_list(path: Path, rows: int, seed: int = 12) -> list[str]:
    rnd = random.Random(seed)
    emails = []
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["email", "first_name", "last_name", "status", "tags", "subscribed_at", "source"])
        for i in range(rows):
            email = f"reader{i:07d}@org{rnd.randrange(50_000)}.example.org"
            status = "unsubscribed" if rnd.random() < 0.05 else "subscribed"
            w.writerow([email, f"Reader{i}", "Test", status, "community", "2024-01-01", "website"])
            emails.append(email)
    return emails


def fill(server: SendGridServer, emails: list[str], count: int, seed: int = 13) -> None:
    rnd = random.Random(seed)
    acct = server.account
    acct.group(GROUP)
    chosen = rnd.sample(emails, count * 4 // 5) + [f"stranger{i}@elsewhere.example.net" for i in range(count // 5)]
    rnd.shuffle(chosen)
    t = 1_700_000_000
    for i, email in enumerate(chosen):
        r = i % 20
        if r < 8:
            acct.add("unsubscribes", email, t + i)
        elif r < 10:
            acct.groups[GROUP]["emails"].append(email)
        elif r < 15:
            acct.add("bounces", email, t + i)
        elif r < 17:
            acct.add("invalid_emails", email, t + i)
        elif r < 19:
            acct.add("spam_reports", email, t + i)
        else:
            acct.add("blocks", email, t + i, reason="421 try again later", status="4.0.0")


def one_run(project: Path, source: Path, server: SendGridServer) -> tuple[float, float]:
    shutil.copy(source, project / "subscribers.csv")
    shutil.rmtree(project / ".newsletter", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDGRID_")}
    env.update(SENDGRID_API_KEY=KEY, SENDGRID_API_HOST=server.url, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "subscribers", "sync"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"sync failed:\n{out}\n{err}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the largest child so far: every run is alike
    for line in out.strip().splitlines():
        if line.startswith(("SendGrid (", "subscribers.csv:")):
            print("   ", line[:160])
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--suppressions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Keep the generated project here.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        project = work / "project"
        project.mkdir()
        settings = (REPO / "newsletter.yaml").read_text(encoding="utf-8")
        (project / "newsletter.yaml").write_text(
            settings + f"delivery:\n  sendgrid:\n    asm_group_id: {GROUP}\n", encoding="utf-8"
        )
        source = work / "list.csv"
        print(f"generating {args.rows:,} rows and {args.suppressions:,} suppressions …")
        emails = generate_list(source, args.rows)
        times, peaks = [], []
        for run in range(args.runs):
            with SendGridServer(validate="first", keep_bodies=False) as server:
                fill(server, emails, args.suppressions)
                elapsed, peak = one_run(project, source, server)
                assert server.log.invalid == [], server.log.invalid[:3]
            times.append(elapsed)
            peaks.append(peak)
            print(f"  run {run + 1}: {elapsed:.1f} s, peak RSS so far {peak:.0f} MB")
        print(
            f"sync of {args.suppressions:,} suppressions into {args.rows:,} rows: median {statistics.median(times):.1f} s "
            f"({min(times):.1f}–{max(times):.1f} s, of {len(times)}), peak RSS {max(peaks):.0f} MB "
            "(target ≤ 20 s, ≤ 300 MB)"
        )
        if args.keep:
            shutil.copytree(project, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
