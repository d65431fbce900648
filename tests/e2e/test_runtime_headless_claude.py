"""A headless Claude Code worker (``claude -p``, runtime ``headless``) of the companion runtime, with the real client
against the scripted API: its run ends ``"subtype":"success"`` and its journal SessionStart, UserPromptSubmit, Stop,
SessionEnd. It is ``completed`` everywhere a state is shown: the runtime's store, status.md, handoff.md,
``session status --json``, the HUD of the repository and of the worker's own session, ``inspect`` of that session,
and ECC's ``orchestration-status.js``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.e2e.test_ecc_parity import ecc_root
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

SESSION = "printed"


def test_a_headless_claude_worker_that_succeeded_is_completed_everywhere(
    runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI
) -> None:
    world = runtime_world(SESSION, [], tmux=False)
    ws, ecc_hooks, worktree = world.ws, world.ecc, world.worktree("solo")
    scripted_api.scenario = Scenario(
        steps=[
            tool("Write", {"file_path": str(worktree / "notes.md"), "content": "notes\n"}),
            say("PRINTED-DONE: wrote notes.md."),
        ]
    )
    worker = {"name": "solo", "task": "write the notes", "agent": "claude", "runtime": "headless", "model": MODEL,
              "permissionMode": "acceptEdits"}  # fmt: skip
    plan = world.plan([worker])

    from ecc_hooks.runtime import detect, launch, store

    created = ecc_hooks("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    state = lambda: store.Store().worker(SESSION, "solo")  # noqa: E731
    wait_until(lambda: state().handoff_done, 120, lambda: f"the headless worker to finish: {state()}")
    solo = state()
    assert (solo.state, solo.reason) == ("completed", None)
    output = Path(launch.state_dir(SESSION, "solo"), "output.log")  # its Stop may come before its last line
    wait_until(lambda: '"subtype":"success"' in output.read_text(), 30, "the client's own verdict: success")
    # the client's last hooks land after its exit may be seen: the journal ends Stop, SessionEnd, the sequence
    # that read as a failure; the whole journal read afresh (as a restarted supervisor reads it) says completed
    main_events = lambda: [r["event"] for r in ws.journal(solo.agent_session or "") if not r.get("agentId")]  # noqa: E731
    wait_until(lambda: main_events()[-1:] == ["SessionEnd"], 30, lambda: f"SessionEnd in {main_events()}")
    assert "Stop" in main_events()
    follower = detect.JournalFollower(str(ws.ecc_home / "sessions" / (solo.agent_session or "") / "events.jsonl"))
    assert follower.poll() and follower.verdict() == ("completed", None)

    coordination = ws.work / ".orchestration" / SESSION / "solo"
    assert "- State: completed" in (coordination / "status.md").read_text()
    handoff = (coordination / "handoff.md").read_text()
    assert "completed" in handoff and "PRINTED-DONE: wrote notes.md." in handoff and "failed" not in handoff
    ours = ecc_hooks("session", "status", SESSION, "--json")
    assert ours.returncode == 0, ours.stderr
    assert [w["state"] for w in json.loads(ours.stdout)["workers"]] == ["completed"]

    # the HUD of the repository names no failed worker; the worker's own session ended after its turn
    repo_hud = ecc_hooks("status", "--json", "--all")
    assert repo_hud.returncode == 0, repo_hud.stderr
    assert "failed" not in repo_hud.stdout, repo_hud.stdout
    own = ecc_hooks("status", "--json", "--session", solo.agent_session or "")
    assert json.loads(own.stdout)["context"]["turnState"] == "ended"
    inspected = ecc_hooks("inspect", solo.agent_session or "")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["workers"][0]["state"] == "completed"

    node_env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    theirs = subprocess.run(["node", str(ecc_root() / "scripts" / "orchestration-status.js"), str(plan)],
                            capture_output=True, text=True, cwd=ws.work, env=node_env, timeout=60)  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr
    assert {w["id"]: w["state"] for w in json.loads(theirs.stdout)["workers"]} == {"solo": "completed"}
