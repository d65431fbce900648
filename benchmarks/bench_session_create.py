"""``ecc-hooks session create --execute`` against ECC's ``orchestrate-worktrees.js --execute`` on the same plan,
and the supervisor's CPU with 20 idle live workers.

    .venv/bin/python benchmarks/bench_session_create.py [--sizes 1 5 20] [--runs 5] [--idle-seconds 60]

**Create** (what the user waits for): for each size, ``--runs`` rounds; each round makes two fresh copies of one
repository and runs both tools once on the same plan (ECC's format: ``sessionName``, ``repoRoot``,
``worktreeRoot``, ``launcherCommand``, ``workers[]``), the order alternated between rounds. Each tool has its own
private tmux server (ours on ``-L``, ECC's through ``TMUX_TMPDIR``, since its tmux calls name no socket). Both
create the worktrees, the coordination files and a pane per worker running the launcher (``sleep 600``). Ours hands
the create to its running supervisor (runtime.server: the imports are already done there); the supervisor runs from
the first round on, as in a user's day, and the first create of a day, with no supervisor running yet (the command
then starts one and hands it the create), is measured apart. Wall time of the command, medians and the ratio.

**Idle CPU**: one session of 20 workers whose agents sit idle (``sleep``: no hooks, so the supervisor reads
their screens, its heaviest path), the supervisor at its default tick; its CPU time (``/proc/<pid>/stat``
utime + stime) over ``--idle-seconds``, as a share of one core. Target: under 1%.

Both arms run with no ``PYTHON*`` variable (benchmarks/honest.py).
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

VERSION = (REPO / "tests" / "e2e" / "ECC_UNIVERSAL_VERSION").read_text().strip()
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ecc_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    root = cache / "ecc-hooks" / f"ecc-universal-{VERSION}" / "node_modules" / "ecc-universal"
    if not (root / "scripts" / "orchestrate-worktrees.js").exists():
        sys.exit(f"ecc-universal {VERSION} is not installed (see .ci/run)")
    return root


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@x", *args], cwd=cwd, check=True, capture_output=True
    )


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for n in range(50):  # a small project: worktree checkouts copy files
        (path / f"file{n}.txt").write_text(f"line {n}\n" * 20)
    git(path, "add", ".")
    git(path, "commit", "-qm", "first")
    return path


def plan(path: Path, repo: Path, name: str, workers: int, root: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "sessionName": name,
                "repoRoot": str(repo),
                "worktreeRoot": str(root),
                "launcherCommand": "sleep 600",
                "workers": [{"name": f"w{n}", "task": f"task {n}"} for n in range(workers)],
            }
        )
    )
    return path


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{argv[:3]} failed: {done.stdout}{done.stderr}")
    return seconds


def supervisor_pid(home: Path) -> int | None:
    try:
        text = (home / "supervisor.lock").read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()
    ecc = ecc_root()
    base, dropped = honest.clean_env()
    scratch = Path(tempfile.mkdtemp(prefix="bench-create-"))
    home = scratch / "ecc-home"
    ours_env = {**base, "ECC_HOOKS_HOME": str(home), "ECC_HOOKS_TMUX_SOCKET": f"bench-{os.getpid()}"}
    theirs_env = {k: v for k, v in base.items() if k != "TMUX"}
    theirs_env["TMUX_TMPDIR"] = str(scratch / "tmux")
    (scratch / "tmux").mkdir()
    print(f"dropped from both arms: {', '.join(dropped) or 'nothing'}")
    results: dict[int, dict[str, list[float]]] = {}
    try:
        for size in args.sizes:
            results[size] = {"ecc-hooks": [], "ECC": []}
            for run in range(args.runs):
                arms = ["ecc-hooks", "ECC"] if run % 2 == 0 else ["ECC", "ecc-hooks"]
                for arm in arms:
                    where = scratch / f"{arm.lower()}-{size}-{run}"
                    repo = make_repo(where / "repo")
                    name = f"s{size}r{run}"
                    p = plan(where / "plan.json", repo, name, size, where)
                    if arm == "ecc-hooks":
                        argv = [sys.executable, "-m", "ecc_hooks", "session", "create", str(p), "--execute"]
                        results[size][arm].append(timed(argv, {**ours_env, "PYTHONPATH": str(REPO)}, repo))
                        subprocess.run(["tmux", "-L", ours_env["ECC_HOOKS_TMUX_SOCKET"], "kill-session", "-t", f"={name}"],
                                       capture_output=True)  # fmt: skip
                    else:
                        argv = ["node", str(ecc / "scripts" / "orchestrate-worktrees.js"), str(p), "--execute"]
                        results[size][arm].append(timed(argv, theirs_env, repo))
                        subprocess.run(["tmux", "kill-server"], env=theirs_env, capture_output=True)
            ours, theirs = (statistics.median(results[size][a]) for a in ("ecc-hooks", "ECC"))
            print(f"{size:>3} worker(s): ecc-hooks {ours * 1000:7.0f} ms   ECC {theirs * 1000:7.0f} ms   "
                  f"ratio {ours / theirs:.2f}x   (medians of {args.runs})", flush=True)  # fmt: skip
        # cold: no supervisor runs yet (the first create of a day): the command starts one and waits for its helper
        cold = []
        for run in range(args.runs):
            pid = supervisor_pid(home)
            if pid:
                os.kill(pid, signal.SIGKILL)  # its zygote follows it and takes its socket away
            deadline = time.monotonic() + 10
            while (home / "supervisor.sock").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            where = scratch / f"cold-{run}"
            repo = make_repo(where / "repo")
            p = plan(where / "plan.json", repo, f"cold{run}", 1, where)
            argv = [sys.executable, "-m", "ecc_hooks", "session", "create", str(p), "--execute"]
            cold.append(timed(argv, {**ours_env, "PYTHONPATH": str(REPO)}, repo))
        theirs = statistics.median(results[args.sizes[0]]["ECC"])
        print(f"{args.sizes[0]:>3} worker(s), no supervisor running yet: ecc-hooks {statistics.median(cold) * 1000:7.0f} ms"
              f"   ratio {statistics.median(cold) / theirs:.2f}x", flush=True)  # fmt: skip
        pid = supervisor_pid(home)
        if pid:
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["tmux", "-L", ours_env["ECC_HOOKS_TMUX_SOCKET"], "kill-server"], capture_output=True)
        # idle CPU of the supervisor with 20 live workers, at its default tick
        idle_env = {k: v for k, v in ours_env.items() if k != "ECC_HOOKS_SUPERVISOR_TICK"}
        where = scratch / "idle"
        repo = make_repo(where / "repo")
        p = plan(where / "plan.json", repo, "idle", 20, where)
        argv = [sys.executable, "-m", "ecc_hooks", "session", "create", str(p), "--execute"]
        timed(argv, {**idle_env, "PYTHONPATH": str(REPO)}, repo)
        time.sleep(10)  # every worker launched and seen running
        pid = supervisor_pid(home)
        if not pid:
            sys.exit("no supervisor runs")
        before, start = cpu_seconds(pid), time.monotonic()
        time.sleep(args.idle_seconds)
        used, elapsed = cpu_seconds(pid) - before, time.monotonic() - start
        print(f"supervisor with 20 idle live workers: {100 * used / elapsed:.2f}% of one core "
              f"({used:.2f} s CPU in {elapsed:.0f} s)")  # fmt: skip
        os.kill(pid, signal.SIGKILL)
    finally:
        subprocess.run(["tmux", "-L", ours_env["ECC_HOOKS_TMUX_SOCKET"], "kill-server"], capture_output=True)
        subprocess.run(["tmux", "kill-server"], env=theirs_env, capture_output=True)
        pid = supervisor_pid(home)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
