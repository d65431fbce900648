"""The companion runtime with the real Claude Code client as its worker agent, against the scripted API.

One plan, three claude workers in worktrees and tmux panes on a private socket: one writes a file and finishes,
one runs the project's failing test command, one asks for permission to run a command and waits. Their states
come from their hooks (each started with ``--session-id`` we chose); the handoffs are written from their final
messages and git; ``session status --json`` is a valid ``ecc.session.v1``; and ECC's pinned
``orchestration-status.js`` and ``session-inspect.js`` read the same session with the same worker states.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.e2e.test_ecc_parity import ecc_root, validate_with_ecc
from tests.helpers import REPO, git, wait_until

pytestmark = pytest.mark.e2e

SESSION = "trio"


def status_states(repo: Path) -> dict[str, str]:
    out = {}
    for path in sorted((repo / ".orchestration" / SESSION).glob("*/status.md")):
        line = next((x for x in path.read_text().splitlines() if x.startswith("- State: ")), "- State: ?")
        out[path.parent.name] = line.removeprefix("- State: ")
    return out


@pytest.fixture
def trio(runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI) -> Any:
    world = runtime_world(SESSION, ["ok", "fail", "wait"])
    ws = world.ws
    (ws.work / "Makefile").write_text("test:\n\t@echo '1 failed, 2 passed'; exit 1\n")
    git(ws.work, "add", "Makefile")
    git(ws.work, "commit", "-qm", "tests")
    # the user's own settings: a permission, and no hooks of ours (the runtime gives its workers those itself)
    world.user_settings({"permissions": {"allow": ["Bash(make test)", "Bash(make test:*)"]}})
    worktrees = {slug: world.worktree(slug) for slug in ("ok", "fail", "wait")}
    scripted_api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={
            "TASK-OK": [
                tool("Write", {"file_path": str(worktrees["ok"] / "notes.md"), "content": "notes\n"}),
                say("Wrote notes.md with the notes.\nNothing else changed."),
            ],
            "TASK-FAIL": [
                tool("Bash", {"command": "make test", "description": "run the tests"}),
                say("The test suite fails: 1 failed, 2 passed."),
            ],
            "TASK-WAIT": [
                tool("Bash", {"command": "touch waited.txt", "description": "make a file"}),
                say("Made waited.txt."),
            ],
        },
    )
    workers = [
        {"name": "ok", "task": "TASK-OK: write the notes", "agent": "claude", "permissionMode": "acceptEdits"},
        {"name": "fail", "task": "TASK-FAIL: run the tests", "agent": "claude"},
        {"name": "wait", "task": "TASK-WAIT: make a file", "agent": "claude"},
    ]
    for worker in workers:
        worker["model"] = MODEL
    return ws, world.plan(workers), worktrees, world.ecc, world.tmux


def test_three_claude_workers_run_end_to_end_and_ecc_reads_them_the_same(trio: Any) -> None:
    ws, plan, worktrees, ecc_hooks, tmux = trio
    ecc = ecc_root()
    created = ecc_hooks("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    want = {"ok": "completed", "fail": "failed", "wait": "waiting"}
    wait_until(lambda: status_states(ws.work) == want, 120, lambda: f"{status_states(ws.work)} (want {want})")

    from ecc_hooks.runtime import store

    workers = {w.slug: w for w in store.Store().workers(SESSION)}
    assert workers["fail"].reason == "check failed: make test"
    assert workers["wait"].reason == "permission to use Bash"
    for slug, worker in workers.items():  # joined on the session id we chose
        events = [r["event"] for r in ws.journal(worker.agent_session or "")]
        assert "SessionStart" in events and "UserPromptSubmit" in events, (slug, events)  # not in firing order
        assert str(worktrees[slug]) == worker.worktree
    ok = (ws.work / ".orchestration" / SESSION / "ok" / "handoff.md").read_text()
    assert "- Wrote notes.md with the notes." in ok and "- `notes.md` (uncommitted)" in ok
    failed = (ws.work / ".orchestration" / SESSION / "fail" / "handoff.md").read_text()
    assert "- fail: `make test`" in failed and "- The test suite fails: 1 failed, 2 passed." in failed

    # ECC's tools read our session with the same states
    node_env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    theirs = subprocess.run(
        ["node", str(ecc / "scripts" / "orchestration-status.js"), str(plan)],
        capture_output=True, text=True, cwd=ws.work, env=node_env, timeout=60,
    )  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr
    ecc_states = {w["id"]: w["state"] for w in json.loads(theirs.stdout)["workers"]}
    assert ecc_states == want
    # ECC's tmux calls name no socket: pointed at ours ($TMUX), it finds each worker's pane by its title, which
    # Claude Code leaves alone (CLAUDE_CODE_DISABLE_TERMINAL_TITLE)
    socket_path = tmux("display-message", "-p", "#{socket_path}").stdout.strip()
    assert socket_path, "the workers' tmux server is not where their environment says"
    tmux_env = {**node_env, "TMUX": f"{socket_path},0,0"}
    with_panes = subprocess.run(
        ["node", str(ecc / "scripts" / "orchestration-status.js"), str(plan)],
        capture_output=True, text=True, cwd=ws.work, env=tmux_env, timeout=60,
    )  # fmt: skip
    assert with_panes.returncode == 0, with_panes.stderr
    runtimes = {w["id"]: w["runtime"] for w in json.loads(with_panes.stdout)["workers"]}
    assert all(r["pid"] for r in runtimes.values()), runtimes
    inspected = subprocess.run(
        ["node", str(ecc / "scripts" / "session-inspect.js"), str(plan)],
        capture_output=True, text=True, cwd=ws.work, env=node_env, timeout=60,
    )  # fmt: skip
    assert inspected.returncode == 0, inspected.stderr
    assert {w["id"]: w["state"] for w in json.loads(inspected.stdout)["workers"]} == want
    ecc_summary = {w["id"]: w["outputs"]["summary"] for w in json.loads(theirs.stdout)["workers"]}
    assert "Wrote notes.md with the notes." in ecc_summary["ok"]

    # ours: a valid ecc.session.v1 with the same states
    ours = ecc_hooks("session", "status", SESSION, "--json")
    assert ours.returncode == 0, ours.stderr
    snapshot = json.loads(ours.stdout)
    import jsonschema

    jsonschema.validate(snapshot, json.loads((REPO / "schemas" / "ecc.session.v1.schema.json").read_text()))
    validate_with_ecc(ecc, snapshot)
    assert {w["id"]: w["state"] for w in snapshot["workers"]} == want

    # the waiting worker gets its answer and finishes
    pane = workers["wait"].pane or ""
    assert tmux("send-keys", "-t", pane, "Enter").returncode == 0  # "1. Yes"
    wait_until(lambda: status_states(ws.work)["wait"] == "completed", 60, lambda: str(status_states(ws.work)))
    assert (worktrees["wait"] / "waited.txt").exists()
    assert "- Made waited.txt." in (ws.work / ".orchestration" / SESSION / "wait" / "handoff.md").read_text()


def test_claude_code_background_sessions_are_a_runtime(
    runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI
) -> None:
    """``runtime: claude-bg``: the worker is a ``claude --bg`` session (its id is the service's, learned from its
    answer and ``claude agents --json``); its state comes from its hooks; ``session stop`` is ``claude stop``.
    The world's teardown kills Claude Code's background service (and its sessions) started for the test's HOME."""
    world = runtime_world("bg", ["solo"], tmux=False)
    ws, ecc_hooks, worktree = world.ws, world.ecc, world.worktree("solo")
    scripted_api.scenario = Scenario(steps=[say("BACKGROUND-DONE: nothing to change.")])
    worker = {"name": "solo", "task": "look around", "agent": "claude", "runtime": "claude-bg", "model": MODEL}
    plan = world.plan([worker])

    from ecc_hooks.runtime import store

    created = ecc_hooks("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    state = lambda: store.Store().worker("bg", "solo")  # noqa: E731
    wait_until(lambda: state().state == "completed", 120, lambda: f"the background worker: {state()}")
    solo = state()
    assert solo.handle and solo.agent_session and solo.agent_session.startswith(solo.handle)
    assert "SessionStart" in [r["event"] for r in ws.journal(solo.agent_session)]  # hooks: not in firing order
    listed = subprocess.run(["claude", "agents", "--json", "--all"], capture_output=True,  # the one on its PATH
                            text=True, env=world.env, cwd=worktree, timeout=60)  # fmt: skip
    assert any(s["id"] == solo.handle for s in json.loads(listed.stdout))
    handoff = (ws.work / ".orchestration" / "bg" / "solo" / "handoff.md").read_text()
    assert "- BACKGROUND-DONE: nothing to change." in handoff
    refused = ecc_hooks("session", "send", "bg", "--worker", "solo", "more")  # no pane of ours to type into
    assert refused.returncode == 1 and "background session" in refused.stderr
    assert f"claude attach {solo.handle}" in refused.stderr
    logs = ecc_hooks("session", "logs", "bg", "--worker", "solo")  # what the background service keeps
    assert logs.returncode == 0 and "BACKGROUND-DONE" in logs.stdout, logs.stderr
    stopped = ecc_hooks("session", "stop", "bg", "--grace", "5")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped by claude stop" in stopped.stdout or "not running" in stopped.stdout
