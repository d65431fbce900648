"""The merge queue of a session with 20 finished workers, with its pairwise checks.

    .venv/bin/python benchmarks/bench_merge_queue.py [--workers 20] [--runs 5]

A real session (``session create --execute``) on a repository of 200 files; each worker commits a change to
files of its own and every fourth one also edits a file another touched (so the queue meets pairwise conflicts
and keeps testing later entries against every accepted one). Once all have finished, ``session merge-queue
--json`` (what the user runs) is timed ``--runs`` times: median wall time. Target: under 2 s.
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
import honest  # noqa: E402


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@x", *args], cwd=cwd, check=True, capture_output=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env, dropped = honest.clean_env()
    scratch = Path(tempfile.mkdtemp(prefix="bench-mq-"))
    env.update(ECC_HOOKS_HOME=str(scratch / "home"), ECC_HOOKS_TMUX_SOCKET=f"bench-mq-{os.getpid()}",
               PYTHONPATH=str(REPO), ECC_HOOKS_SUPERVISOR_TICK="0.3")  # fmt: skip
    print(f"dropped: {', '.join(dropped) or 'nothing'}")
    repo = scratch / "repo"
    repo.mkdir()
    try:
        git(repo, "init", "-q", "-b", "main")
        for n in range(200):
            (repo / f"f{n:03}.txt").write_text("".join(f"line {i}\n" for i in range(40)))
        git(repo, "add", ".")
        git(repo, "commit", "-qm", "base")
        workers = []
        for n in range(args.workers):
            edits = [f"f{n * 5 + k:03}.txt" for k in range(3)]
            if n % 4 == 3:
                edits.append(f"f{(n - 3) * 5:03}.txt")  # the same file as an earlier worker: a pairwise conflict
            step = " && ".join(f"sed -i '1s/.*/worker {n}/' {f}" for f in edits)
            step += f" && git add -A && git -c user.name=w -c user.email=w@x commit -qm 'worker {n}'"
            workers.append({"name": f"w{n:02}", "task": f"change {n}", "launcherCommand": step, "runtime": "headless"})
        plan = scratch / "plan.json"
        plan.write_text(json.dumps({"sessionName": "mq", "repoRoot": str(repo), "workers": workers}))

        def ecc(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "ecc_hooks", *argv], cwd=repo, env=env, capture_output=True,
                                  text=True, timeout=600)  # fmt: skip

        done = ecc("session", "create", str(plan), "--execute")
        if done.returncode != 0:
            sys.exit(done.stderr)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = json.loads(ecc("session", "list", "--json").stdout)
            if all(w["state"] == "completed" for w in listed[0]["workers"]):
                break
            time.sleep(0.5)
        else:
            sys.exit("the workers did not finish")
        times, entries = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = ecc("session", "merge-queue", "mq", "--json")
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(done.stderr)
            entries = json.loads(done.stdout)
        ready = sum(1 for e in entries if e["readyToMerge"])
        after = sum(1 for e in entries if e["kind"] == "pair-conflict")
        print(f"{args.workers} finished workers: merge-queue {statistics.median(times):.2f} s median of {args.runs} "
              f"(min {min(times):.2f} s); {ready} ready, {after} merge-after")  # fmt: skip
    finally:
        lock = scratch / "home" / "supervisor.lock"
        pid = lock.read_text().strip() if lock.exists() else ""
        if pid.isdigit():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["tmux", "-L", env["ECC_HOOKS_TMUX_SOCKET"], "kill-server"], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
