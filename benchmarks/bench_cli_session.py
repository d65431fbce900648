"""``status --json`` and ``inspect`` on a big session: 200 MB of transcripts and 100,000 journal events.

    .venv/bin/python benchmarks/bench_cli_session.py [--mb 200] [--events 100000] [--runs 5]

The session's transcripts are bench_transcript's (80% in the main file, the rest in 30 subagent files) and
its journal is written as the hook writes it (tests/helpers.write_journal). Each command runs in a child
process that reports its own peak RSS (ru_maxrss), in two situations:

- cold: no watcher state, so the command folds the journal from its first event and reads every transcript
  from its first byte (streamed: neither is held in memory);
- current: a real watcher daemon ran on the session and stopped (its checkpoint is current), so the command
  resumes from the checkpoint and folds only what came after it (nothing here); the output says which.

Medians of ``--runs`` runs, alternated. Targets (issue 13): <= 0.5 s with a current checkpoint; peak RSS
<= 100 MB on a cold rebuild.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))
from bench_watch import base_transcripts  # noqa: E402

from tests.helpers import write_journal  # noqa: E402

SESSION = "5ec0717e-0000-4000-8000-0000000c1100"
RUN = (
    "import resource,sys;from ecc_hooks.cli import main;code=main(sys.argv[1:]);sys.stdout.flush();"
    "sys.stderr.write('PEAK %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss);sys.exit(code)"
)


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """(seconds, peak RSS in MB, stdout) of one child run."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return seconds, int(done.stderr.decode().split("PEAK ")[1].split()[0]) / 1024, done.stdout


def origin(kind: str, out: bytes) -> str:
    if kind == "status":
        snap = json.loads(out)["context"].get("snapshot") or {}
        return f"{snap.get('source')} (+{snap.get('newerEvents') or 0} events)"
    return "handoff facts"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "ecc-hooks-bench-transcripts"))
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    scratch = Path(tempfile.mkdtemp(prefix="ecc-bench-cli-"))
    try:
        home = scratch / "home"
        env.update(ECC_HOOKS_HOME=str(home), ECC_HOOKS_NO_WATCHER="1", HOME=str(scratch))
        main_t, subs = base_transcripts(Path(args.cache), args.mb)
        transcript = scratch / "projects" / "-w" / f"{SESSION}.jsonl"
        (transcript.parent / SESSION / "subagents").mkdir(parents=True)
        shutil.copyfile(main_t, transcript)
        for sub in subs:
            shutil.copyfile(sub, transcript.parent / SESSION / "subagents" / sub.name)
        journal = home / "sessions" / SESSION / "events.jsonl"
        size = write_journal(journal, args.events, SESSION, transcript=str(transcript))
        mb = sum(f.stat().st_size for f in transcript.parent.rglob("*.jsonl")) / 1e6
        print(
            f"session: {mb:.0f} MB of transcripts ({1 + len(subs)} files), {args.events} events ({size / 1e6:.0f} MB)"
        )
        commands = {
            "status": ["status", "--json", "--no-gh", "--session", SESSION],
            "inspect": ["inspect", SESSION],
        }
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        notes = {}
        for _ in range(args.runs):
            for kind, argv in commands.items():
                seconds, peak, out = timed(argv, env)
                results.setdefault((kind, "cold"), []).append((seconds, peak))
                notes[(kind, "cold")] = origin(kind, out)
        # A real watcher folds the session, then stops (SIGTERM: its checkpoint is written on the way out).
        daemon = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks.cli.watch", "--foreground", "--idle-exit", "900"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        state = home / "sessions" / SESSION / "watch-state.json"
        deadline = time.monotonic() + 600
        while not (state.exists() and (home / "sessions" / SESSION / "hud.json").exists()):
            if time.monotonic() > deadline:
                raise SystemExit("the watcher wrote no checkpoint")
            time.sleep(0.1)
        time.sleep(2)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        print(f"checkpoint: {state.stat().st_size / 1e6:.1f} MB")
        for _ in range(args.runs):
            for kind, argv in commands.items():
                seconds, peak, out = timed(argv, env)
                results.setdefault((kind, "current"), []).append((seconds, peak))
                notes[(kind, "current")] = origin(kind, out)
        for (kind, situation), runs in sorted(results.items()):
            print(
                f"{kind:<8} {situation:<8} median {statistics.median(r[0] for r in runs):6.3f} s   "
                f"peak RSS median {statistics.median(r[1] for r in runs):6.1f} MB   from: {notes[(kind, situation)]}"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
