"""How fast is our status line, against a bare interpreter, against itself on a huge session, and against
the status lines people use today (a script, not a test).

    .venv/bin/python benchmarks/bench_statusline.py [--prefix DIR] [--pairs 40] [--rounds 15,9,5] [--sizes 1,20,200]

1. Rotated rounds: ``python -c pass``, ``python -S -c pass`` and the status line command the installer writes
   (``install.python_argv``: ``python -S -c ...``, no site, no runpy) with a watcher running (it renders; the
   command hands it stdin over its local socket) and without one (the command renders itself); same
   interpreter, normal bytecode caches, no ``PYTHON*`` variable (``honest.py``). Target (issue 14): median
   per-round ratio to ``python -S -c pass`` at most 1.3x, at 1 MB and at 200 MB.
2. Paired runs of ours on a session whose transcript is 200 MB vs one of 1 MB (same stdin otherwise).
   Target <= 1.15: the status line must not read the transcript.
3. Ours against ``ccstatusline``, ``ccusage statusline`` (its native binary), ``ccline`` (CCometixLine,
   Rust) and ``ecc-universal``'s ``scripts/hooks/ecc-statusline.js``, installed from npm into a temp
   prefix (``--prefix`` reuses one; nothing is installed globally, no npx), each run directly (``node
   script`` or the binary) on the same stdin, with realistic transcripts of 1, 20 and 200 MB
   (``bench_transcript.generate``) in a throwaway HOME, appending one assistant record before every run
   as a live session does. Rounds are interleaved (arm order rotates every round). Targets: faster than
   every one at 20 MB and up; at 1 MB faster than all but the Rust one and within 1.3x of it.

A competitor that cannot be installed or run is reported with the reason, and the rest still runs.
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

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import honest  # noqa: E402
from bench_transcript import assistant, generate  # noqa: E402

CAPTURE = REPO / "tests" / "fixtures" / "captures" / "statusline-stdin.jsonl"
SESSION = "5f0c2a7e-1b7d-4c55-9a43-b3b1d2f0a9e1"
PACKAGES = {  # pinned: ccusage 20.0.26 has no published native package for linux-x64; 20.0.24 has
    "ccstatusline": "ccstatusline@2.2.30",
    "ccusage": "ccusage@20.0.24",
    "ccline": "@cometix/ccline-linux-x64@1.1.2",
    "ecc-universal": "ecc-universal@2.0.0",
}
SIZES_MB = (1, 20, 200)
TIMEOUT = 120.0


def stdin_for(transcript: str, cwd: str) -> bytes:
    """A realistic status line stdin (the capture's last line) pointing at ``transcript``."""
    line = None
    if CAPTURE.exists():
        lines = [x for x in CAPTURE.read_text().splitlines() if x.strip()]
        line = json.loads(lines[-1]) if lines else None
    data = line or {
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "cost": {"total_cost_usd": 0.261, "total_duration_ms": 17171, "total_lines_added": 0, "total_lines_removed": 0},
        "context_window": {"context_window_size": 200000, "used_percentage": 26, "remaining_percentage": 74},
    }
    data.update(
        {
            "session_id": SESSION,
            "transcript_path": transcript,
            "cwd": cwd,
            "workspace": {"current_dir": cwd, "project_dir": cwd, "added_dirs": []},
        }
    )
    return json.dumps(data).encode()


def install(prefix: Path) -> dict[str, str]:
    """npm-install the competitors into ``prefix`` (skipped when present); name -> problem for failures."""
    problems: dict[str, str] = {}
    if shutil.which("npm") is None:
        return {name: "npm not found" for name in PACKAGES}
    missing = [
        spec for name, spec in PACKAGES.items() if not (prefix / "node_modules" / spec.rsplit("@", 1)[0]).exists()
    ]
    if missing:
        result = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *missing],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            tail = [x for x in result.stderr.splitlines() if "npm error" in x][:3]
            for spec in missing:
                problems[[n for n, s in PACKAGES.items() if s == spec][0]] = "npm install failed: " + " / ".join(tail)
    return problems


