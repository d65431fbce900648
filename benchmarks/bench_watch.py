"""The watcher on live sessions with real transcripts: ``python benchmarks/bench_watch.py [--events 400]``.

Three arms, each on a scratch ECC_HOOKS_HOME with a real watcher daemon (``--foreground``):

- 1 session whose transcripts hold 1 MB,
- 1 session whose transcripts hold 200 MB,
- 20 sessions starting together, 20 MB each,
- 20 new sessions starting together (their transcripts begin empty and grow with the events).

A session's transcripts are what Claude Code writes (bench_transcript's generator: responses as several
lines per message id, big tool results, attachments), 80% in the main file and the rest in 30 subagent
files. Every session starts with a SessionStart hook line (the exact bytes the hook writes: ``hook.handle``)
and the time until its first hud.json is taken. Then, round-robin over the sessions, each event is what
the client does for one tool call: the assistant's tool_use line appended to the transcript and the
PreToolUse hook line, then the tool_result line and the PostToolUse hook line; each hook line is timed
until hud.json shows it (``toolCalls.total`` grown, ``pending`` back down). Printed per arm: p50/p95
event -> snapshot, the daemon's CPU per event (utime + stime over the events, including the state
checkpoint written when they stop), its peak RSS (VmHWM), and its idle CPU over ``--idle-seconds``.

Targets (issue 13): p95 <= 50 ms at every size; CPU per event at 200 MB within 1.5x of 1 MB; peak RSS
<= 100 MB with 20 sessions; idle CPU near zero; every one of 20 new sessions starting together has its
snapshot within 1 s of its first event.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from bench_transcript import assistant, generate  # noqa: E402

SUBAGENTS = 30
MAIN_SHARE = 0.8


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def read_hud(path: Path) -> dict | None:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def tools(path: Path) -> tuple[int, int]:
    doc = read_hud(path) or {}
    calls = doc.get("toolCalls") or {}
    return calls.get("total", -1), calls.get("pending", -1)


def base_transcripts(cache: Path, megabytes: float) -> tuple[Path, list[Path]]:
    """A main transcript and SUBAGENTS subagent files together holding ``megabytes`` MB (made once per size)."""
    folder = cache / f"{megabytes:g}mb"
    main = folder / "main.jsonl"
    subs = [folder / f"agent-a{k:02d}.jsonl" for k in range(SUBAGENTS)]
    if not main.exists():
        folder.mkdir(parents=True, exist_ok=True)
        if megabytes >= 2:
            generate(str(main), max(1, round(megabytes * MAIN_SHARE)))
        else:
            _small(main, megabytes * MAIN_SHARE)
        sub_mb = megabytes * (1 - MAIN_SHARE) / SUBAGENTS
        for sub in subs:
            _small(sub, sub_mb)
    return main, subs


def _small(path: Path, megabytes: float) -> None:
    """Below generate()'s 1 MB grain: the first bytes of a generated file, cut at a line end."""
    if megabytes <= 0:
        path.write_bytes(b"")  # a session that just started
        return
    big = path.with_suffix(".tmp")
    generate(str(big), max(1, math.ceil(megabytes)))
    data = big.read_bytes()[: int(megabytes * 1_000_000)]
    path.write_bytes(data[: data.rfind(b"\n") + 1])
    big.unlink()


