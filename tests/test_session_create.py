"""``ecc-hooks session create --execute``: real git, real tmux on a private socket. All or nothing; parallel creates
on one repository never meet git's index.lock; the session reads back through inspect as ECC's files say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, git, make_repo, wait_until


@pytest.fixture
def socket(runtime: str) -> str:
    return runtime


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )


LAUNCHER = (
    "printf '# Status\\n\\n- State: running\\n- Updated: %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" > {status_file_sh}"
    " && sleep 300"
)


def write_plan(path: Path, repo: Path, name: str, workers: list[str], **extra: object) -> Path:
    path.write_text(
        json.dumps(
            {
                "sessionName": name,
                "repoRoot": str(repo),
                "launcherCommand": LAUNCHER,
                "workers": [{"name": w, "task": f"do {w}"} for w in workers],
                **extra,
            }
        )
    )
    return path


def test_a_plan_becomes_worktrees_files_and_panes(tmp_path: Path, socket: str) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".env").write_text("TOKEN=local\n")
    (repo / ".worktreeinclude").write_text(".env\n")
    plan = write_plan(tmp_path / "plan.json", repo, "Two Workers", ["alpha", "beta"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    for slug in ("alpha", "beta"):
        worktree = tmp_path / f"repo-two-workers-{slug}"
        assert git(worktree, "rev-parse", "--abbrev-ref", "HEAD").strip() == f"orchestrator-two-workers-{slug}"
        assert (worktree / ".env").read_text() == "TOKEN=local\n"  # .worktreeinclude: an ignored file comes along
        wdir = repo / ".orchestration" / "two-workers" / slug
        assert (wdir / "task.md").read_text().startswith(f"# Worker Task: {slug}")
    panes = subprocess.run(
        ["tmux", "-L", socket, "list-panes", "-s", "-t", "=two-workers", "-F", "#{pane_title} #{pane_current_path}"],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert f"alpha {tmp_path}/repo-two-workers-alpha" in panes and "beta " in panes

    def running() -> bool:
        snap = json.loads(cli("inspect", str(plan), cwd=repo).stdout)
        return {w["id"]: w["state"] for w in snap["workers"]} == {"alpha": "running", "beta": "running"}

    wait_until(running, 30, "both launchers to report running")
    snap = json.loads(cli("inspect", str(plan), cwd=repo).stdout)
    assert snap["session"]["state"] == "active" and all(w["runtime"]["pid"] for w in snap["workers"])
    again = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert again.returncode == 1 and "runs already" in again.stderr


def test_a_failed_create_leaves_nothing_behind(tmp_path: Path, socket: str) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "branch", "orchestrator-half-beta")  # the second worker's branch is taken: git refuses it
    plan = write_plan(tmp_path / "plan.json", repo, "half", ["alpha", "beta"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 1 and "orchestrator-half-beta" in done.stderr
    assert not (tmp_path / "repo-half-alpha").exists()
    branches = git(repo, "branch", "--list", "orchestrator-half-*").split()
    assert branches == ["orchestrator-half-beta"]  # ours removed, the one that was there before kept
    assert not (repo / ".orchestration" / "half").exists()
    assert subprocess.run(["tmux", "-L", socket, "has-session", "-t", "=half"], capture_output=True).returncode != 0
    assert "half" not in git(repo, "worktree", "list")


def test_eight_creates_at_once_on_one_repository(tmp_path: Path, socket: str) -> None:
    repo = make_repo(tmp_path / "repo")
    procs = []
    for n in range(8):
        plan = write_plan(tmp_path / f"plan-{n}.json", repo, f"s{n}", ["a", "b"])
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "ecc_hooks", "session", "create", str(plan), "--execute"],
                cwd=repo,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )  # fmt: skip
        )
    results = [(p.wait(timeout=180), p.communicate()) for p in procs]
    for code, (_out, err) in results:
        assert code == 0, err
        assert "lock" not in err
    listed = git(repo, "worktree", "list")
    assert all(f"repo-s{n}-{w}" in listed for n in range(8) for w in "ab")
