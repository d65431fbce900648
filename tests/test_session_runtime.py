"""The companion runtime end to end with real git, real tmux on a private socket and real processes: launches
under ``maxParallel``, states from exit statuses, screens and silence, ``status.md`` and ``handoff.md`` in ECC's
format, lifecycle hooks, ports, stop and resume with the scrollback kept, the headless runtime, a tmux server that
went away, and cleanups that never lose a commit."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import alive, ecc, git, hud, make_repo, run_hook, running, wait_until


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]], **extra: Any) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers, **extra}))
    return path


def states(repo: Path, name: str) -> dict[str, str]:
    """Each worker's state as its status.md says (what ECC's tools read)."""
    out = {}
    for status in sorted((repo / ".orchestration" / name).glob("*/status.md")):
        match = re.search(r"^- State: (.+)$", status.read_text(), re.M)
        out[status.parent.name] = match.group(1) if match else "?"
    return out


def listed(repo: Path, name: str) -> dict[str, dict[str, Any]]:
    done = ecc("session", "list", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    session = next(s for s in json.loads(done.stdout) if s["session"] == name)
    return {w["id"]: w for w in session["workers"]}


def released(path: Path) -> str:
    """A launcher step that waits until ``path`` exists."""
    return f"while [ ! -e {path} ]; do sleep 0.1; done"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", identity=True)
    return repo


def test_the_queue_keeps_max_parallel_and_states_follow_exit_statuses(tmp_path: Path, repo: Path, runtime: str) -> None:
    log = tmp_path / "starts.log"
    hooks = repo / ".ecc" / "hooks"
    hooks.mkdir(parents=True)
    finished = tmp_path / "finished.log"
    (hooks / "worker_finished").write_text(f'#!/bin/sh\necho "$ECC_WORKER $ECC_WORKER_STATE" >> {finished}\n')
    (hooks / "worker_finished").chmod(0o755)

    def worker(name: str, code: int) -> dict[str, Any]:
        step = f"echo start $ECC_WORKER >> {log}; {released(tmp_path / name)}; echo 'all {name} done'; exit {code}"
        return {"name": name, "task": f"task {name}", "launcherCommand": step}

    p = plan(
        tmp_path / "p.json", repo, "queue", [worker("one", 0), worker("two", 3), worker("three", 0)], maxParallel=1
    )
    done = ecc("session", "create", str(p), "--execute", "--trust-hooks", cwd=repo)  # the hook is ours: trusted
    assert done.returncode == 0, done.stderr
    wait_until(lambda: states(repo, "queue").get("one") == "running", 30, lambda: str(states(repo, "queue")))
    assert states(repo, "queue") == {"one": "running", "three": "pending", "two": "pending"}
    (tmp_path / "one").write_text("")
    wait_until(lambda: states(repo, "queue").get("two") == "running", 30, lambda: str(states(repo, "queue")))
    assert states(repo, "queue") == {"one": "completed", "three": "pending", "two": "running"}
    (tmp_path / "two").write_text("")
    (tmp_path / "three").write_text("")
    want = {"one": "completed", "two": "failed", "three": "completed"}
    wait_until(lambda: states(repo, "queue") == want, 30, lambda: str(states(repo, "queue")))
    assert log.read_text().split("\n")[:-1] == ["start one", "start two", "start three"]  # one at a time, in order
    workers = listed(repo, "queue")
    assert workers["two"]["reason"].startswith("exited with status 3: all two done (log: ")  # its words, its log
    handoff = (repo / ".orchestration" / "queue" / "two" / "handoff.md").read_text()
    assert [h for h in handoff.splitlines() if h.startswith("## ")] == [
        "## Summary", "## Files Changed", "## Validation", "## Remaining Risks"
    ]  # fmt: skip
    assert "- all two done" in handoff and "- exited with status 3" in handoff
    wait_until(lambda: finished.exists() and len(finished.read_text().splitlines()) == 3, 30, "worker_finished hooks")
    assert sorted(finished.read_text().splitlines()) == ["one completed", "three completed", "two failed"]
    snapshot = ecc("session", "status", "queue", "--json", cwd=repo)
    assert snapshot.returncode == 0, snapshot.stderr
    snap = json.loads(snapshot.stdout)
    assert snap["schemaVersion"] == "ecc.session.v1" and snap["session"]["state"] == "failed"
    assert {w["id"]: w["state"] for w in snap["workers"]} == want


def test_stop_keeps_the_scrollback_and_resume_relaunches(tmp_path: Path, repo: Path, runtime: str) -> None:
    key = "sk-ant-api03-" + "x" * 40
    step = f"echo first line of work; echo ANTHROPIC_API_KEY={key}; echo launched >> {tmp_path / 'runs'}; sleep 300"
    p = plan(tmp_path / "p.json", repo, "pause", [{"name": "w", "task": "t", "launcherCommand": step}])
    assert ecc("session", "create", str(p), "--execute", cwd=repo).returncode == 0
    wait_until(lambda: states(repo, "pause").get("w") == "running", 30, lambda: str(states(repo, "pause")))
    wait_until(lambda: (tmp_path / "runs").exists(), 30, "the launcher to run")
    from ecc_hooks.runtime import store

    pid = store.Store().worker("pause", "w").pid
    assert pid and alive(pid)
    stopped = ecc("session", "stop", "pause", "--grace", "2", cwd=repo)
    assert stopped.returncode == 0, stopped.stderr
    assert states(repo, "pause") == {"w": "stopped"} and not alive(pid)
    saved = (Path(os.environ["ECC_HOOKS_HOME"]) / "runtime" / "pause" / "w" / "scrollback.txt").read_text()
    assert "first line of work" in saved and key not in saved  # redacted before it was written
    resumed = ecc("session", "resume", "pause", cwd=repo)
    assert resumed.returncode == 0, resumed.stderr
    assert "first line of work" in resumed.stdout and key not in resumed.stdout  # the cold restore
    wait_until(lambda: states(repo, "pause").get("w") == "running", 30, lambda: str(states(repo, "pause")))
    wait_until(lambda: (tmp_path / "runs").read_text().count("launched") == 2, 30, "the relaunch")
    assert store.Store().worker("pause", "w").launches == 2
    nothing = ecc("session", "resume", "pause", cwd=repo)
    assert nothing.returncode == 1 and "nothing to resume" in nothing.stderr


def test_cleanup_refuses_to_lose_work_and_force_keeps_every_commit(tmp_path: Path, repo: Path, runtime: str) -> None:
    work = (
        "echo feature > feature.txt && git add feature.txt && git -c user.name=w -c user.email=w@x "
        "commit -qm 'the feature' && echo draft > draft.txt"
    )
    p = plan(
        tmp_path / "p.json",
        repo,
        "keep",
        [
            {"name": "busy", "task": "t", "launcherCommand": work},
            {"name": "clean", "task": "t", "launcherCommand": "true"},
        ],
    )
    assert ecc("session", "create", str(p), "--execute", cwd=repo).returncode == 0
    want = {"busy": "completed", "clean": "completed"}
    wait_until(lambda: states(repo, "keep") == want, 30, lambda: str(states(repo, "keep")))
    tip = git(repo, "rev-parse", "orchestrator-keep-busy")
    refused = ecc("session", "stop", "keep", "--cleanup", cwd=repo)
    assert refused.returncode == 1
    assert "1 uncommitted change(s)" in refused.stderr and "1 commit(s) on orchestrator-keep-busy" in refused.stderr
    assert (tmp_path / "repo-keep-busy" / "draft.txt").exists()  # nothing was touched
    only_clean = ecc("session", "stop", "keep", "--worker", "clean", "--cleanup", cwd=repo)
    assert only_clean.returncode == 0, only_clean.stderr
    wait_until(lambda: listed(repo, "keep").keys() == {"busy"}, 30, "the clean worker's cleanup")
    assert not (tmp_path / "repo-keep-clean").exists()
    assert git(repo, "branch", "--list", "orchestrator-keep-clean") == ""
    forced = ecc("session", "stop", "keep", "--cleanup", "--force", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    wait_until(lambda: listed(repo, "keep") == {}, 30, "the busy worker's cleanup")
    assert not (tmp_path / "repo-keep-busy").exists()
    assert git(repo, "branch", "--list", "orchestrator-keep-busy") == ""
    backup = "refs/ecc-hooks/backup/keep/busy"
    git(repo, "merge-base", "--is-ancestor", tip, backup)  # the commit is kept (git exits 1 otherwise)
    assert git(repo, "show", f"{backup}:draft.txt") == "draft"  # so is the uncommitted file
    assert git(repo, "show", f"{backup}:feature.txt") == "feature"


def test_hooks_setup_and_ports(tmp_path: Path, repo: Path, runtime: str) -> None:
    hooks = repo / ".ecc" / "hooks.local"
    hooks.mkdir(parents=True)
    (hooks / "worktree_created.sh").write_text('echo "ready $ECC_WORKER $ECC_BRANCH" > .ready\n')
    report = 'echo "$PORT $ECC_PORT_BASE" > port.txt'
    workers = [
        {"name": "a", "task": "t", "ports": 5, "setup": ["echo set > setup.txt"], "launcherCommand": report},
        {"name": "b", "task": "t", "ports": 5, "launcherCommand": report},
    ]
    with __import__("socket").socket() as busy:  # a port in use is skipped
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        base = busy.getsockname()[1]
        p = plan(tmp_path / "p.json", repo, "ports", workers)
        done = ecc("session", "create", str(p), "--execute", "--trust-hooks", cwd=repo,
                   env={"ECC_HOOKS_PORT_BASE": str(base)})  # fmt: skip
        assert done.returncode == 0, done.stderr
        wt = {w: tmp_path / f"repo-ports-{w}" for w in "ab"}
        wait_until(lambda: all((wt[w] / "port.txt").exists() for w in "ab"), 30, "the launchers")
    assert (wt["a"] / ".ready").read_text() == "ready a orchestrator-ports-a\n"
    assert (wt["a"] / "setup.txt").read_text() == "set\n" and not (wt["b"] / "setup.txt").exists()
    ports = {w: [int(x) for x in (wt[w] / "port.txt").read_text().split()] for w in "ab"}
    assert ports["a"][0] == ports["a"][1] and ports["b"][0] == ports["b"][1]
    assert ports["a"][0] > base  # the window skipped the port in use
    assert abs(ports["a"][0] - ports["b"][0]) >= 5  # disjoint windows


def test_a_failing_worktree_created_hook_fails_the_create_and_leaves_nothing(
    tmp_path: Path, repo: Path, runtime: str
) -> None:
    hooks = repo / ".ecc" / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "worktree_created").write_text("#!/bin/sh\necho cannot install dependencies >&2\nexit 4\n")
    (hooks / "worktree_created").chmod(0o755)
    p = plan(tmp_path / "p.json", repo, "nope", [{"name": "w", "task": "t", "launcherCommand": "true"}])
    done = ecc("session", "create", str(p), "--execute", "--trust-hooks", cwd=repo)
    assert done.returncode == 1 and "cannot install dependencies" in done.stderr and "exit 4" in done.stderr
    assert not (tmp_path / "repo-nope-w").exists() and git(repo, "branch", "--list", "orchestrator-nope-*") == ""
    assert ecc("session", "status", "nope", cwd=repo).returncode == 1  # no record either


def test_headless_workers_run_detached_with_their_output_in_a_log(tmp_path: Path, repo: Path, runtime: str) -> None:
    workers = [
        {"name": "quiet", "task": "t", "runtime": "headless", "launcherCommand": "echo summary from headless"},
        {"name": "bad", "task": "t", "runtime": "headless", "launcherCommand": "echo oops >&2; exit 2"},
    ]
    p = plan(tmp_path / "p.json", repo, "bg", workers)
    assert ecc("session", "create", str(p), "--execute", cwd=repo).returncode == 0
    want = {"bad": "failed", "quiet": "completed"}
    wait_until(lambda: states(repo, "bg") == want, 30, lambda: str(states(repo, "bg")))
    handoff = (repo / ".orchestration" / "bg" / "quiet" / "handoff.md").read_text()
    assert "- summary from headless" in handoff
    assert "- oops" in (repo / ".orchestration" / "bg" / "bad" / "handoff.md").read_text()
    assert subprocess.run(["tmux", "-L", runtime, "has-session", "-t", "=bg"], capture_output=True).returncode != 0


def test_a_tmux_server_that_went_away_fails_its_workers_resumably(tmp_path: Path, repo: Path, runtime: str) -> None:
    p = plan(tmp_path / "p.json", repo, "gone", [{"name": "w", "task": "t", "launcherCommand": "sleep 300"}])
    assert ecc("session", "create", str(p), "--execute", cwd=repo).returncode == 0
    wait_until(lambda: states(repo, "gone") == {"w": "running"}, 30, lambda: str(states(repo, "gone")))
    subprocess.run(["tmux", "-L", runtime, "kill-server"], capture_output=True)
    wait_until(lambda: states(repo, "gone") == {"w": "failed"}, 30, lambda: str(states(repo, "gone")))
    assert "tmux" in listed(repo, "gone")["w"]["reason"]
    assert ecc("session", "resume", "gone", cwd=repo).returncode == 0
    wait_until(lambda: states(repo, "gone") == {"w": "running"}, 30, lambda: str(states(repo, "gone")))


def test_a_silent_worker_goes_stale_and_comes_back(tmp_path: Path, repo: Path, runtime: str) -> None:
    beat = tmp_path / "beat"
    step = f"echo working; {released(beat)}; echo alive again; sleep 300"
    p = plan(tmp_path / "p.json", repo, "quiet", [{"name": "w", "task": "t", "launcherCommand": step}])
    done = ecc("session", "create", str(p), "--execute", cwd=repo, env={"ECC_HOOKS_STALE_SECONDS": "1.5"})
    assert done.returncode == 0, done.stderr
    wait_until(lambda: states(repo, "quiet") == {"w": "stale"}, 30, lambda: str(states(repo, "quiet")))
    assert listed(repo, "quiet")["w"]["reason"].startswith("no sign of life")
    beat.write_text("")  # the screen changes: a heartbeat
    wait_until(lambda: states(repo, "quiet") == {"w": "running"}, 30, lambda: str(states(repo, "quiet")))


def test_the_hud_of_a_session_in_the_repository_shows_its_runtime_workers(
    tmp_path: Path, repo: Path, runtime: str
) -> None:
    workers = [
        {"name": "fails", "task": "break things", "launcherCommand": "echo no; exit 1"},
        {"name": "runs", "task": "keep going", "launcherCommand": "sleep 300"},
    ]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "hud", workers)), "--execute", cwd=repo).returncode
        == 0
    )
    want = {"fails": "failed", "runs": "running"}
    wait_until(lambda: states(repo, "hud") == want, 30, lambda: str(states(repo, "hud")))
    session = "0f0e0d0c-0000-4000-8000-00000000a11d"  # the operator's Claude Code session in the repository
    payload = {"session_id": session, "hook_event_name": "SessionStart", "cwd": str(repo), "source": "startup"}
    assert run_hook(json.dumps(payload).encode()).returncode == 0

    def hud() -> dict[str, Any]:
        done = ecc("status", "--json", "--no-gh", "--session", session, cwd=repo)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def shown() -> dict[str, Any] | None:  # the HUD reads the supervisor's export, written after status.md
        doc = hud()
        states = {a["id"]: a["state"] for a in doc["activeAgents"]}
        return doc if states.get("hud/runs") == "running" and states.get("hud/fails") == "failed" else None

    doc = wait_until(shown, 30, lambda: f"the workers in the HUD: {hud()['activeAgents']}")
    agents = {a["id"]: a for a in doc["activeAgents"]}
    assert agents["hud/fails"]["branch"] == "orchestrator-hud-fails"
    assert agents["hud/fails"]["worktree"] == str(tmp_path / "repo-hud-fails")
    assert agents["hud/fails"]["objective"] == "break things"
    assert agents["hud/fails"]["handoffPath"] == str(repo / ".orchestration" / "hud" / "fails" / "handoff.md")
    assert {"create", "stop", "resume"} <= set(doc["sessionControls"]["supported"])
    assert any(r.startswith("worker hud/fails failed: exited with status 1: no (log: ") for r in doc["risk"]["reasons"])
    assert ecc("session", "stop", "hud", "--grace", "1", cwd=repo).returncode == 0
    blocked = {b["control"]: b["reason"] for b in hud()["sessionControls"]["blocked"]}
    assert "stop" in blocked and "no runtime worker" in blocked["stop"]


def test_the_watcher_rebuilds_the_hud_when_a_worker_changes_state(
    tmp_path: Path, repo: Path, runtime: str, daemons: Any, ecc_home: Path
) -> None:
    running(daemons("--idle-exit", "120"))
    step = [{"name": "w", "task": "t", "launcherCommand": "sleep 300"}]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "live", step)), "--execute", cwd=repo).returncode
        == 0
    )
    session = "0f0e0d0c-0000-4000-8000-00000000b22e"
    payload = {"session_id": session, "hook_event_name": "SessionStart", "cwd": str(repo), "source": "startup"}
    assert run_hook(json.dumps(payload).encode()).returncode == 0

    def shown() -> dict[str, str]:
        doc = hud(ecc_home, session) or {}
        return {a["id"]: a["state"] for a in doc.get("activeAgents", [])}

    wait_until(lambda: shown().get("live/w") == "running", 30, lambda: f"the running worker in hud.json: {shown()}")
    assert ecc("session", "stop", "live", "--grace", "1", cwd=repo).returncode == 0  # no hook event follows
    wait_until(lambda: shown().get("live/w") == "stopped", 30, lambda: f"the stopped worker in hud.json: {shown()}")


def test_a_running_supervisor_runs_the_create_with_the_callers_folder_and_environment(
    tmp_path: Path, repo: Path, runtime: str, ecc_home: Path
) -> None:
    import stat
    import sys

    from tests.helpers import REPO

    supervise = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "session", "supervise"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        subprocess.run(["tmux", "-L", runtime, "new-session", "-d", "-s", "other"], check=True)  # a server of before
        sock = ecc_home / "supervisor.sock"
        wait_until(sock.exists, 30, "the supervisor's socket")
        assert stat.S_IMODE(sock.lstat().st_mode) == 0o600
        step = f"echo $CALLER_ONLY > {tmp_path / 'seen'}"
        plan(repo / "plan.json", repo, "served", [{"name": "w", "task": "t", "launcherCommand": step}])
        done = ecc("session", "create", "plan.json", "--execute", cwd=repo, env={"CALLER_ONLY": "from-the-caller"})
        assert done.returncode == 0, done.stderr
        assert "created session 'served'" in done.stdout
        wait_until(lambda: (tmp_path / "seen").exists(), 30, "the worker")
        assert (tmp_path / "seen").read_text() == "from-the-caller\n"
        bad = ecc("session", "create", "missing.json", "--execute", cwd=repo)
        assert bad.returncode == 1 and "not a plan file" in bad.stderr  # errors come back as the CLI's own
    finally:
        supervise.kill()
        supervise.wait(timeout=30)
    wait_until(lambda: not sock.exists(), 30, "its zygote to follow it and take the socket away")
