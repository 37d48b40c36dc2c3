"""Benchmark ``newsletter subscribers stats`` on a generated list of a million rows.

    python bench/subscribers.py [--rows 1000000] [--runs 3] [--keep DIR] [--evidence] [--require-consent]

Generates a deterministic, realistic list (many domains, ~1% Unicode addresses,
~0.5% invalid, ~1% duplicates in another case, every status, tags, names with
commas, quotes and formula-like text), then reports, in one run:

- wall time and peak memory (RSS) of ``stats`` in a new process with no cached
  figures (cold), and with the figures cached from the previous run (warm);
- time per address of email-validator alone and of our validation (fast path,
  falling back to email-validator) on the same sample of addresses, side by side,
  for the whole sample and for its plain ASCII addresses.

Targets (issue 4): cold ``stats`` ≤ 15 s and ≤ 300 MB for 1,000,000 rows.

``--evidence`` adds the three evidence-of-consent columns (about 2% of rows without
any, 1% with a date that is not one); ``--require-consent`` runs ``stats`` in a project
whose ``newsletter.yaml`` says ``consent: required`` (the example project's settings).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from email_validator import EmailNotValidError, validate_email  # noqa: E402

from newsletter.audience.validate import check_address  # noqa: E402

FIRST = ["Amina", "Ben", "Chloé", "Dev", "Eilidh", "Farah", "George", "Hana", "Ivan", "Jo", "=1+2", "Zoë"]
LAST = ["Okafor", "Hughes", "Martin", "Patel", "Campbell", "Haddad", "Osei", "Smith, Jr", 'O"Neil', "Müller"]
BIG = ["gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.com", "icloud.com", "btinternet.com"]
UNICODE = ["bücher.example", "xn--bcher-kva.example", "例え.jp", "münchen.example"]
TAGS = ["", "community", "community;cuppas", "partners", "cuppas", "research;community", "volunteers"]
PLAIN_FIRST = ["amina", "ben", "chloe", "dev", "eilidh", "farah", "george", "hana", "ivan", "jo"]
PLAIN_LAST = ["okafor", "hughes", "martin", "patel", "campbell", "haddad", "osei", "o'neil", "smith-jones"]
STATUSES = ["subscribed"] * 88 + ["unsubscribed"] * 6 + ["bounced"] * 3 + ["complained"] + [""] * 2
INVALID = ["{i}@@example.org", "user{i}@localhost", "john..doe{i}@example.com", "person{i}.example.org", "x{i}@b"]


def generate(path: Path, rows: int, seed: int = 2024, *, evidence: bool = False) -> None:
    rnd = random.Random(seed)
    small = [f"org{n}.example.org" for n in range(50_000)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            ["email", "first_name", "last_name", "status", "tags", "subscribed_at", "source", "company"]
            + (["consent_source", "consent_at", "consent_wording"] if evidence else [])
        )
        previous = "first@example.org"
        for i in range(rows):
            r = rnd.random()
            if r < 0.005:
                email = rnd.choice(INVALID).format(i=i)
            elif r < 0.015:
                email = previous.upper() if rnd.random() < 0.5 else previous.title()
            elif r < 0.025:
                email = f"user{i}@{rnd.choice(UNICODE)}" if rnd.random() < 0.7 else f"zoë{i}@example.org"
            else:
                domain = rnd.choice(BIG) if rnd.random() < 0.6 else rnd.choice(small)
                email = f"{rnd.choice(PLAIN_FIRST)}.{rnd.choice(PLAIN_LAST)}{i}@{domain}"
                if rnd.random() < 0.1:
                    email = email.title()
            previous = email
            proof: list[str] = []
            if evidence:
                e = rnd.random()
                proof = (
                    ["", "", ""]
                    if e < 0.02
                    else ["website", "2024-13-01", "signup/form.md@3f2a1c9"]
                    if e < 0.03
                    else [
                        rnd.choice(["https://example.org/join", "June fair, stand 4", "paper form"]),
                        f"20{rnd.randint(18, 24)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}T10:00:00Z",
                        rnd.choice(["signup/form.md@3f2a1c9", "signup/fair.md@0a1b2c3d"]),
                    ]
                )
            w.writerow(
                [
                    email,
                    rnd.choice(FIRST),
                    rnd.choice(LAST),
                    rnd.choice(STATUSES),
                    rnd.choice(TAGS),
                    f"20{rnd.randint(18, 24)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}",
                    rnd.choice(["website", "eventbrite", "import"]),
                    "" if rnd.random() < 0.8 else "Acme, Ltd",
                ]
                + proof
            )


def run_stats(folder: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``newsletter subscribers stats`` process."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "subscribers", "stats", "--format", "json"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"stats failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def per_address(sample: list[str]) -> tuple[float, float]:
    def library(a: str) -> None:
        try:
            validate_email(a.strip(), check_deliverability=False)
        except EmailNotValidError:
            pass

    timings = []
    for fn in (library, check_address):
        start = time.perf_counter()
        for a in sample:
            fn(a)
        timings.append((time.perf_counter() - start) / len(sample) * 1e6)
    return timings[0], timings[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--evidence", action="store_true", help="add the evidence-of-consent columns")
    ap.add_argument("--require-consent", action="store_true", help="stats with consent: required")
    args = ap.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-subscribers-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "subscribers.csv"
    t = time.perf_counter()
    generate(path, args.rows, evidence=args.evidence)
    if args.require_consent:
        settings = (REPO / "newsletter.yaml").read_text(encoding="utf-8")
        (folder / "newsletter.yaml").write_text(settings + "consent: required\n", encoding="utf-8")
    print(f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")

    cold, warm = [], []
    for _ in range(args.runs):
        shutil.rmtree(folder / ".newsletter", ignore_errors=True)
        cold.append(run_stats(folder))
        warm.append(run_stats(folder))

    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        sample = [row[0] for _, row in zip(range(50_000), reader)]
    lib_us, ours_us = per_address(sample)
    plain = [a for a in sample if a.isascii() and a.count("@") == 1 and " " not in a]
    plain_lib_us, plain_ours_us = per_address(plain)

    def show(name: str, runs: list[tuple[float, float]]) -> None:
        times = [w for w, _ in runs]
        peak = max(m for _, m in runs)
        every = ", ".join(f"{x:.2f}" for x in times)
        print(f"{name}: median {statistics.median(times):.2f} s of {len(runs)} (all: {every}), peak RSS {peak:.0f} MB")

    show("stats, cold (no cached figures)", cold)
    show("stats, warm (figures cached, list unchanged)", warm)
    print(
        f"validation of the first {len(sample):,} addresses: email-validator alone {lib_us:.1f} µs/address, "
        f"ours {ours_us:.2f} µs/address ({lib_us / ours_us:.0f}× faster)"
    )
    print(
        f"  of which the {len(plain):,} plain ASCII ones: email-validator alone {plain_lib_us:.1f} µs/address, "
        f"ours {plain_ours_us:.2f} µs/address ({plain_lib_us / plain_ours_us:.0f}× faster)"
    )
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
