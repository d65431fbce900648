"""How much a recording hook call costs over a bare interpreter start (run it; it is not a test).

Paired runs on one machine, alternating ``python -c pass`` and the hook command the installer writes
(``install.python_argv``: ``python -S -c ...``, no site, no runpy) fed a realistic PostToolUse payload (same interpreter, a temporary ECC_HOOKS_HOME), so drift in machine
load hits both arms alike. Prints both medians and p95s and the median of per-pair ratios.
Target: ratio at most 1.5.

By default both arms run with a bytecode cache (``PYTHONPYCACHEPREFIX`` in a temp dir, warmed
first), as an installed package has; ``--no-bytecode-cache`` keeps the environment's setting
(e.g. ``PYTHONDONTWRITEBYTECODE=1``), which makes every call compile our modules from source.

    python benchmarks/bench_hook.py [--pairs 40] [--no-bytecode-cache]
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

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "captures" / "hook-payloads.jsonl"
TARGET = 1.5


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
    """Run the paired benchmark and print the figures; exit 1 when the median ratio is over target."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=40, help="paired runs (at least 30; default 40)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="keep the environment's bytecode setting")
    args = parser.parse_args(argv)
    if args.pairs < 30:
        parser.error("--pairs must be at least 30")

    payload = realistic_payload()
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        env = {**os.environ, "ECC_HOOKS_HOME": os.path.join(tmp, "ecc")}
        env.pop("ECC_HOOKS_RAW", None)
        if not args.no_bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        bare = [sys.executable, "-c", "pass"]
        hook = install.python_argv(install.HOOK_MODULE)  # exactly what Claude Code runs
        for _ in range(3):  # warm the page cache (and the bytecode cache) for both arms
            timed(bare, env, b"")
            timed(hook, env, payload)
        base_times, hook_times = [], []
        for i in range(args.pairs):
            if i % 2:  # alternate which arm goes first, so neither always runs on a warmer machine
                hook_times.append(timed(hook, env, payload))
                base_times.append(timed(bare, env, b""))
            else:
                base_times.append(timed(bare, env, b""))
                hook_times.append(timed(hook, env, payload))
        journal = Path(tmp, "ecc", "sessions", json.loads(payload)["session_id"], "events.jsonl")
        recorded = len(journal.read_bytes().splitlines()) if journal.exists() else 0

    ratios = [h / b for h, b in zip(hook_times, base_times)]
    ms = 1000.0
    ratio = statistics.median(ratios)
    print(f"python     {sys.version.split()[0]} ({sys.executable})")
    print(f"bytecode   {'as the environment says' if args.no_bytecode_cache else 'cached (PYTHONPYCACHEPREFIX)'}")
    print(f"pairs      {args.pairs}  (events recorded: {recorded})")
    print(f"bare       median {statistics.median(base_times) * ms:6.1f} ms   p95 {p95(base_times) * ms:6.1f} ms")
    print(f"hook       median {statistics.median(hook_times) * ms:6.1f} ms   p95 {p95(hook_times) * ms:6.1f} ms")
    print(f"ratio      median of per-pair ratios {ratio:.2f}x  (target <= {TARGET}x)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
