"""kill -9 of the supervisor at random moments while sessions are created and run: after each restart no worker
runs twice, every worktree, branch and pane has its record, and the states come out right.

Each round creates a session of six workers (tmux and headless, ``maxParallel`` 2, each exits 0 or 1 after a
random short while) while a supervisor runs; the test kills the supervisor with SIGKILL at random moments and
restarts it the way a user would (any ``session`` command reconciles and starts one). The seed is printed on
failure (``ECC_HOOKS_KILL_SEED`` replays a run).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import stop_supervisor
from tests.helpers import REPO, alive, ecc, git, make_repo, wait_until

KILLS = 20
WORKERS = 6


def released(path: Path) -> str:
    return f"while [ ! -e {path} ]; do sleep 0.1; done"


def supervisor_pid() -> int | None:
    from ecc_hooks.runtime import daemon

    pid = daemon.running()
    return pid if pid and pid > 0 else None


def restart(repo: Path) -> None:
    done = ecc("session", "list", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr


def write_plan(path: Path, repo: Path, name: str, rng: random.Random, runs: Path) -> dict[str, int]:
    codes = {f"w{n}": rng.choice((0, 1)) for n in range(WORKERS)}
    workers = []
    for n, (slug, code) in enumerate(codes.items()):
        pause = rng.uniform(0.1, 1.2)
        step = f'echo "$ECC_SESSION $ECC_WORKER $ECC_HOOKS_LAUNCH" >> {runs}; sleep {pause:.2f}; exit {code}'
        runtime = "headless" if n % 3 == 2 else "tmux"
        workers.append({"name": slug, "task": "t", "launcherCommand": step, "runtime": runtime})
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "maxParallel": 2, "workers": workers}))
    return codes


def finished(repo: Path, names: list[str]) -> bool:
    done = ecc("session", "list", "--json", cwd=repo)
    if done.returncode != 0:
        return False
    sessions = {s["session"]: s for s in json.loads(done.stdout)}
    return all(
        name in sessions and all(w["state"] in ("completed", "failed") for w in sessions[name]["workers"])
        for name in names
    )


def test_kill_9_at_random_moments_never_runs_a_worker_twice_or_loses_a_record(tmp_path: Path, runtime: str) -> None:
    seed = int(os.environ.get("ECC_HOOKS_KILL_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    repo = make_repo(tmp_path / "repo")
    runs = tmp_path / "runs.log"
    restart(repo)  # a supervisor runs before the first create
    kills, names, expected = 0, [], {}
    round_no = 0
    while kills < KILLS:
        round_no += 1
        name = f"k{round_no}"
        names.append(name)
        codes = write_plan(tmp_path / f"{name}.json", repo, name, rng, runs)
        expected[name] = codes
        create = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks", "session", "create", str(tmp_path / f"{name}.json"), "--execute"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        deadline = time.monotonic() + 120
        while not finished(repo, [name]) and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.0, 0.6))
            pid = supervisor_pid()
            if pid:
                os.kill(pid, signal.SIGKILL)
                wait_until(lambda pid=pid: not alive(pid), 10, "the supervisor to die")
                kills += 1
            if create.poll() is not None or rng.random() < 0.5:
                restart(repo)
        _out, err = create.communicate(timeout=120)
        assert create.returncode == 0, f"seed {seed}: {err}"
        restart(repo)
    wait_until(lambda: finished(repo, names), 120, f"seed {seed}: every worker to finish")
    stop_supervisor()

    # no worker ran twice, every one ran
    lines = [line.split() for line in runs.read_text().splitlines()]
    started = [(s, w) for s, w, _token in lines]
    assert len(started) == len(set(started)), f"seed {seed}: a worker ran twice: {sorted(started)}"
    from ecc_hooks.runtime import store

    opened = store.Store()
    records = {(w.session, w.slug): w for w in opened.workers()}
    missing = sorted({(s, w) for s in names for w in expected[s]} - set(started))
    assert not missing, f"seed {seed}: never ran: " + "; ".join(
        f"{key}: {records[key].state} ({records[key].reason}) launches {records[key].launches} "
        f"history {[tuple(r)[3:] for r in opened.history(*key)]}"
        for key in missing
    )

    # every worktree, branch and pane has its record; the states are right
    worktrees = [line.split()[1] for line in git(repo, "worktree", "list", "--porcelain").splitlines()
                 if line.startswith("worktree ") and line.split()[1] != str(repo)]  # fmt: skip
    assert sorted(worktrees) == sorted(w.worktree for w in records.values()), f"seed {seed}"
    branches = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/orchestrator-*").split()
    assert sorted(branches) == sorted(w.branch for w in records.values()), f"seed {seed}"
    panes = subprocess.run(
        ["tmux", "-L", runtime, "list-panes", "-a", "-F", "#{session_name} #{pane_id} #{pane_title}"],
        capture_output=True, text=True,
    ).stdout.split("\n")  # fmt: skip
    for line in filter(None, panes):
        session, pane, title = (line.split(" ", 2) + [""])[:3]
        if title in expected.get(session, {}):
            assert records[(session, title)].pane == pane, f"seed {seed}: pane {pane} of {session}/{title} unrecorded"
    for (session, slug), worker in records.items():
        want = "completed" if expected[session][slug] == 0 else "failed"
        assert worker.state == want, f"seed {seed}: {session}/{slug} is {worker.state} ({worker.reason}), not {want}"
        assert worker.launches == 1, f"seed {seed}: {session}/{slug} launched {worker.launches} times"
    assert kills >= KILLS


@pytest.mark.parametrize("runtime_kind", ["tmux", "headless"])
@pytest.mark.parametrize("point", ["before-spawn", "after-spawn"])
def test_a_supervisor_killed_inside_a_launch_starts_the_worker_exactly_once(
    tmp_path: Path, runtime: str, point: str, runtime_kind: str
) -> None:
    """The two writes of a launch (the ``starting`` record, then the process's pid or pane) with a kill -9
    between them, and just before the process: the restarted supervisor adopts the process or starts it, once."""
    repo = make_repo(tmp_path / "repo")
    runs = tmp_path / "runs.log"
    release = tmp_path / "release"  # "second" runs until well after the restart's settle time
    step = f"echo $ECC_WORKER >> {runs}; if [ $ECC_WORKER = second ]; then {released(release)}; fi"
    workers = [{"name": n, "task": "t", "launcherCommand": step, "runtime": runtime_kind} for n in ("first", "second")]
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"sessionName": "crash", "repoRoot": str(repo), "maxParallel": 1, "workers": workers}))
    crashing = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "session", "supervise"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO), "ECC_HOOKS_CRASH_AT": point},
    )
    wait_until(supervisor_pid, 30, "the crashing supervisor to start")
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)  # launches "first" itself
    assert done.returncode == 0, done.stderr
    assert crashing.wait(timeout=60) == -signal.SIGKILL  # it died launching "second"
    from ecc_hooks.runtime import store

    assert store.Store().worker("crash", "second").state == "starting"
    restart(repo)
    from ecc_hooks.runtime.supervisor import SETTLE

    time.sleep(SETTLE + 2)  # the restarted supervisor has decided about "second" by now
    release.write_text("")
    wait_until(lambda: finished(repo, ["crash"]), 60, "both workers to finish")
    assert sorted(runs.read_text().split()) == ["first", "second"]  # each ran once
    second = store.Store().worker("crash", "second")
    assert (second.state, second.launches) == ("completed", 1), second.reason