def competitors(prefix: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The command of each competitor (run directly), and why a missing one is missing."""
    nm = prefix / "node_modules"
    node = shutil.which("node")
    found: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    candidates = {
        "ccstatusline": (
            [node, str(nm / "ccstatusline" / "dist" / "ccstatusline.js")] if node else None,
            nm / "ccstatusline" / "dist" / "ccstatusline.js",
        ),
        "ccusage": (
            [str(nm / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"), "statusline"],
            nm / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage",
        ),
        "ccline": (
            [str(nm / "@cometix" / "ccline-linux-x64" / "ccline")],
            nm / "@cometix" / "ccline-linux-x64" / "ccline",
        ),
        "ecc-universal": (
            [node, str(nm / "ecc-universal" / "scripts" / "hooks" / "ecc-statusline.js")] if node else None,
            nm / "ecc-universal" / "scripts" / "hooks" / "ecc-statusline.js",
        ),
    }
    for name, (argv, path) in candidates.items():
        if argv is None:
            problems[name] = "node not found"
        elif not path.exists():
            problems[name] = f"not installed ({path} missing)"
        else:
            if not os.access(path, os.X_OK) and path.suffix != ".js":
                # npm does not mark a native package's binary executable when the package declares no
                # "bin" (ccusage's launcher fixes the mode itself before running it); do the same.
                path.chmod(path.stat().st_mode | 0o111)
            found[name] = argv
    return found, problems


def timed(
    argv: list[str], env: dict[str, str], stdin: bytes, cwd: str | None = None
) -> tuple[float, bytes, bytes, int]:
    """Wall time of one process from spawn to exit, with its stdout, stderr and exit code."""
    start = time.perf_counter()
    try:
        result = subprocess.run(argv, input=stdin, env=env, capture_output=True, timeout=TIMEOUT, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return time.perf_counter() - start, b"", repr(exc).encode(), -1
    return time.perf_counter() - start, result.stdout, result.stderr, result.returncode


class Session:
    """A throwaway HOME holding one transcript of a given size, growing by one record per run."""

    def __init__(self, root: Path, megabytes: int) -> None:
        self.home = root / f"home-{megabytes}mb"
        self.work = self.home / "work"
        self.work.mkdir(parents=True)
        project = self.home / ".claude" / "projects" / "".join(c if c.isalnum() else "-" for c in str(self.work))
        project.mkdir(parents=True)
        self.transcript = project / f"{SESSION}.jsonl"
        self.responses = generate(str(self.transcript), megabytes)
        self.next = self.responses
        self.stdin = stdin_for(str(self.transcript), str(self.work))
        self.ecc_home = self.home / ".claude" / "ecc"

    def append(self) -> None:
        """One more assistant record, as a live session writes before the status line refreshes."""
        with open(self.transcript, "ab") as fh:
            fh.write(assistant(self.next, 0, out=50))
        self.next += 1

    def env(self, base: dict[str, str]) -> dict[str, str]:
        env = {
            **base,
            "HOME": str(self.home),
            "ECC_HOOKS_HOME": str(self.ecc_home),
            "CLAUDE_CONFIG_DIR": str(self.home / ".claude"),
            "COLUMNS": "120",
        }
        return env

    def snapshot(self) -> None:
        """A HUD snapshot like the watcher's, so our arm renders everything it would in a live session."""
        from ecc_hooks.statusline.segments import sample

        directory = self.ecc_home / "sessions" / SESSION
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hud.json").write_text(json.dumps(sample.SNAPSHOT))


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main(argv: list[str] | None = None) -> int:
    """Run the three comparisons and print one table; exit 0 (figures are reported, not asserted)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", help="npm prefix with the competitors (default: a temp dir, installed now)")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--rounds", default="15,9,5", help="rounds per transcript size 1,20,200 MB")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES_MB)))
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    rounds = dict(zip(SIZES_MB, (int(x) for x in args.rounds.split(","))))

    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="bench-statusline-") as tmp:
        root = Path(tmp)
        base, dropped = honest.clean_env()  # no PYTHON* variable favours an arm; normal __pycache__ caches
        base.pop("NO_COLOR", None)
        from ecc_hooks.cli import install as installer  # (``install`` here is this script's npm installer)

        ours = honest.as_claude_runs(installer.python_argv(installer.STATUSLINE_MODULE))  # as Claude Code runs it
        bare = honest.floors()["python -c pass"]
        bare_s = honest.floors()["python -S -c pass"]

        t0 = time.perf_counter()
        sessions = {mb: Session(root, mb) for mb in sorted(set(sizes) | {1})}
        for s in sessions.values():
            s.snapshot()
        print(
            "transcripts: "
            + ", ".join(
                f"{mb} MB ({s.transcript.stat().st_size / 1e6:.1f} MB, {s.responses} responses)"
                for mb, s in sessions.items()
            )
            + f", generated in {time.perf_counter() - t0:.0f} s"
        )

        # The installed command asks the watcher to render when one runs (the http transport's endpoint), as
        # after `ecc-hooks install`; a copy of the 1 MB home without an endpoint measures it rendering itself.
        alone = root / "ecc-alone"
        shutil.copytree(sessions[1].ecc_home, alone)
        daemons = []
        for sess in sessions.values():
            env = sess.env(base)
            subprocess.run(
                [sys.executable, "-c", "from ecc_hooks.core import endpoint; endpoint.ensure()"],
                env=env,
                cwd=str(REPO),
                check=True,
            )
            daemons.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ecc_hooks.cli.watch", "--foreground", "--idle-exit", "900"],
                    env=env,
                    cwd=str(REPO),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(3)  # the watchers listen (each checks its sessions first)

        # 1. ours vs a bare interpreter
        s1 = sessions[1]
        env1 = s1.env(base)
        env_alone = {**env1, "ECC_HOOKS_HOME": str(alone)}
        for _ in range(3):
            timed(bare, env1, b"")
            timed(bare_s, env1, b"")
            timed(ours, env1, s1.stdin)
            timed(ours, env_alone, s1.stdin)
        bare_t, bare_s_t, ours_t, alone_t = [], [], [], []
        for i in range(args.pairs):
            arms = [(bare, b"", bare_t), (bare_s, b"", bare_s_t), (ours, s1.stdin, ours_t), (ours, s1.stdin, alone_t)]
            for argv_, data, sink in arms[i % 4 :] + arms[: i % 4]:
                if sink is alone_t:
                    s1.append()
                    alone = timed(argv_, env_alone, data)
                    sink.append(alone[0])
                    continue
                if argv_ is ours:
                    s1.append()
                elapsed, out, err, rc = timed(argv_, env1, data)
                if rc != 0:
                    raise SystemExit(f"{argv_} exited {rc}: {err.decode()!r}")
                sink.append(elapsed)
        ratio_bare = statistics.median(o / b for o, b in zip(ours_t, bare_t))
        ratio_floor_1 = statistics.median(o / b for o, b in zip(ours_t, bare_s_t))
        ratio_alone = statistics.median(o / b for o, b in zip(alone_t, bare_s_t))

        # 2. ours on 200 MB vs 1 MB
        big = sessions[max(sessions)]
        envb = big.env(base)
        for _ in range(3):
            timed(ours, envb, big.stdin)
        small_t, big_t, floor_t = [], [], []
        for i in range(args.pairs):
            arms = [(s1, env1, small_t), (big, envb, big_t), (None, envb, floor_t)]
            for sess, env, sink in arms[i % 3 :] + arms[: i % 3]:
                if sess is None:
                    sink.append(timed(bare_s, env, b"")[0])
                    continue
                sess.append()
                sink.append(timed(ours, env, sess.stdin)[0])
        ratio_big = statistics.median(b / s for b, s in zip(big_t, small_t))
        ratio_floor_big = statistics.median(b / f for b, f in zip(big_t, floor_t))

        # 3. competitors
        prefix = Path(args.prefix) if args.prefix else root / "npm"
        problems = {} if args.prefix else install(prefix)
        found, missing = competitors(prefix)
        for name, why in missing.items():
            problems.setdefault(name, why)
        shim = ["sh", str(REPO / "statusline" / "ecc-statusline")]
        base["ECC_HOOKS_PYTHON"] = sys.executable
        arms3 = {"ecc-hooks": ours, "ecc-hooks shim": shim, **{n: a for n, a in found.items() if n not in problems}}
        results: dict[tuple[str, int], list[float]] = {}
        samples: dict[str, str] = {}
        for mb in sizes:
            sess = sessions[mb]
            env = sess.env(base)
            for name, argv_ in list(arms3.items()):  # warm-up, and check each runs at all
                sess.append()
                elapsed, out, err, rc = timed(argv_, env, sess.stdin, cwd=str(sess.work))
                if rc != 0 or not out.strip():
                    problems[name] = (
                        (f"exit {rc}, " if rc else "")
                        + f"no output at {mb} MB: "
                        + (err.decode(errors="replace").strip().splitlines() or ["(no stderr)"])[-1][:160]
                    )
                    del arms3[name]
                    continue
                samples.setdefault(name, out.decode(errors="replace").strip().splitlines()[0][:200])
            names = list(arms3)
            for r in range(rounds.get(mb, 5)):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    sess.append()
                    elapsed, out, err, rc = timed(arms3[name], env, sess.stdin, cwd=str(sess.work))
                    results.setdefault((name, mb), []).append(elapsed)
        for daemon in daemons:
            daemon.terminate()
            daemon.wait(timeout=60)

    print()
    print(
        f"python {sys.version.split()[0]} ({sys.executable}); node {subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip() if shutil.which('node') else '-'}; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"env: PYTHON* variables dropped for every arm: {', '.join(dropped) or 'none were set'}; sh -c as Claude Code"
    )
    print(
        f"1. render vs bare interpreter ({args.pairs} rounds): ours {median_ms(ours_t):.1f} ms, python -c pass "
        f"{median_ms(bare_t):.1f} ms ({ratio_bare:.2f}x), python -S -c pass {median_ms(bare_s_t):.1f} ms: "
        f"{ratio_floor_1:.2f}x at 1 MB (target <= 1.3x: {'met' if ratio_floor_1 <= 1.3 else 'NOT met'}; the watcher "
        f"renders)"
    )
    print(
        f"   with no watcher running (the command renders itself): {median_ms(alone_t):.1f} ms, {ratio_alone:.2f}x "
        "python -S -c pass"
    )
    print(
        f"   at {max(sessions)} MB: ours {median_ms(big_t):.1f} ms vs python -S -c pass {median_ms(floor_t):.1f} ms: "
        f"{ratio_floor_big:.2f}x (target <= 1.3x: {'met' if ratio_floor_big <= 1.3 else 'NOT met'})"
    )
    print(
        f"2. 200 MB vs 1 MB transcript ({args.pairs} pairs): {median_ms(big_t):.1f} ms vs {median_ms(small_t):.1f} ms, "
        f"median per-pair ratio {ratio_big:.2f}x (target <= 1.15x: {'met' if ratio_big <= 1.15 else 'NOT met'})"
    )
    print(
        "   (ecc-hooks = the installer's command, python -S -c: no site, no runpy; "
        "ecc-hooks shim = the plugin's statusline/ecc-statusline: sh + the same python -S -c)"
    )
    print(
        "3. against other status lines (median wall ms per run, one record appended before each; ratio = ours / theirs):"
    )
    header = f"   {'status line':<15}" + "".join(f"{str(mb) + ' MB':>22}" for mb in sizes)
    print(header)
    for name in arms3:
        row = f"   {name:<15}"
        for mb in sizes:
            times = results.get((name, mb))
            ours_ms = median_ms(results[("ecc-hooks", mb)]) if results.get(("ecc-hooks", mb)) else None
            if not times:
                row += f"{'-':>22}"
            elif name.startswith("ecc-hooks"):
                row += f"{median_ms(times):>10.1f} ms (n={len(times):>2})".rjust(22)
            else:
                ratio = ours_ms / median_ms(times) if ours_ms else float("nan")
                row += f"{median_ms(times):>9.1f} ms  x{ratio:.2f}".rjust(22)
        print(row)
    print("   verdicts:")
    for mb in sizes:
        ours_ms = median_ms(results[("ecc-hooks", mb)]) if results.get(("ecc-hooks", mb)) else None
        if ours_ms is None:
            continue
        for name in arms3:
            if name.startswith("ecc-hooks") or not results.get((name, mb)):
                continue
            theirs = median_ms(results[(name, mb)])
            shim_ms = median_ms(results[("ecc-hooks shim", mb)]) if results.get(("ecc-hooks shim", mb)) else None
            if mb >= 20 or name != "ccline":
                goal, ok = "faster", ours_ms < theirs
            else:
                goal, ok = "within 1.3x", ours_ms <= 1.3 * theirs
            shim_ok = shim_ms is not None and (shim_ms < theirs if goal == "faster" else shim_ms <= 1.3 * theirs)
            print(
                f"     {mb:>3} MB vs {name:<14} target {goal:<12} theirs {theirs:8.1f} ms; ours {ours_ms:7.1f} ms: "
                f"{'met' if ok else 'NOT met'}; shim {shim_ms or float('nan'):7.1f} ms: {'met' if shim_ok else 'NOT met'}"
            )
    if problems:
        print("   not measured:")
        for name, why in problems.items():
            print(f"     {name}: {why}")
    print("   first output line of each (1 MB run):")
    for name, text in samples.items():
        print(f"     {name}: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
