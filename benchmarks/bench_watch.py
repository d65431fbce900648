"""Watcher latency and idle cost: ``python benchmarks/bench_watch.py [--events 1000] [--sessions 20]``.

Starts a real watcher daemon on a scratch ECC_HOOKS_HOME, appends real hook lines (``hook.handle`` on a
PreToolUse payload: the exact bytes the hook writes) one at a time, and times each append until the
session's hud.json shows it (``toolCalls.total`` grown). Then leaves the daemon idle and reads its CPU time
(utime + stime from /proc/<pid>/stat) over the interval. Runs once with one session and once with N live
sessions (events spread round-robin over them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def total(hud: Path) -> int:
    try:
        return json.loads(hud.read_bytes())["toolCalls"]["total"]
    except (OSError, ValueError, KeyError):
        return -1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(events: int, sessions: int, idle_seconds: float) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    home = scratch / "home"
    os.environ["ECC_HOOKS_HOME"] = str(home)
    os.environ["ECC_HOOKS_NO_WATCHER"] = "1"
    from ecc_hooks.capture import hook

    ids = [f"bench-{sessions}-{i:02d}" for i in range(sessions)]
    for sid in ids:
        hook.handle(
            json.dumps(
                {
                    "session_id": sid,
                    "hook_event_name": "SessionStart",
                    "source": "startup",
                    "cwd": str(scratch),
                    "transcript_path": str(scratch / f"{sid}.jsonl"),
                }
            ).encode(),
            None,
            time.time(),
        )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks.watch", "--foreground", "--idle-exit", "600"],
        cwd=str(REPO),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        huds = {sid: home / "sessions" / sid / "hud.json" for sid in ids}
        deadline = time.monotonic() + 60
        while any(total(h) < 0 for h in huds.values()):
            if time.monotonic() > deadline:
                raise SystemExit("watcher produced no snapshot")
            time.sleep(0.01)
        latencies = []
        for i in range(events):
            sid = ids[i % sessions]
            before = total(huds[sid])
            payload = {
                "session_id": sid,
                "hook_event_name": "PreToolUse",
                "tool_name": "Bash",
                "tool_use_id": f"toolu_{i}",
                "cwd": str(scratch),
                "transcript_path": str(scratch / f"{sid}.jsonl"),
                "tool_input": {"command": f"echo {i}", "description": "bench"},
            }
            t0 = time.perf_counter()
            hook.handle(json.dumps(payload).encode(), None, time.time())
            while total(huds[sid]) <= before:
                if time.perf_counter() - t0 > 10:
                    raise SystemExit(f"event {i} never reached hud.json")
                time.sleep(0.0005)
            latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(1.0)  # let the last debounce settle
        c0, t0 = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(idle_seconds)
        c1, t1 = cpu_seconds(daemon.pid), time.monotonic()
        print(
            f"sessions={sessions:<3} events={events}  latency hook-write -> hud.json: "
            f"p50 {statistics.median(latencies):6.1f} ms  p95 {pct(latencies, 0.95):6.1f} ms  "
            f"max {max(latencies):6.1f} ms   idle CPU {c1 - c0:.3f} s over {t1 - t0:.1f} s "
            f"({100 * (c1 - c0) / (t1 - t0):.2f}% of a core)"
        )
    finally:
        daemon.kill()
        daemon.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()
    run(args.events, 1, args.idle_seconds)
    run(args.events, args.sessions, args.idle_seconds)


if __name__ == "__main__":
    main()
