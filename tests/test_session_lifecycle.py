"""A session's life: ``session rm`` forgets a finished one (refused while a worker runs or while work that is not
merged remains, saying which; ``--force`` keeps that work under the backup refs first), the quick form's
``--runtime``, ``--permission-mode`` and ``--worktree-root``, and panes labelled with their worker's name on the
runtime's own tmux server. Real git, real tmux on a private socket, real processes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ecc, git, make_repo, wait_until
from tests.test_session_plan import fake_agent


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def states(repo: Path, name: str) -> dict[str, str]:
    done = ecc("session", "list", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    found = [s for s in json.loads(done.stdout) if s["session"] == name]
    return {w["id"]: w["state"] for w in found[0]["workers"]} if found else {}


def sessions(repo: Path) -> list[str]:
    return [s["session"] for s in json.loads(ecc("session", "list", "--json", cwd=repo).stdout)]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", identity=True)


def test_rm_forgets_a_finished_session_and_never_loses_work(tmp_path: Path, repo: Path, runtime: str) -> None:
    go = tmp_path / "go"
    work = (
        f"while [ ! -e {go} ]; do sleep 0.1; done; echo feature > feature.txt && git add feature.txt && "
        "git -c user.name=w -c user.email=w@x commit -qm 'the feature' && echo draft > draft.txt"
    )
    workers = [
        {"name": "busy", "task": "t", "launcherCommand": work},
        {"name": "clean", "task": "t", "runtime": "headless", "launcherCommand": "echo nothing to do"},
    ]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "old", workers)), "--execute", cwd=repo).returncode
        == 0
    )
    wait_until(lambda: states(repo, "old").get("busy") == "running", 30, lambda: str(states(repo, "old")))
    running = ecc("session", "rm", "old", cwd=repo)
    assert running.returncode == 1 and "still runs: busy (running)" in running.stderr
    go.write_text("")
    want = {"busy": "completed", "clean": "completed"}
    wait_until(lambda: states(repo, "old") == want, 30, lambda: str(states(repo, "old")))
    tip = git(repo, "rev-parse", "orchestrator-old-busy")
    refused = ecc("session", "rm", "old", cwd=repo)
    assert refused.returncode == 1
    assert (
        "busy: 1 uncommitted change(s)" in refused.stderr
        and "busy: 1 commit(s) on orchestrator-old-busy" in refused.stderr
    )
    assert "clean" not in refused.stderr.split("\n", 1)[1]  # only the worker with work is named
    assert sessions(repo) == ["old"] and (tmp_path / "repo-old-clean").exists()  # nothing was touched
    forced = ecc("session", "rm", "old", "--force", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert "busy: removed (its work is kept under refs/ecc-hooks/backup/old/busy)" in forced.stdout
    assert sessions(repo) == []  # gone from the list
    assert not (tmp_path / "repo-old-busy").exists() and not (tmp_path / "repo-old-clean").exists()
    assert git(repo, "branch", "--list", "orchestrator-old-*") == ""
    git(repo, "merge-base", "--is-ancestor", tip, "refs/ecc-hooks/backup/old/busy")  # the commit is kept
    assert git(repo, "show", "refs/ecc-hooks/backup/old/busy:draft.txt") == "draft"
    assert (repo / ".orchestration" / "old" / "busy" / "handoff.md").exists()  # the coordination files stay
    state = Path(os.environ["ECC_HOOKS_HOME"]) / "runtime" / "old"
    assert not (state / "clean").exists() and not (state / "busy").exists()
    assert subprocess.run(["tmux", "-L", runtime, "has-session", "-t", "=old"], capture_output=True).returncode != 0
    assert ecc("session", "rm", "old", cwd=repo).returncode == 1  # no such session any more
    again = ecc("session", "create", str(tmp_path / "p.json"), "--execute", cwd=repo)  # its name is free again
    assert again.returncode == 0, again.stderr


def test_rm_of_a_cleaned_up_session(tmp_path: Path, repo: Path, runtime: str) -> None:
    workers = [{"name": "w", "task": "t", "launcherCommand": "true"}]
    assert (
        ecc(
            "session", "create", str(plan(tmp_path / "p.json", repo, "tidy", workers)), "--execute", cwd=repo
        ).returncode
        == 0
    )
    wait_until(lambda: states(repo, "tidy") == {"w": "completed"}, 30, lambda: str(states(repo, "tidy")))
    assert ecc("session", "stop", "tidy", "--cleanup", cwd=repo).returncode == 0
    wait_until(lambda: states(repo, "tidy") == {}, 30, "the cleanup")
    assert sessions(repo) == ["tidy"]  # cleaned up, still listed
    done = ecc("session", "rm", "tidy", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert sessions(repo) == []


def test_the_quick_forms_runtime_permission_mode_and_worktree_root(tmp_path: Path, repo: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_agent(bin_dir, "claude")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    root = tmp_path / "trees"
    done = ecc(
        "session", "create", "quick", "--task", "fix it", "--runtime", "headless", "--permission-mode", "acceptEdits",
        "--worktree-root", str(root), cwd=repo, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    worker = json.loads(done.stdout)["workers"][0]
    assert worker["runtime"] == "headless" and worker["worktreePath"] == str(root / "repo-quick-quick-1")
    started = shlex.split(worker["launchCommand"].rpartition(" | ")[2])
    assert started[:3] == ["claude", "-p", "--output-format"] and started[-2:] == ["--permission-mode", "acceptEdits"]
    assert "fix it" not in started  # piped to it, in no command line
    file = plan(tmp_path / "p.json", repo, "f", [{"name": "w", "task": "t", "launcherCommand": "true"}])
    mixed = ecc("session", "create", str(file), "--runtime", "headless", cwd=repo, env=env)
    assert mixed.returncode == 1 and "--runtime: quick form only" in mixed.stderr


def test_panes_are_labelled_with_their_workers_names_as_text(tmp_path: Path, repo: Path, runtime: str) -> None:
    ran = tmp_path / "ran"
    name = f"#(touch {ran}) wörker ✓"
    workers = [{"name": name, "task": "t", "launcherCommand": "sleep 300"}]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "lab", workers)), "--execute", cwd=repo).returncode
        == 0
    )
    from ecc_hooks.runtime import launch, store

    wait_until(lambda: store.Store().workers("lab")[0].pane is not None, 30, "the pane")
    pane = store.Store().workers("lab")[0].pane or ""

    def show(fmt: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", runtime, "display-message", "-p", "-t", pane, fmt], capture_output=True, text=True
        )
        return done.stdout.strip()

    assert show("#{pane_title}") == store.Store().workers("lab")[0].slug  # ECC's tools find panes by this
    assert show("#{pane-border-status}") == "top"
    assert show("#{E:pane-border-format}") == launch.pane_label(name)  # the border shows the name, as text
    assert len(name) <= 100 or launch.pane_label(name).startswith(name[:99])
    assert not ran.exists()  # a format in a name runs nothing


def test_a_launcher_command_is_a_script_whatever_agent_it_names(tmp_path: Path, repo: Path, runtime: str) -> None:
    bin_dir = tmp_path / "bin"
    fake_agent(bin_dir, "claude")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    workers = [{"name": "s", "task": "t", "agent": "claude", "runtime": "headless", "launcherCommand": "echo done"}]
    p = plan(tmp_path / "p.json", repo, "kinds", workers)
    assert ecc("session", "create", str(p), "--execute", cwd=repo, env=env).returncode == 0
    wait_until(lambda: states(repo, "kinds") == {"s": "completed"}, 30, lambda: str(states(repo, "kinds")))
    exported = json.loads((Path(os.environ["ECC_HOOKS_HOME"]) / "runtime" / "workers.json").read_text())
    assert [w["agent"] for s in exported["sessions"] for w in s["workers"]] == ["script"]  # the HUD's agents
    status = ecc("session", "status", "kinds", "--json", cwd=repo)
    assert status.returncode == 0, status.stderr
    figures = json.loads(status.stdout)["workers"][0]["figures"]
    assert figures["agent"] == "script" and figures["sessionId"] is None and figures["costUsd"] is None
    assert figures["elapsedSeconds"] is not None and figures["elapsedSeconds"] >= 0
    table = ecc("session", "status", "kinds", cwd=repo).stdout.splitlines()
    assert table[1].split()[:7] == ["WORKER", "STATE", "AGENT", "COST", "CTX", "TOOLS", "ELAPSED"]
    assert table[2].split()[:6] == ["s", "completed", "script", "-", "-", "-"]


def test_rm_leaves_nothing_of_the_session_in_the_database_files(
    tmp_path: Path, repo: Path, runtime: str, ecc_home: Path
) -> None:
    """A launch command is stored as the plan wrote it (the user's program), with whatever secret the user put in
    it; once the session is forgotten, no byte of it stays in ``runtime.db`` or its write-ahead log (it stayed in
    the log and in free pages before)."""
    canary = "sk-ant-api03-" + "Q" * 90
    workers = [{"name": "w", "task": "t", "launcherCommand": f"true {canary}"}]
    done = ecc("session", "create", str(plan(tmp_path / "p.json", repo, "gone", workers)), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: states(repo, "gone") == {"w": "completed"}, 30, lambda: str(states(repo, "gone")))

    def stored() -> bytes:
        return b"".join(p.read_bytes() for p in ecc_home.glob("**/runtime.db*") if p.is_file())

    assert canary.encode() in stored()  # where it was
    assert ecc("session", "stop", "gone", "--cleanup", cwd=repo).returncode == 0
    wait_until(lambda: states(repo, "gone") == {}, 30, "the cleanup")
    done = ecc("session", "rm", "gone", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert sessions(repo) == []
    assert canary.encode() not in stored()
