"""``session send``, ``approve`` and ``deny`` with the real Claude Code client as a tmux worker, against the scripted
API: the worker stops at its permission prompt; text sent then is refused (it would answer the prompt), an answer
for a screen that changed is refused, ``approve`` runs the command; ``send`` gives the finished worker a new prompt,
which asks again, and ``deny`` keeps the command from running."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def test_a_claude_worker_is_answered_and_prompted_without_attaching(
    runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI
) -> None:
    world = runtime_world("talk", ["w"])
    world.env["ECC_HOOKS_NO_WATCHER"] = "0"  # as on a user's machine: the watcher reads what no hook says (a deny)
    ws, ecc_hooks, worktree = world.ws, world.ecc, world.worktree("w")
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
    plan = world.plan([{"name": "w", "task": "TASK-TALK: make the files", "agent": "claude", "model": MODEL}])

    from ecc_hooks.runtime import launch, store

    def row() -> store.Worker:
        return world.worker("w")

    def screen() -> str:
        return launch.capture_many([row().pane or ""], world.socket).get(row().pane or "", "")

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
    from ecc_hooks.runtime.detect import DENIED

    # the client asks "What should Claude do instead?": the worker waits for the person (it said running for ever)
    wait_until(lambda: (row().state, row().reason) == ("waiting", DENIED), 60, lambda: (row().state, row().reason))
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
