"""The runtime's one public surface (issue 24, item 16): requests go through ``runtime.client``, which sends what
changes state to the supervisor's helper (starting a supervisor when none answers) or, where the helper cannot be
had, runs the same engine in its own process; replies are records, a refusal with its kind and the request that
would go on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, ecc, git, make_repo, wait_until


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", identity=True)


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        data = handle.read()
    return int(data[data.rfind(b")") + 2 :].split()[1])


def runner_hook(repo: Path, out: Path) -> None:
    """A worktree_created hook that records which process ran it (its parent: the process running the create) and
    that one's parent, read while both run."""
    hooks = repo / ".ecc" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    record = f'echo "$PPID $(sed "s/.*) //" /proc/$PPID/stat | cut -d" " -f2)" > {out}.tmp && mv {out}.tmp {out}'
    (hooks / "worktree_created").write_text(f"#!/bin/sh\n{record}\n")
    (hooks / "worktree_created").chmod(0o755)


def supervisor() -> int | None:
    from ecc_hooks.runtime import daemon

    pid = daemon.running()
    return pid if pid and pid > 0 else None


def listed(repo: Path, name: str) -> dict[str, dict[str, Any]]:
    done = ecc("session", "list", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    found = [s for s in json.loads(done.stdout) if s["session"] == name]
    return {w["id"]: w for w in found[0]["workers"]} if found else {}


def test_with_no_supervisor_the_create_runs_here_and_the_next_one_in_the_helper_it_woke(
    tmp_path: Path, repo: Path, runtime: str
) -> None:
    """No supervisor runs: the create runs in the CLI's own process through the engine (not kept waiting for a
    supervisor to start), and wakes one that follows its worker to completion; the next create is handed to that
    supervisor's helper (the CLI's own process never makes its workspace)."""
    assert supervisor() is None
    runner = tmp_path / "runner"
    runner_hook(repo, runner)
    workers = [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": "true"}]
    for name in ("first", "second"):
        plan(repo / f"{name}.json", repo, name, workers)
        cli = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks", "session", "create", f"{name}.json", "--execute", "--trust-hooks"],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = cli.communicate(timeout=120)
        assert cli.returncode == 0, out + err
        assert f"created session {name!r}" in out
        creator, helper = (int(n) for n in runner.read_text().split())
        if name == "first":
            assert creator == cli.pid  # the engine ran in the CLI
            pid = wait_until(supervisor, 30, "the supervisor the create woke")
            wait_until(lambda: (Path(os.environ["ECC_HOOKS_HOME"]) / "supervisor.sock").exists(), 60, "its helper")
        else:  # hook -> the create's process (the helper's child) -> the helper -> the supervisor
            assert creator != cli.pid and parent_of(helper) == pid, "the create did not run in the supervisor's helper"
        done = lambda name=name: listed(repo, name).get("w", {}).get("state") == "completed"  # noqa: E731
        wait_until(done, 60, "the worker to complete")


def test_where_the_helper_is_not_wanted_the_engine_runs_in_the_client(tmp_path: Path, repo: Path, runtime: str) -> None:
    """A supervisor and its helper run, but ``ECC_HOOKS_NO_DELEGATE=1`` (as a declined request): the create runs in
    the CLI's process through the same engine, and the supervisor follows the worker on from the store."""
    assert ecc("session", "list", cwd=repo).returncode == 0  # starts a supervisor
    wait_until(lambda: (Path(os.environ["ECC_HOOKS_HOME"]) / "supervisor.sock").exists(), 60, "its helper")
    runner = tmp_path / "runner"
    runner_hook(repo, runner)
    step = f"while [ ! -e {tmp_path / 'go'} ]; do sleep 0.1; done"
    workers = [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": step}]
    plan(repo / "plan.json", repo, "here", workers)
    cli = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "session", "create", "plan.json", "--execute", "--trust-hooks"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO), "ECC_HOOKS_NO_DELEGATE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, out + err
    assert int(runner.read_text().split()[0]) == cli.pid  # the engine ran in the client's own process
    assert listed(repo, "here")["w"]["state"] in ("starting", "running")
    (tmp_path / "go").touch()
    wait_until(lambda: listed(repo, "here")["w"]["state"] == "completed", 60, "the supervisor to see it complete")


def test_a_refusal_names_its_kind_and_the_request_that_goes_on(tmp_path: Path, repo: Path, runtime: str) -> None:
    """Through the socket: a cleanup that would lose work is refused as ``lost-work`` with the same cleanup
    ``force``-d as its follow-up; sending the follow-up queues a job the supervisor finishes, the work kept."""
    from ecc_hooks.runtime import client
    from ecc_hooks.runtime import records as rec

    step = "echo work > new.txt"
    plan(repo / "plan.json", repo, "keep", [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": step}])
    done = ecc("session", "create", "plan.json", "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: listed(repo, "keep")["w"]["state"] == "completed", 60, "the worker to complete")
    wait_until(lambda: (Path(os.environ["ECC_HOOKS_HOME"]) / "supervisor.sock").exists(), 60, "the helper")

    reply = client.call(rec.Cleanup("keep"))
    assert reply.refused is not None and reply.refused.kind == "lost-work", reply
    assert "uncommitted" in reply.refused.message
    with pytest.raises(rec.Refused) as refused:
        client.expect(reply)
    follow = refused.value.follow_up
    assert follow == rec.Cleanup("keep", None, force=True)

    reply = client.call(follow)
    assert reply.ok and reply.data == rec.CleanupData(["w"])
    assert len(reply.jobs) == 1 and reply.jobs[0].startswith("cleanup:")
    wait_until(lambda: not listed(repo, "keep"), 60, "the supervisor to remove the worker")
    assert "new.txt" in git(repo, "show", "--stat", "refs/ecc-hooks/backup/keep/w")  # nothing lost


def test_the_cli_prints_a_refusal_as_before(tmp_path: Path, repo: Path, runtime: str) -> None:
    """A refused request exits 1 with its message, as a UserError always did; nothing is queued."""
    step = "echo work > new.txt"
    plan(repo / "plan.json", repo, "said", [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": step}])
    assert ecc("session", "create", "plan.json", "--execute", cwd=repo).returncode == 0
    wait_until(lambda: listed(repo, "said")["w"]["state"] == "completed", 60, "the worker to complete")
    done = ecc("session", "stop", "said", "--cleanup", cwd=repo)
    assert done.returncode == 1
    assert "cleanup refused, it would lose work" in done.stderr and "--force" in done.stderr
    assert listed(repo, "said")["w"]["state"] == "completed"


def test_a_supervisor_of_before_this_protocol_is_sent_nothing(tmp_path: Path, repo: Path, runtime: str) -> None:
    """ecc-hooks upgraded under a running supervisor: its helper speaks the protocol of before (its record names
    none), so the client sends it nothing and runs the create itself, instead of failing on a silent helper."""
    from ecc_hooks.core import paths
    from ecc_hooks.runtime import daemon

    supervise = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "session", "supervise"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "ECC_HOOKS_SUPERVISOR_TICK": "600"},  # no pass but the first
    )
    try:
        record = Path(paths.supervisor_record_path())
        wait_until(lambda: (Path(paths.home()) / "supervisor.sock").exists(), 60, "the supervisor's socket")
        wait_until(lambda: daemon.record().get("ready") is True, 60, "its first pass")
        old = json.loads(record.read_text())
        del old["protocol"]  # as a supervisor of before wrote it (it wrote none at all)
        record.write_text(json.dumps(old))
        runner = tmp_path / "runner"
        runner_hook(repo, runner)
        workers = [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": "true"}]
        plan(repo / "plan.json", repo, "upgraded", workers)
        cli = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks", "session", "create", "plan.json", "--execute", "--trust-hooks"],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = cli.communicate(timeout=120)
        assert cli.returncode == 0, out + err
        assert int(runner.read_text().split()[0]) == cli.pid  # run here, not sent to the old helper
    finally:
        supervise.kill()
        supervise.wait(timeout=30)
