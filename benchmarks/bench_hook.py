"""How much a recording hook call costs over a bare interpreter start (run it; it is not a test).

Rounds of four arms on one machine, rotated so none always runs first: ``python -c pass``, ``python -S -c
pass`` and the hook command the installer writes (``install.python_argv``: ``python -S -c ...``, no site, no
runpy) fed a realistic PostToolUse payload twice: with the watcher running (the command hands the event to
it over its local socket and waits until it is recorded: what a session pays once its SessionStart hook has
started the watcher) and with none running (the command records it itself: the fallback). Each runs through
``sh -c`` as Claude Code runs it, with a temporary ECC_HOOKS_HOME. No PYTHON* variable reaches any arm
(benchmarks/honest.py: e.g. PYTHONDONTWRITEBYTECODE would make the full interpreter recompile site's modules
every time while the -S arms do not), and every arm uses the normal __pycache__ caches, warmed first. Prints
medians, p95s, the median per-round ratio of each hook arm to each floor, and checks that every event was
recorded. Target (issue 14): at most 1.2x ``python -S -c pass``.

    python benchmarks/bench_hook.py [--pairs 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ecc_hooks.cli import install

sys.path.insert(0, str(Path(__file__).resolve().parent))
import honest

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "captures" / "hook-payloads.jsonl"
TARGET = 1.2  # issue 14: the hook process at most 1.2x python -S -c pass


def realistic_payload() -> bytes:
    """A real PostToolUse (Bash) payload from the captures, or an equivalent one when they are absent."""
    if CAPTURES.exists():
        for line in CAPTURES.read_text().splitlines():
            if line.strip():
                payload = json.loads(line)
                if payload.get("hook_event_name") == "PostToolUse" and payload.get("tool_name") == "Bash":
                    return json.dumps(payload).encode()
    return json.dumps(
        {
            "session_id": "c78d397b-44c1-4aa3-87d6-c4ced37d260f",
            "transcript_path": "/home/dev/.claude/projects/x.jsonl",
            "cwd": "/home/dev/work",
            "prompt_id": "93acacfc-843a-4888-acbc-e1e47b7376ff",
            "permission_mode": "default",
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "echo hello > hello.txt && ls", "description": "make a file"},
            "tool_response": {"stdout": "hello.txt", "stderr": "", "interrupted": False, "isImage": False},
            "tool_use_id": "toolu_01",
            "duration_ms": 63,
        }
    ).encode()


def timed(argv: list[str], env: dict[str, str], stdin: bytes) -> float:
    """Wall time of one process from spawn to exit, in seconds (fails loudly on a non-zero exit)."""
    start = time.perf_counter()
    result = subprocess.run(argv, input=stdin, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or result.stderr:
        raise SystemExit(f"{argv} failed: {result.returncode} {result.stderr.decode()!r}")
    return elapsed


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Run the paired benchmark and print the figures; exit 1 when the ratio to ``python -S`` is over target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=40, help="rounds of the three arms (at least 30; default 40)")
    args = parser.parse_args(argv)
    if args.pairs < 30:
        parser.error("--pairs must be at least 30")

    payload = realistic_payload()
    session = json.loads(payload)["session_id"]
    tool_id = json.loads(payload)["tool_use_id"].encode()
    calls = iter(range(1 << 30))

    def fed(name: str) -> bytes:
        """The payload of a new tool call for a hook arm (its own tool_use_id: the journal's writer records an
        event once, capture.dedupe), nothing for a floor."""
        return payload.replace(tool_id, tool_id + b"-%d" % next(calls)) if name in homes else b""

    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        env, dropped = honest.clean_env()
        env.pop("ECC_HOOKS_RAW", None)
        homes = {"hook (watcher runs)": os.path.join(tmp, "served"), "hook (no watcher)": os.path.join(tmp, "alone")}
        envs = {name: {**env, "ECC_HOOKS_HOME": home, "ECC_HOOKS_NO_WATCHER": "1"} for name, home in homes.items()}
        watcher = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks.cli.watch", "--foreground", "--idle-exit", "900"],
            env=envs["hook (watcher runs)"],
            cwd=str(Path(__file__).resolve().parent.parent),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            socket_path = Path(homes["hook (watcher runs)"], "watcher.sock")
            deadline = time.monotonic() + 30
            while not socket_path.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            hook = honest.as_claude_runs(install.python_argv(install.HOOK_MODULE))
            arms = {**honest.floors(), **{name: hook for name in homes}}
            for _ in range(5):  # warm the page cache and the normal __pycache__ caches of every arm
                for name, arm in arms.items():
                    timed(arm, envs.get(name, env), fed(name))
            times: dict[str, list[float]] = {name: [] for name in arms}
            names = list(arms)
            for i in range(args.pairs):
                order = names[i % len(names) :] + names[: i % len(names)]  # rotate: no arm always first
                for name in order:
                    times[name].append(timed(arms[name], envs.get(name, env), fed(name)))
        finally:
            watcher.terminate()
            watcher.wait(timeout=60)
        recorded = {}
        for name, home in homes.items():
            journal = Path(home, "sessions", session, "events.jsonl")
            recorded[name] = len(journal.read_bytes().splitlines()) if journal.exists() else 0

    ms = 1000.0
    print(f"python     {sys.version.split()[0]} ({sys.executable}); commands run through sh -c, as Claude Code does")
    print(f"env        PYTHON* variables dropped for every arm: {', '.join(dropped) or 'none were set'}")
    runs = args.pairs + 5
    print(f"rounds     {args.pairs}  (events recorded of {runs} sent: {recorded})")
    for name, values in times.items():
        print(f"{name:<20} median {statistics.median(values) * ms:6.1f} ms   p95 {p95(values) * ms:6.1f} ms")
    result = 0 if all(count == runs for count in recorded.values()) else 1
    for name in homes:
        for floor, target in (("python -c pass", None), ("python -S -c pass", TARGET)):
            ratio = statistics.median(h / b for h, b in zip(times[name], times[floor]))
            verdict = f" (target <= {target}x: {'met' if ratio <= target else 'NOT met'})" if target else ""
            print(f"{name} / {floor:<18} median of per-round ratios {ratio:.2f}x{verdict}")
            if target and ratio > target and name == "hook (watcher runs)":
                result = 1
    return result


if __name__ == "__main__":
    sys.exit(main())
