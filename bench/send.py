"""Benchmark sending: SendGrid path at scale, the crash drill, and SMTP against mailmerge.

    python bench/send.py [--sizes 100000 1000000] [--runs 3] [--kills 30] [--smtp 2000]
                         [--only sendgrid|crash|smtp] [--tls]

* sendgrid: ``newsletter send --yes --provider sendgrid`` on a generated list of N
  subscribers through the local SendGrid-compatible server (tests/sendgrid_server.py,
  in its own process, validating the first request against SendGrid's schema). End to
  end: start-up, reading the list, the journal, every request. Each run is timed twice,
  alternating: cold (nothing kept: the send tallies the list itself) and after
  ``newsletter check`` (run first, untimed, as the editor's guide has it, so the send
  finds the list's figures kept). Reports wall time, recipients/s and peak RSS (the
  sender and its request process together), the connections (TCP and TLS handshakes)
  the send opened, and checks that every address arrived once. With ``--tls`` both
  kinds of run are also made over HTTPS (the server with a test certificate, trusted
  through ``SSL_CERT_FILE``), alternating with plain HTTP, and the ratios are printed.
  With ``--against DIR`` (a checkout of another version, e.g. ``git worktree add
  ../wt-old REV``), each kind of run is also made with that version's code, alternating
  with this one on the same list and the same server code, and the ratios of the
  medians are printed: the side-by-side figure docs/performance.md quotes.
* crash: the drills of tests/test_crash.py: ``--kills`` SIGKILLs of the sender alone
  during 20,000-recipient sends (batches of 1,000), resumed with no flag; then a
  power-cut drill (the whole process group killed) of 10 kills.
* smtp: the same 2,000 recipients and the same message through the same local SMTP
  server (aiosmtpd in its own process): ``newsletter send --provider smtp`` against
  ``mailmerge --no-dry-run --no-limit`` (``pip install mailmerge``; benchmark only).
  Runs alternate so both see the same machine; medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.crash import ISSUE, run_drill, write_list  # noqa: E402
from tests.sendgrid_server import KEY, SendGridServer  # noqa: E402
from tests.smtp_server import free_port  # noqa: E402


def project(tmp: Path, extra_settings: str = "") -> Path:
    root = tmp / "project"
    root.mkdir()
    shutil.copy(REPO / "newsletter.yaml", root / "newsletter.yaml")
    shutil.copytree(REPO / "issues", root / "issues")
    if extra_settings:
        (root / "newsletter.yaml").write_text((root / "newsletter.yaml").read_text() + extra_settings)
    return root


def base_env(code: Path = REPO, **extra: str) -> dict[str, str]:
    """The environment of a run of the newsletter code at ``code``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGRID_", "SMTP_"))}
    env.update(PYTHONPATH=str(code), NO_COLOR="1", **extra)
    return env


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants now (0 once it is gone)."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            pass
    return total


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one command. The peak is of the process
    and its children together (a SendGrid send's request process), sampled every 50 ms,
    and never below the kernel's own peak for the process alone."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    sampled = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            sampled[0] = max(sampled[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return seconds, max(usage.ru_maxrss * 1024, sampled[0]) / 2**20, proc.returncode


def bench_sendgrid(sizes: list[int], runs: int, tls: bool, against: Path | None = None) -> list[str]:
    rows = []
    cert = None
    if tls:
        from tests.smtp_server import make_certificate

        cert_dir = Path(tempfile.mkdtemp())
        cert = make_certificate(cert_dir)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = project(Path(tmp))
            write_list(root / "list.csv", n, 0)
            kinds = ["cold", "after check"] + (["cold over TLS", "checked, TLS"] if tls else [])
            times: dict[str, list[float]] = {k: [] for k in kinds}
            handshakes: dict[str, list[int]] = {k: [] for k in kinds}
            peaks: list[float] = []
            theirs: dict[str, list[float]] = {k: [] for k in kinds}
            their_peaks: list[float] = []
            for _ in range(runs if n <= 200_000 else max(1, runs // 2)):
                for kind in times:  # alternating, so all see the same machine
                    checked = kind.startswith(("after check", "checked"))
                    kind_cert = cert if kind.endswith("TLS") else None
                    seconds, peak, opened = _one_send(root, n, checked=checked, cert=kind_cert)
                    times[kind].append(seconds)
                    handshakes[kind].append(opened)
                    peaks.append(peak)
                    print(
                        f"  sendgrid {n:>9,} ({kind:>13}): {seconds:6.2f} s, {n / seconds:9,.0f} recipients/s, "
                        f"peak RSS {peak:5.0f} MB, {opened} connection(s) for {-(-n // 1000)} requests",
                        flush=True,
                    )
                    if against is not None:
                        seconds, peak, _ = _one_send(root, n, checked=checked, cert=kind_cert, code=against)
                        theirs[kind].append(seconds)
                        their_peaks.append(peak)
                        print(
                            f"  sendgrid {n:>9,} ({kind:>13}) with {against.name}: {seconds:6.2f} s, peak RSS {peak:5.0f} MB",
                            flush=True,
                        )
            if against is not None:
                for kind in kinds:
                    mine, other = statistics.median(times[kind]), statistics.median(theirs[kind])
                    print(
                        f"  sendgrid {n:>9,} side by side ({kind}): {mine:.2f} s against {other:.2f} s with "
                        f"{against.name} = {mine / other:.2f}× (medians of {len(times[kind])}); peak RSS "
                        f"{max(peaks):.0f} against {max(their_peaks):.0f} MB",
                        flush=True,
                    )
            cold, warm = statistics.median(times["cold"]), statistics.median(times["after check"])
            print(
                f"  sendgrid {n:>9,}: median {cold:.2f} s cold, {warm:.2f} s after `newsletter check` "
                f"over {len(times['cold'])} runs each",
                flush=True,
            )
            tls_part = ""
            if tls:
                secure = statistics.median(times["cold over TLS"])
                secure_warm = statistics.median(times["checked, TLS"])
                opened_tls = sorted(set(handshakes["cold over TLS"] + handshakes["checked, TLS"]))
                print(
                    f"  sendgrid {n:>9,}: median {secure:.2f} s cold over TLS = {secure / cold:.2f}× plain HTTP; "
                    f"{secure_warm:.2f} s after check over TLS = {secure_warm / warm:.2f}× plain; "
                    f"connections per send over TLS: {opened_tls}",
                    flush=True,
                )
                tls_part = (
                    f"; over TLS {secure:.1f} s cold ({secure / cold:.2f}× plain), {secure_warm:.1f} s after "
                    f"`check` ({secure_warm / warm:.2f}×), {max(opened_tls)} handshake(s) per send"
                )
            rows.append(
                f"| send {n:,} recipients, SendGrid API (local server), end to end | "
                f"{'≤ 15 s, ≤ 250 MB' if n >= 1_000_000 else '-'} | {cold:.1f} s cold "
                f"({n / cold:,.0f}/s); {warm:.1f} s after `check`; peak {max(peaks):.0f} MB{tls_part} "
                f"| `python bench/send.py --only sendgrid{' --tls' if tls else ''}` |"
            )
    return rows


def _one_send(
    root: Path, n: int, *, checked: bool, cert: tuple[Path, Path] | None = None, code: Path = REPO
) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, connections opened) of one real send of the list in
    ``root`` to a fresh local server (over TLS with ``cert``). Cold: nothing kept from
    before (the send tallies the list itself). After check: ``newsletter check`` ran
    first, untimed, as in the editor's guide, so the send finds the list's figures kept."""
    shutil.rmtree(root / ".newsletter", ignore_errors=True)
    shutil.rmtree(root / "sends", ignore_errors=True)  # the last run's send record: else "already sent"
    if checked:
        subprocess.run(
            [sys.executable, "-m", "newsletter", "check", ISSUE, "--list", "list.csv"],
            cwd=root,
            env=base_env(code),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    port = free_port()
    args = [str(port), "first"] + ([str(cert[0]), str(cert[1])] if cert else [])
    server = subprocess.Popen([sys.executable, "-m", "tests.sendgrid_server", *args], cwd=REPO, env=base_env())
    scheme = "https" if cert else "http"
    context = None
    if cert:
        import ssl

        context = ssl.create_default_context(cafile=str(cert[0]))
    try:
        _wait_http(f"{scheme}://127.0.0.1:{port}/stats", context)
        extra = {"SSL_CERT_FILE": str(cert[0])} if cert else {}
        env = base_env(code, SENDGRID_API_KEY=KEY, SENDGRID_API_HOST=f"{scheme}://127.0.0.1:{port}", **extra)
        # --no-sync: the list's sync with SendGrid's suppressions (a few small calls first, with
        # an account that has none; bench/sync.py measures it) is left out of the send's figures
        cmd = [
            sys.executable,
            "-m",
            "newsletter",
            "send",
            ISSUE,
            "--yes",
            "--provider",
            "sendgrid",
            "--list",
            "list.csv",
            "--no-sync",
        ]
        seconds, peak, _ = timed(cmd, root, env)
        stats = json.loads(urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/stats", context=context).read())
    finally:
        server.terminate()
        server.wait()
    assert stats["accepted"] == n and stats["unique"] == n and stats["invalid"] == 0, stats
    return seconds, peak, stats["connections"] - 2  # less the two GETs of /stats


def _wait_http(url: str, context: object = None) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1, context=context).read()  # type: ignore[arg-type]
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"server at {url} did not start")


def bench_crash(kills: int) -> list[str]:
    rows = []
    # the power cut twice: settled from SendGrid's Email Logs (log_delay 0: the test server's log is
    # never behind), and with the log taken to lag (the default), when the editor decides
    for kind, n, count, log_delay in (("sender", 20_000, kills, None), ("group", 5_000, 10, 0.0), ("group", 5_000, 10, None)):
        with tempfile.TemporaryDirectory() as tmp:
            root = project(Path(tmp))
            t = time.perf_counter()
            with SendGridServer(delay=0.05, validate="first") as server:
                drill = run_drill(
                    root, server, kills=count, eligible=n, suppressed=n // 40, seed=count, kill=kind, log_delay=log_delay
                )
            seconds = time.perf_counter() - t
        who = "the sender alone" if kind == "sender" else "the whole process group (a power cut)"
        how = "" if kind == "sender" else (", Email Logs answer" if log_delay == 0 else ", Email Logs behind")
        goal = "0 questions" if kind == "sender" or log_delay == 0 else "unknown only for a started request"
        print(
            f"  crash drill ({who}{how}): {drill.kills} kills ({drill.mid_request} mid-request), "
            f"{drill.finished_sends} sends finished, {drill.questions} question(s), {drill.unknown_batches} "
            f"unknown request(s), {drill.settled_from_log} run(s) settled from the Email Logs; every check passed "
            f"in {seconds:.0f} s",
            flush=True,
        )
        rows.append(
            f"| crash drill: SIGKILL of {who}{how} ×{drill.kills} ({drill.mid_request} mid-request), "
            f"{n:,} recipients, resumed with the same command | 0 twice, 0 missing, {goal} | "
            f"passed: {drill.questions} question(s), {drill.unknown_batches} unknown request(s), "
            f"{drill.settled_from_log} settled from the log, "
            f"{drill.finished_sends} sends in {seconds:.0f} s | `python bench/send.py --only crash` |"
        )
    return rows


MAILMERGE_CONF = "[smtp_server]\nhost = 127.0.0.1\nport = {port}\n"


def mailmerge_template(root: Path) -> str:
    """The same message as a mailmerge template: our rendered parts, tokens as Jinja fields."""
    from newsletter.project import open_issue

    proj, _, rendered = open_issue(root / ISSUE)
    s = proj.settings

    def jinja(text: str) -> str:
        out = []
        for i, part in enumerate(text.split("__nl_")):
            if i == 0:
                out.append("{% raw %}" + part + "{% endraw %}")
                continue
            field, _, rest = part.partition("__")
            name = field.rsplit("_", 1)[0]
            out.append("{{" + name + "}}{% raw %}" + rest + "{% endraw %}")
        return "".join(out)

    return (
        "TO: {{email}}\n"
        f"FROM: {s.sender.name} <{s.sender.email}>\n"
        f"REPLY-TO: {s.replies_to.name} <{s.replies_to.email}>\n"
        f"SUBJECT: {rendered.subject}\n"
        "List-Unsubscribe: <{{unsubscribe_url}}>\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="nl-bench-boundary"\n\n'
        "--nl-bench-boundary\nContent-Type: text/plain; charset=utf-8\n\n"
        f"{jinja(rendered.text)}\n"
        "--nl-bench-boundary\nContent-Type: text/html; charset=utf-8\n\n"
        f"{jinja(rendered.html)}\n"
        "--nl-bench-boundary--\n"
    )


def bench_smtp(n: int, runs: int) -> list[str]:
    if shutil.which("mailmerge") is None:
        sys.exit("mailmerge is not installed: pip install mailmerge (benchmark only)")
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp))
        write_list(root / "list.csv", n, 0)
        with (root / "list.csv").open() as fh, (root / "mm.csv").open("w", newline="") as out:
            w = csv.writer(out)
            w.writerow(["email", "first_name", "unsubscribe_url"])
            for row in csv.DictReader(fh):
                w.writerow(
                    [
                        row["email"],
                        row["first_name"],
                        "https://www.coproductioncollective.co.uk/unsubscribe?token=0123456789abcdef",
                    ]
                )
        (root / "mm.txt").write_text(mailmerge_template(root))
        for _ in range(runs):
            for who in ("newsletter", "mailmerge"):
                port = free_port()
                server = subprocess.Popen(
                    [sys.executable, "-m", "tests.smtp_server", str(port)],
                    cwd=REPO,
                    env=base_env(),
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert server.stdout is not None and server.stdout.readline().strip() == "ready"
                try:
                    if who == "newsletter":
                        shutil.rmtree(root / ".newsletter", ignore_errors=True)
                        env = base_env(SMTP_URL=f"smtp://127.0.0.1:{port}")
                        cmd = [
                            sys.executable,
                            "-m",
                            "newsletter",
                            "send",
                            ISSUE,
                            "--yes",
                            "--provider",
                            "smtp",
                            "--list",
                            "list.csv",
                        ]
                    else:
                        (root / "mm.conf").write_text(MAILMERGE_CONF.format(port=port))
                        env = base_env()
                        cmd = [
                            "mailmerge",
                            "--no-dry-run",
                            "--no-limit",
                            "--template",
                            "mm.txt",
                            "--database",
                            "mm.csv",
                            "--config",
                            "mm.conf",
                            "--output-format",
                            "raw",
                        ]
                    seconds, _, _ = timed(cmd, root, env)
                finally:
                    server.terminate()
                    count = int(server.communicate()[0].strip() or 0)
                assert count == n, f"{who}: the server got {count} messages, not {n}"
                (ours if who == "newsletter" else theirs).append(seconds)
                print(f"  smtp {who:<10} {n} messages: {seconds:6.2f} s ({n / seconds:,.0f}/s)", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"  smtp: newsletter {n / a:,.0f}/s vs mailmerge {n / b:,.0f}/s: {b / a:.1f}×", flush=True)
    return [
        f"| SMTP, {n:,} messages to a local server: newsletter vs mailmerge | ≥ 3× | "
        f"{n / a:,.0f}/s vs {n / b:,.0f}/s = {b / a:.1f}× | `python bench/send.py --only smtp` |"
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--tls", action="store_true", help="also time each cold SendGrid send over HTTPS")
    ap.add_argument("--smtp", type=int, default=2000)
    ap.add_argument("--only", choices=["sendgrid", "crash", "smtp"])
    ap.add_argument("--against", type=Path, help="a checkout of another version to time side by side with this one")
    args = ap.parse_args()
    rows: list[str] = []
    if args.only in (None, "sendgrid"):
        rows += bench_sendgrid(args.sizes, args.runs, args.tls, args.against.resolve() if args.against else None)
    if args.only in (None, "smtp"):
        rows += bench_smtp(args.smtp, args.runs)
    if args.only in (None, "crash"):
        rows += bench_crash(args.kills)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
