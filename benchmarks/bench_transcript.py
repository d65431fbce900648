"""Benchmark the usage engine on a realistic 200 MB transcript (a script, not a test).

    /work/venv/bin/python benchmarks/bench_transcript.py [--mb 200] [--appends 300]

Generates a transcript in a temp dir (assistant responses written as several lines per message id with
growing output, user tool_result lines with big contents, attachments, system lines), then in a child
process (so the generator's memory does not count): a cold scan (MB/s, peak RSS from ru_maxrss), then the
time to fold one appended line (median over many appends) at full size. Targets: >= 100 MB/s cold,
peak RSS < 100 MB, one appended line < 5 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def _ts(i: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_750_000_000 + i * 7)) + ".000Z"


def _line(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def assistant(i: int, part: int, out: int, side: bool = False) -> bytes:
    """One content-block line of response ``i``."""
    block = (
        {"type": "text", "text": "Let me look at that. " * random.randint(5, 60)}
        if part == 0
        else {"type": "tool_use", "id": f"toolu_{i}_{part}", "name": "Bash", "input": {"command": "pytest -q " * 20}}
    )
    return _line(
        {
            "parentUuid": f"p{i}",
            "isSidechain": side,
            "userType": "external",
            "cwd": "/home/dev/work",
            "sessionId": "bench",
            "version": "2.1.328",
            "gitBranch": "main",
            "message": {
                "id": f"msg_{i:08d}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [block],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 4 + i % 50,
                    "cache_creation_input_tokens": 1200 + i % 900,
                    "cache_read_input_tokens": 40_000 + (i * 37) % 90_000,
                    "output_tokens": out,
                    "cache_creation": {"ephemeral_5m_input_tokens": 1200 + i % 900, "ephemeral_1h_input_tokens": 0},
                    "service_tier": "standard",
                },
            },
            "requestId": f"req_{i}",
            "type": "assistant",
            "uuid": f"u{i}-{part}",
            "timestamp": _ts(i),
        }
    )


def generate(path: str, megabytes: int) -> int:
    """Write about ``megabytes`` MB of transcript; returns the number of responses written."""
    random.seed(7)
    blobs = ["".join(random.choice('abcdefghij \n{}"\\') for _ in range(n)) for n in (300, 2000, 6000, 40000)]
    weights = (50, 30, 15, 5)  # most tool results are small, a few are huge
    target = megabytes * 1_000_000
    i = 0
    with open(path, "wb") as fh:
        while fh.tell() < target:
            parts = random.randint(1, 3)
            for part in range(parts):
                fh.write(assistant(i, part, out=(part + 1) * 40))
            fh.write(
                _line(
                    {
                        "type": "user",
                        "isSidechain": False,
                        "timestamp": _ts(i),
                        "uuid": f"r{i}",
                        "message": {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": f"toolu_{i}_1",
                                    "content": random.choices(blobs, weights)[0],
                                    "is_error": False,
                                }
                            ],
                        },
                        "toolUseResult": {"stdout": random.choice(blobs[:2]), "stderr": "", "interrupted": False},
                    }
                )
            )
            if i % 5 == 0:
                fh.write(
                    _line(
                        {
                            "type": "attachment",
                            "timestamp": _ts(i),
                            "attachment": {"type": "file", "content": random.choice(blobs[:2])},
                        }
                    )
                )
            if i % 50 == 0:
                fh.write(_line({"type": "system", "subtype": "stop_hook_summary", "timestamp": _ts(i)}))
            i += 1
    return i


def child(path: str, appends: int, start: int) -> None:
    """Measure in a fresh process: cold scan, then per-append folds; print one JSON line."""
    from ecc_hooks.sources.usage import UsageTracker

    size = os.path.getsize(path)
    t0 = time.perf_counter()
    tracker = UsageTracker(path, env={})
    usage = tracker.update()
    cold = time.perf_counter() - t0
    rss_after_cold_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    folds = []
    for k in range(appends):
        line = assistant(start + k, 0, out=77)
        with open(path, "ab") as fh:
            fh.write(line)
        t1 = time.perf_counter()
        tracker.update()
        folds.append((time.perf_counter() - t1) * 1000)
    t2 = time.perf_counter()
    state = tracker.dumps_state()
    dump_ms = (time.perf_counter() - t2) * 1000
    print(
        json.dumps(
            {
                "bytes": size,
                "cold_s": cold,
                "mb_per_s": size / 1e6 / cold,
                "messages": usage.messages,
                "lines": usage.lines,
                "cost": str(usage.cost.computed_usd),
                "peak_rss_mb_after_cold": rss_after_cold_kb / 1024,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "fold_ms_median": statistics.median(folds),
                "fold_ms_p95": sorted(folds)[int(len(folds) * 0.95)],
                "state_bytes": len(state),
                "state_dump_ms": dump_ms,
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Generate, then measure in a child process, and print the figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "START"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.appends, int(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench-session.jsonl")
        t0 = time.perf_counter()
        responses = generate(path, args.mb)
        print(
            f"generated {os.path.getsize(path) / 1e6:.1f} MB, {responses} responses in {time.perf_counter() - t0:.1f} s"
        )
        out = subprocess.run(
            [sys.executable, __file__, "--appends", str(args.appends), "--child", path, str(responses)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"cold scan: {r['mb_per_s']:.0f} MB/s ({r['cold_s']:.2f} s, {r['lines']} lines, {r['messages']} messages,"
            f" ${r['cost']})   target >= 100 MB/s"
        )
        print(
            f"peak RSS: {r['peak_rss_mb_after_cold']:.1f} MB after cold scan, {r['peak_rss_mb']:.1f} MB overall"
            f" (RUSAGE_CHILDREN {children_kb / 1024:.1f} MB)   target < 100 MB"
        )
        print(
            f"one appended line folded: median {r['fold_ms_median']:.3f} ms, p95 {r['fold_ms_p95']:.3f} ms"
            f" over {args.appends} appends   target < 5 ms"
        )
        print(f"state: {r['state_bytes'] / 1e6:.1f} MB JSON, dumped in {r['state_dump_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