def run_arm(
    label: str, sessions: int, megabytes: float, events: int, idle_seconds: float, cache: Path, daemon_args: list[str]
) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    home = scratch / "home"
    os.environ["ECC_HOOKS_HOME"] = str(home)
    os.environ["ECC_HOOKS_NO_WATCHER"] = "1"
    from ecc_hooks.capture import hook

    main, subs = base_transcripts(cache, megabytes)
    ids = [f"bench-{sessions}-{i:02d}" for i in range(sessions)]
    transcripts = {}
    for sid in ids:  # each session its own project folder, as separate worktrees have
        path = scratch / "projects" / f"-w-{sid}" / f"{sid}.jsonl"
        (path.parent / sid / "subagents").mkdir(parents=True)
        shutil.copyfile(main, path)
        for sub in subs:
            shutil.copyfile(sub, path.parent / sid / "subagents" / sub.name)
        transcripts[sid] = path
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks.cli.watch", "--foreground", "--idle-exit", "900", *daemon_args],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    huds = {sid: home / "sessions" / sid / "hud.json" for sid in ids}

    def fire(sid: str, event: str, **extra: object) -> None:
        payload = {
            "session_id": sid,
            "hook_event_name": event,
            "cwd": str(scratch),
            "transcript_path": str(transcripts[sid]),
            "permission_mode": "default",
            **extra,
        }
        hook.handle(json.dumps(payload).encode(), None, time.time())

    try:
        deadline = time.monotonic() + 60
        while not (home / "watch.lock").exists():  # the daemon owns its lock before it watches anything
            if time.monotonic() > deadline:
                raise SystemExit("the watcher did not start")
            time.sleep(0.01)
        time.sleep(0.5)
        started = {}
        for sid in ids:  # all at once
            started[sid] = time.perf_counter()
            fire(sid, "SessionStart", source="startup")
        first = {}
        deadline = time.monotonic() + 600
        while len(first) < len(ids):
            for sid in ids:
                if sid not in first and huds[sid].exists():
                    first[sid] = (time.perf_counter() - started[sid]) * 1000
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(ids) - len(first)} sessions never got a snapshot")
            time.sleep(0.002)
        # wait until every snapshot has its cost (the cold scan of its transcripts is done)
        while megabytes > 0 and any(
            (read_hud(h) or {}).get("cost", {}).get("computedUsd") is None for h in huds.values()
        ):
            time.sleep(0.01)
        time.sleep(1.5)

        latencies: list[float] = []
        c0 = cpu_seconds(daemon.pid)
        for i in range(events):
            sid = ids[i % sessions]
            tool_id = f"toolu_bench_{i}"
            with transcripts[sid].open("ab") as fh:
                fh.write(assistant(10_000_000 + i, 1, out=80))
            total, pending = tools(huds[sid])
            t0 = time.perf_counter()
            fire(sid, "PreToolUse", tool_name="Bash", tool_use_id=tool_id, tool_input={"command": f"echo {i}"})
            while tools(huds[sid])[0] <= total:
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"event {i} never reached hud.json")
                time.sleep(0.0005)
            latencies.append((time.perf_counter() - t0) * 1000)
            with transcripts[sid].open("ab") as fh:
                fh.write(
                    json.dumps(
                        {
                            "type": "user",
                            "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id}]},
                        }
                    ).encode()
                    + b"\n"
                )
            total, pending = tools(huds[sid])
            t0 = time.perf_counter()
            fire(
                sid,
                "PostToolUse",
                tool_name="Bash",
                tool_use_id=tool_id,
                tool_input={"command": f"echo {i}"},
                tool_response={"stdout": str(i), "stderr": "", "interrupted": False},
            )
            while tools(huds[sid])[1] >= pending:
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"event {i} never reached hud.json")
                time.sleep(0.0005)
            latencies.append((time.perf_counter() - t0) * 1000)
        time.sleep(2.0)  # the state checkpoint written once the sessions go quiet counts
        cpu_per_event = (cpu_seconds(daemon.pid) - c0) / len(latencies) * 1000
        i0, t0 = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(idle_seconds)
        idle = (cpu_seconds(daemon.pid) - i0) / (time.monotonic() - t0)
        result = {
            "arm": label,
            "sessions": sessions,
            "mb_per_session": megabytes,
            "events": len(latencies),
            "first_snapshot_ms_max": max(first.values()),
            "first_snapshot_ms_median": statistics.median(first.values()),
            "p50_ms": statistics.median(latencies),
            "p95_ms": pct(latencies, 0.95),
            "cpu_ms_per_event": cpu_per_event,
            "peak_rss_mb": peak_rss_mb(daemon.pid),
            "idle_cpu_pct": 100 * idle,
        }
        print(
            f"{label:<26} events {result['events']:>4}  event->snapshot p50 {result['p50_ms']:5.1f} ms "
            f"p95 {result['p95_ms']:5.1f} ms  CPU/event {cpu_per_event:5.2f} ms  peak RSS "
            f"{result['peak_rss_mb']:5.1f} MB  idle {result['idle_cpu_pct']:.2f}% of a core  "
            f"first snapshot median {result['first_snapshot_ms_median']:.0f} ms, max {result['first_snapshot_ms_max']:.0f} ms",
            flush=True,
        )
        return result
    finally:
        daemon.kill()
        daemon.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400, help="tool calls per arm (two hook events each)")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--big-mb", type=float, default=200.0)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "ecc-hooks-bench-transcripts"))
    parser.add_argument("--step-ms", type=int, default=None, help="the daemon's notify step (default: its own)")
    parser.add_argument("--only", type=int, nargs="*", help="run only these arms (0, 1, 2)")
    args = parser.parse_args()
    daemon_args = ["--step-ms", str(args.step_ms)] if args.step_ms else []
    cache = Path(args.cache)
    arms = [
        ("1 session, 1 MB", 1, 1.0),
        (f"1 session, {args.big_mb:g} MB", 1, args.big_mb),
        ("20 sessions, 20 MB each", 20, 20.0),
        ("20 new sessions together", 20, 0.0),
    ]
    if args.only is not None:
        for k in args.only:
            run_arm(*arms[k], args.events, args.idle_seconds, cache, daemon_args)
        return
    results = [run_arm(label, n, mb, args.events, args.idle_seconds, cache, daemon_args) for label, n, mb in arms]
    small, big, many, new = results
    ratio = big["cpu_ms_per_event"] / small["cpu_ms_per_event"]
    print(
        f"CPU per event {args.big_mb:g} MB / 1 MB: {ratio:.2f}x (target <= 1.5x); "
        f"p95 worst {max(r['p95_ms'] for r in results):.1f} ms (target <= 50 ms); "
        f"peak RSS with 20 sessions {many['peak_rss_mb']:.1f} MB (target <= 100 MB); "
        f"20 new sessions: last first snapshot {new['first_snapshot_ms_max']:.0f} ms after its SessionStart "
        "(target <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
