"""``session conflicts --resolve`` on a headless worker, with the real Claude Code client against the scripted API.

A headless ``claude -p`` has no one to ask for a permission: in its default mode the ``git merge`` it is told to
run, and its edits, are denied. The resolver is started with what it needs granted up front (``acceptEdits`` and
an ``--allowedTools`` list of the git commands a merge takes), so a scripted resolution's merge runs and is
committed on the worker's branch, and the queue finds the worker ready.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.runtime_world import RuntimeWorld
from tests.helpers import git, wait_until

pytestmark = pytest.mark.e2e

SESSION = "fix"


def test_a_headless_resolver_runs_the_git_merge_it_is_told_to(
    runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI
) -> None:
    world = runtime_world(SESSION, [], tmux=False)
    ws, ecc_hooks, worktree = world.ws, world.ecc, world.worktree("w")
    (ws.work / "shared.txt").write_text("one\n")
    git(ws.work, "add", "shared.txt")
    git(ws.work, "commit", "-qm", "a shared file")

    def state() -> Any:
        listed = json.loads(ecc_hooks("session", "list", "--json").stdout)
        return listed[0]["workers"][0]["state"]

    scripted_api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={
            "conflicts with the base": [
                tool("Bash", {"command": "git merge main", "description": "merge the base"}),
                tool("Read", {"file_path": str(worktree / "shared.txt")}),
                tool("Write", {"file_path": str(worktree / "shared.txt"), "content": "ours and theirs\n"}),
                tool("Bash", {"command": "git add shared.txt && git commit --no-edit -q", "description": "commit"}),
                say("Merged main into the branch, keeping both edits."),
            ]
        },
    )
    commit = "printf 'theirs\\n' > shared.txt && git add shared.txt && git commit -qm theirs"
    plan = world.plan([{"name": "w", "task": "edit the shared file", "runtime": "headless", "launcherCommand": commit}])
    created = ecc_hooks("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    wait_until(lambda: state() == "completed", 60, lambda: f"the worker to finish: {state()}")
    (ws.work / "shared.txt").write_text("ours\n")
    git(ws.work, "commit", "-qam", "the base edits the shared file")
    base = git(ws.work, "rev-parse", "main")
    resolving = ecc_hooks("session", "conflicts", SESSION, "--resolve", "w")
    assert resolving.returncode == 0, resolving.stderr

    def parents() -> list[str]:
        return git(ws.work, "log", "-1", "--format=%P", f"orchestrator-{SESSION}-w").split()

    wait_until(lambda: base in parents(), 120, lambda: f"the resolver's merge: {parents()} {state()}")
    assert len(parents()) == 2
    assert git(ws.work, "show", f"orchestrator-{SESSION}-w:shared.txt") == "ours and theirs"
    wait_until(lambda: state() not in ("starting", "running"), 60, lambda: f"the resolver to end: {state()}")
    queued = json.loads(ecc_hooks("session", "merge-queue", SESSION, "--json").stdout)
    assert queued[0]["readyToMerge"], queued
    asked = [r for r in scripted_api.message_requests("conflicts with the base")]
    assert asked, "the resolver never asked the API"
