"""``status`` on journals of 250k, 500k and 1,000,000 events: peak RSS and time (a script, not a test).

    .venv/bin/python benchmarks/bench_status_journal.py [--events 1000000] [--runs 3]

Journals are written as the hook writes them (tests/helpers.write_journal: prompts, Bash calls and results,
failures, stops). Each size is timed as ``python -m ecc_hooks status --json --no-gh`` in a child process that
reports its own peak RSS (ru_maxrss), alternated run by run with the floor: a child of the same interpreter
that only streams the journal's bytes in 4 MiB blocks. Medians per size; "linear" means the time per 1,000
events stays flat as the journal grows. Targets (issue 11): peak RSS under 100 MB at 1,000,000 events,
time linear in the journal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.helpers import write_journal  # noqa: E402

SESSION = "5ec0717e-0000-4000-8000-00000000b19b"
STATUS = (
    "import resource,sys;from ecc_hooks.cli import main;code=main(sys.argv[1:]);"
    "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss);sys.exit(code)"
)
FLOOR = (
    "import resource,sys\nn=0\nwith open(sys.argv[1],'rb',buffering=0) as f:\n"
    "    while (b:=f.read(1<<22)): n+=b.count(b'\\n')\n"
    "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child run."""
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {done.stderr.decode()[-2000:]}")
    peak_kb = int(done.stderr.decode().split("PEAK ")[1].split()[0])
    return seconds, peak_kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="the largest journal (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per size and arm (default 3)")
    args = parser.parse_args()
    sizes = [args.events // 4, args.events // 2, args.events]
    # Same interpreter and bytecode caches for both arms; no variable that would distort one of them.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    rows = []
    with tempfile.TemporaryDirectory(prefix="ecc-bench-status-") as scratch:
        env["ECC_HOOKS_HOME"] = scratch
        journal = Path(scratch) / "sessions" / SESSION / "events.jsonl"
        for events in sizes:
            size = write_journal(journal, events, SESSION)
            ours, floor = [], []
            for _ in range(args.runs):  # alternated: the machine's noise hits both arms alike
                ours.append(
                    timed([sys.executable, "-c", STATUS, "status", "--json", "--no-gh", "--session", SESSION], env)
                )
                floor.append(timed([sys.executable, "-c", FLOOR, str(journal)], env))
            t = statistics.median(s for s, _ in ours)
            rows.append(
                (
                    events,
                    size,
                    t,
                    max(m for _, m in ours),
                    statistics.median(s for s, _ in floor),
                    max(m for _, m in floor),
                )
            )
    print(
        f"{'events':>10} {'journal MB':>10} {'status s':>9} {'ms/1k ev':>9} {'peak MB':>8} {'floor s':>8} "
        f"{'floor MB':>8} {'x floor':>7}"
    )
    for events, size, t, peak, ft, fpeak in rows:
        print(
            f"{events:>10,} {size / 1e6:>10.0f} {t:>9.2f} {t / events * 1e6:>9.2f} {peak:>8.1f} {ft:>8.2f} "
            f"{fpeak:>8.1f} {t / ft:>7.1f}"
        )
    per_k = [t / events for events, _, t, *_ in rows]
    print(f"time per event, largest / smallest journal: {per_k[-1] / per_k[0]:.2f} (1.00 = linear)")
    print(f"peak RSS at {rows[-1][0]:,} events: {rows[-1][3]:.1f} MB (target < 100 MB)")
    return 0 if rows[-1][3] < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
