"""``session send``, ``approve`` and ``deny`` with the real Claude Code client as a tmux worker, against the scripted
API: the worker stops at its permission prompt; text sent then is refused (it would answer the prompt), an answer
for a screen that changed is refused, ``approve`` runs the command; ``send`` gives the finished worker a new prompt,
which asks again, and ``deny`` keeps the command from running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import stop_supervisor
from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import Workspace
from tests.e2e.tmux_runner import tmux_available
from tests.helpers import REPO, wait_until

pytestmark = pytest.mark.e2e

MODEL = "claude-sonnet-4-5"


def test_a_claude_worker_is_answered_and_prompted_without_attaching(
    workspace: Workspace, scripted_api: ScriptedAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not tmux_available():
        pytest.skip("tmux not installed")
    ws = workspace
    root = tmp_path / "worktrees"
    root.mkdir()
    worktree = root / f"{ws.work.name}-talk-w"
    config = json.loads((ws.home / ".claude.json").read_text())
    config["projects"][str(worktree)] = dict(config["projects"][str(ws.work)])  # trusted, as the work dir is
    (ws.home / ".claude.json").write_text(json.dumps(config, indent=2))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(f'#!/bin/sh\nexec {ws.claude} --settings {ws.settings} "$@"\n')
    (bin_dir / "claude").chmod(0o755)
    socket = f"ecc-input-{os.getpid()}"
    env = ws.env(
        scripted_api,
        {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "ECC_HOOKS_TMUX_SOCKET": socket,
         "ECC_HOOKS_SUPERVISOR_TICK": "0.3", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    scripted_api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={
            "TASK-TALK": [
                tool("Bash", {"command": "touch approved.txt", "description": "make a file"}),
                say("FIRST-DONE"),
                tool("Bash", {"command": "touch denied.txt", "description": "make another"}),
                say("never said: the call was denied"),
            ]
        },
    )
    plan = tmp_path / "plan.json"
    worker = {"name": "w", "task": "TASK-TALK: make the files", "agent": "claude", "model": MODEL}
    plan.write_text(
        json.dumps({"sessionName": "talk", "repoRoot": str(ws.work), "worktreeRoot": str(root), "workers": [worker]})
    )
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ws.ecc_home))

    def ecc_hooks(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ecc_hooks", *args], capture_output=True, text=True, env=env,
                              cwd=ws.work, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip

    from ecc_hooks.runtime import launch, store

    def row() -> store.Worker:
        return store.Store().worker("talk", "w")

    def screen() -> str:
        return launch.capture_many([row().pane or ""], socket).get(row().pane or "", "")

    try:
        created = ecc_hooks("session", "create", str(plan), "--execute")
        assert created.returncode == 0, created.stderr
        wait_until(lambda: "Do you want to proceed?" in screen(), 120, lambda: f"{row()}\n{screen()}")
        typed = ecc_hooks("session", "send", "talk", "--worker", "w", "1")  # a digit would pick "1. Yes"
        assert typed.returncode == 1 and "permission prompt" in typed.stderr and "touch approved.txt" in typed.stderr
        stale = ecc_hooks("session", "approve", "talk", "--worker", "w", "--screen", "f" * 16)
        assert stale.returncode == 1 and "changed since you looked" in stale.stderr
        assert not (worktree / "approved.txt").exists()
        looked = ecc_hooks("session", "screen", "talk", "--worker", "w", "--json")
        assert looked.returncode == 0, looked.stderr
        seen = json.loads(looked.stdout)["fingerprint"]  # of the prompt: the rest of the screen blinks
        assert "touch approved.txt" in json.loads(looked.stdout)["permissionPrompt"]
        approved = ecc_hooks("session", "approve", "talk", "--worker", "w", "--screen", seen)
        assert approved.returncode == 0, approved.stderr
        assert "approved: Bash command / make a file / touch approved.txt / Do you want to proceed?" in approved.stdout
        wait_until(lambda: "FIRST-DONE" in screen(), 60, screen)
        assert (worktree / "approved.txt").exists()
        again = ecc_hooks("session", "approve", "talk", "--worker", "w")
        assert again.returncode == 1 and "not at a permission prompt" in again.stderr
        wait_until(lambda: row().state == "completed", 60, lambda: str(row()))

        sent = ecc_hooks("session", "send", "talk", "--worker", "w", "now make the other one")
        assert sent.returncode == 0, sent.stderr
        wait_until(lambda: "touch denied.txt" in screen() and "Do you want to proceed?" in screen(), 60, screen)
        denied = ecc_hooks("session", "deny", "talk", "--worker", "w")
        assert denied.returncode == 0, denied.stderr
        assert "denied: " in denied.stdout and "touch denied.txt" in denied.stdout
        wait_until(lambda: "Do you want to proceed?" not in screen(), 30, screen)
        assert not (worktree / "denied.txt").exists()
        prompts = [r.get("prompt") for r in ws.journal(row().agent_session or "") if r["event"] == "UserPromptSubmit"]
        assert len(prompts) == 2, prompts  # the task, then what was sent: submitted once, by Enter

        stopped = ecc_hooks("session", "stop", "talk", "--worker", "w", "--grace", "5")
        assert stopped.returncode == 0, stopped.stderr
        resumed = ecc_hooks("session", "resume", "talk", "--worker", "w", "--prompt", "pick it up again")
        assert resumed.returncode == 0, resumed.stderr

        def resumed_request() -> dict | None:
            asked = [r.body for r in scripted_api.requests if r.script == "TASK-TALK" and r.body]
            return next((b for b in asked if "pick it up again" in json.dumps(b["messages"][-1])), None)

        wait_until(lambda: resumed_request() is not None, 90, screen)  # pasted into the resumed client, submitted
        assert "FIRST-DONE" in json.dumps((resumed_request() or {})["messages"])  # the same conversation
    finally:
        stop_supervisor()
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
