"""Issue 23, finding 12: the runtime's work is bounded by what it shows, not by what a repository or an agent makes.

- ``session diff --worker``: a diff of ~128 MB costs the preview's memory (peak RSS of the command and the git
  it runs, far below the diff's size);
- a headless agent's log over 64 MB whose last line is ``Error:`` marks the worker failed (the tail is read);
- a merge-queue pass over many finished workers recomputes no verdict whose commits did not change (git calls
  counted, not seconds);
- SIGTERM ends the supervisor mid-pass (in a hook that sleeps a minute), and the hook with it (a liveness check:
  the bound is loose).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import REPO, alive, ecc, git, make_repo, wait_until
from tests.test_runtime_store import worker as make_worker

FILES, LINES, WIDTH = 64, 20_000, 100  # 64 files x 20,000 lines x ~100 bytes: ~128 MB of diff


def finished_session(tmp_path: Path, name: str, workers: list[dict]) -> Path:
    repo = make_repo(tmp_path / "repo")
    plan = {"sessionName": name, "repoRoot": str(repo), "workers": workers}
    (tmp_path / f"{name}.json").write_text(json.dumps(plan))
    done = ecc("session", "create", str(tmp_path / f"{name}.json"), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr

    def states() -> set[str]:
        return {w["state"] for w in json.loads(ecc("session", "list", "--json", cwd=repo).stdout)[0]["workers"]}

    wait_until(lambda: states() == {"completed"}, 60, lambda: str(states()))
    return repo


def test_the_diff_preview_costs_the_previews_memory_not_the_diffs(tmp_path: Path, runtime: str) -> None:
    repo = finished_session(tmp_path, "big", [{"name": "w", "task": "t", "launcherCommand": "true"}])
    worktree = repo.parent / "repo-big-w"
    line = ("x" * (WIDTH - 12) + " {:010d}\n").format
    size = 0
    for n in range(FILES):  # untracked would not show: new tracked files, staged (no commit: fast)
        data = "".join(line(i) for i in range(LINES))
        (worktree / f"big{n}.txt").write_text(data)
        size += len(data)
    git(worktree, "add", ".")
    measure = (
        "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True); "
        "sys.stderr.write(done.stderr.decode()); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, len(done.stdout), done.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-m", "ecc_hooks", "session", "diff", "big", "--worker", "w"],
        capture_output=True, text=True, cwd=repo, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600,
    )  # fmt: skip
    peak, printed, code = (int(v) for v in out.stdout.split())
    assert code == 0, out.stderr
    assert printed < 1 << 20  # the preview
    print(f"session diff --worker: peak RSS {peak >> 20} MB for a {size >> 20} MB diff")
    assert peak < size / 2, f"peak RSS {peak >> 20} MB for a {size >> 20} MB diff"


def test_a_long_headless_log_ending_in_an_error_line_marks_the_worker_failed(ecc_home: Path) -> None:
    from ecc_hooks.runtime import launch, supervisor
    from ecc_hooks.runtime import store as st

    session = st.Session("s", "/r", "/c", "main", None, None, "sock", None, time.time())
    worker = make_worker("w")
    worker.agent, worker.runtime = "opencode", "headless"
    log = Path(launch.log_path("s", "w"))
    with open(log, "wb") as handle:
        block = b"working on it, all fine so far " * 32 + b"\n"
        for _ in range((65 << 20) // len(block) + 1):
            handle.write(block)
        handle.write(b"Error: the provider refused the request\n")
    assert log.stat().st_size > 64 << 20
    state, reason = supervisor.Supervisor(st.Store())._decide(session, worker, None, False, 0, None, [], time.time())
    assert state == "failed" and "Error: the provider refused the request" in (reason or ""), (state, reason)


GIT_LOGGER = """#!/bin/sh
printf '%s\\n' "$*" >> "$CALLS_LOG"
exec {git} "$@"
"""


def test_a_queue_pass_recomputes_only_what_changed(tmp_path: Path, ecc_home: Path, monkeypatch) -> None:
    import shutil

    from ecc_hooks.runtime import merge
    from ecc_hooks.runtime import store as st

    repo = make_repo(tmp_path / "repo")
    count = 12
    for n in range(count):
        git(repo, "checkout", "-q", "-b", f"w{n}", "main")
        (repo / f"f{n}.txt").write_text(f"{n}\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", f"w{n}")
    git(repo, "checkout", "-q", "main")
    for n in range(count):  # each worker's worktree is there (a worktree that is gone leaves the queue)
        git(repo, "worktree", "add", "-q", str(tmp_path / f"wt{n}"), f"w{n}")
    store = st.Store()
    session = st.Session("q", str(repo), "/c", "main", None, None, "sock", None, time.time())
    rows = []
    for n in range(count):
        row = make_worker(f"w{n}", "q")
        row.seq, row.branch, row.worktree, row.state, row.finished_at = (
            n,
            f"w{n}",
            str(tmp_path / f"wt{n}"),
            "completed",
            n,
        )
        rows.append(row)
    store.add_session(session, rows)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(GIT_LOGGER.format(git=shutil.which("git")))
    (bin_dir / "git").chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CALLS_LOG", str(calls))
    for cache in ("_VERDICTS", "_SIZES"):  # this process's verdicts so far (the supervisor's live as long)
        getattr(merge, cache, {}).clear()

    def a_pass() -> list[str]:
        calls.write_text("")
        entries = merge.queue(store, session)
        assert [e.position for e in entries] == list(range(1, count + 1))
        return calls.read_text().splitlines()

    first = a_pass()
    assert sum("merge-tree" in c for c in first) >= count * (count + 1) // 2  # base and every accepted pair
    second = a_pass()
    assert [c for c in second if "merge-tree" in c or "rev-list" in c or c.startswith("diff")] == []
    dirty = [c for c in second if " status " in c]
    assert len(dirty) == count, second  # a worktree can turn dirty with no branch moving: looked at every pass
    rest = [c for c in second if " status " not in c and "config --list" not in c]
    assert len(rest) <= 4, second  # the base, the branch tips (and each git's config read: the safe runner)
    (tmp_path / "wt3" / "g.txt").write_text("more\n")  # the worker commits more in its worktree
    git(tmp_path / "wt3", "add", ".")
    git(tmp_path / "wt3", "commit", "-qm", "w3 moves on")
    third = a_pass()
    moved = [c for c in third if "merge-tree" in c]
    tip = git(repo, "rev-parse", "w3").strip()
    assert moved and all(tip in c for c in moved), moved  # only the verdicts the moved branch is part of


def test_sigterm_ends_the_supervisor_mid_pass_and_what_it_runs(tmp_path: Path, runtime: str, ecc_home: Path) -> None:
    from ecc_hooks.runtime import daemon

    marker = tmp_path / "hook.pid"
    hooks = ecc_home / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "worker_finished").write_text(
        f"#!/bin/sh\necho $$ > {marker}.tmp && mv {marker}.tmp {marker}\nexec sleep 90\n"
    )
    (hooks / "worker_finished").chmod(0o755)
    repo = make_repo(tmp_path / "repo")
    plan = {
        "sessionName": "term",
        "repoRoot": str(repo),
        "workers": [{"name": "w", "task": "t", "launcherCommand": "true"}],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    assert ecc("session", "create", str(tmp_path / "plan.json"), "--execute", cwd=repo).returncode == 0
    hook = 0
    try:
        hook = int(wait_until(lambda: marker.exists() and marker.read_text().strip(), 60, "the hook to run"))
        pid = wait_until(daemon.running, 10, "the supervisor")
        assert alive(hook)  # the supervisor is in its pass, waiting on the hook
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not alive(pid), 20, "the supervisor to end on SIGTERM")  # was: when the hook ended
        wait_until(lambda: not alive(hook), 20, "the hook it ran to end with it")
    finally:
        if hook and alive(hook):
            os.kill(hook, signal.SIGKILL)


def test_sigterm_mid_create_ends_the_supervisor_and_the_served_create_still_answers(
    tmp_path: Path, runtime: str, ecc_home: Path
) -> None:
    """A create the supervisor's zygote is serving when SIGTERM arrives: the supervisor ends at once (its zygote
    with it); the create, in a child of its own, finishes and answers its caller (who waits for that answer),
    and a new supervisor takes over its session."""
    from ecc_hooks.runtime import daemon

    repo = make_repo(tmp_path / "repo")
    hooks = repo / ".ecc" / "hooks"
    hooks.mkdir(parents=True)
    gate, held = tmp_path / "gate", tmp_path / "held"
    (hooks / "worktree_created").write_text(
        f'#!/bin/sh\n[ "$ECC_SESSION" = first ] && exit 0\ntouch {held}\nwhile [ ! -e {gate} ]; do sleep 0.1; done\n'
    )
    (hooks / "worktree_created").chmod(0o755)

    def plan(name: str) -> str:
        workers = [{"name": "w", "task": "t", "launcherCommand": "sleep 60"}]
        (tmp_path / f"{name}.json").write_text(
            json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers})
        )
        return str(tmp_path / f"{name}.json")

    assert ecc("session", "create", plan("first"), "--execute", "--trust-hooks", cwd=repo).returncode == 0
    wait_until(lambda: (ecc_home / "supervisor.sock").exists(), 60, "the supervisor's socket")
    pid = wait_until(daemon.running, 10, "the supervisor")
    create = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "session", "create", plan("second"), "--execute", "--trust-hooks"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(held.exists, 60, "the served create's hook")
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not alive(pid), 20, "the supervisor to end on SIGTERM")
        gate.touch()
        out, err = create.communicate(timeout=120)
        assert create.returncode == 0, out + err
        again = wait_until(daemon.running, 30, "a supervisor for the new session")
        assert again != pid
    finally:
        gate.touch()
        if create.poll() is None:
            create.kill()
            create.communicate(timeout=60)
        for name in ("first", "second"):
            ecc("session", "stop", name, "--grace", "1", cwd=repo)
