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
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import remove_socket, stop_supervisor
from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.harness import Workspace
from tests.e2e.test_ecc_parity import ecc_root, validate_with_ecc
from tests.e2e.tmux_runner import tmux_available
from tests.helpers import REPO, git, wait_until

pytestmark = pytest.mark.e2e

SESSION = "trio"
MODEL = "claude-sonnet-4-5"


def status_states(repo: Path) -> dict[str, str]:
    out = {}
    for path in sorted((repo / ".orchestration" / SESSION).glob("*/status.md")):
        line = next((x for x in path.read_text().splitlines() if x.startswith("- State: ")), "- State: ?")
        out[path.parent.name] = line.removeprefix("- State: ")
    return out


@pytest.fixture
def trio(workspace: Workspace, scripted_api: ScriptedAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if not tmux_available():
        pytest.skip("tmux not installed")
    ws = workspace
    for key, value in (("user.email", "w@example.com"), ("user.name", "w")):
        git(ws.work, "config", key, value)
    (ws.work / "Makefile").write_text("test:\n\t@echo '1 failed, 2 passed'; exit 1\n")
    git(ws.work, "add", "Makefile")
    git(ws.work, "commit", "-qm", "tests")
    # the user's own settings: a permission, and no hooks of ours (the runtime gives its workers those itself)
    user_settings = {"permissions": {"allow": ["Bash(make test)", "Bash(make test:*)"]}}
    (ws.home / ".claude" / "settings.json").write_text(json.dumps(user_settings))
    root = tmp_path / "worktrees"
    root.mkdir()
    worktrees = {slug: root / f"{ws.work.name}-{SESSION}-{slug}" for slug in ("ok", "fail", "wait")}
    config = json.loads((ws.home / ".claude.json").read_text())
    for path in worktrees.values():  # trusted as the main work dir is (the user accepted the dialog)
        config["projects"][str(path)] = dict(config["projects"][str(ws.work)])
    (ws.home / ".claude.json").write_text(json.dumps(config, indent=2))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(ws.claude)  # as installed: no --settings of ours added by the test
    socket = f"ecc-e2e-{os.getpid()}"
    env = ws.env(
        scripted_api,
        {
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "ECC_HOOKS_TMUX_SOCKET": socket,
            "ECC_HOOKS_SUPERVISOR_TICK": "0.3",
            "PYTHONPATH": str(REPO),
        },
    )
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
    plan = tmp_path / "plan.json"
    workers = [
        {"name": "ok", "task": "TASK-OK: write the notes", "agent": "claude", "permissionMode": "acceptEdits"},
        {"name": "fail", "task": "TASK-FAIL: run the tests", "agent": "claude"},
        {"name": "wait", "task": "TASK-WAIT: make a file", "agent": "claude"},
    ]
    for worker in workers:
        worker["model"] = MODEL
    plan.write_text(
        json.dumps({"sessionName": SESSION, "repoRoot": str(ws.work), "worktreeRoot": str(root), "workers": workers})
    )
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ws.ecc_home))

    def ecc_hooks(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ecc_hooks", *args],
            capture_output=True, text=True, env=env, cwd=ws.work, timeout=120,
        )  # fmt: skip

    def tmux(*args: str) -> subprocess.CompletedProcess[str]:
        """tmux on the workers' server, in the workers' environment (``TMUX_TMPDIR`` decides where its socket is)."""
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, env=env, timeout=30)

    yield ws, plan, worktrees, ecc_hooks, tmux
    tmux("kill-server")
    stop_supervisor()
    remove_socket(socket)


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


def _kill_background_service(home: Path) -> None:
    """Claude Code's background service (and its sessions) started for this test's HOME: gone."""
    import signal

    needle = f"HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in environ:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_claude_code_background_sessions_are_a_runtime(
    workspace: Workspace, scripted_api: ScriptedAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``runtime: claude-bg``: the worker is a ``claude --bg`` session (its id is the service's, learned from its
    answer and ``claude agents --json``); its state comes from its hooks; ``session stop`` is ``claude stop``."""
    ws = workspace
    root = tmp_path / "worktrees"
    root.mkdir()
    worktree = root / f"{ws.work.name}-bg-solo"
    config = json.loads((ws.home / ".claude.json").read_text())
    config["projects"][str(worktree)] = dict(config["projects"][str(ws.work)])
    (ws.home / ".claude.json").write_text(json.dumps(config, indent=2))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(ws.claude)  # as installed: the runtime passes its hooks (--bg --settings)
    scripted_api.scenario = Scenario(steps=[say("BACKGROUND-DONE: nothing to change.")])
    env = ws.env(
        scripted_api,
        {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "ECC_HOOKS_TMUX_SOCKET": f"ecc-bg-{os.getpid()}",
         "ECC_HOOKS_SUPERVISOR_TICK": "0.3", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ws.ecc_home))
    plan = tmp_path / "plan.json"
    worker = {"name": "solo", "task": "look around", "agent": "claude", "runtime": "claude-bg", "model": MODEL}
    plan.write_text(
        json.dumps({"sessionName": "bg", "repoRoot": str(ws.work), "worktreeRoot": str(root), "workers": [worker]})
    )

    def ecc_hooks(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ecc_hooks", *args], capture_output=True, text=True, env=env,
                              cwd=ws.work, timeout=120)  # fmt: skip

    from ecc_hooks.runtime import store

    try:
        created = ecc_hooks("session", "create", str(plan), "--execute")
        assert created.returncode == 0, created.stderr
        state = lambda: store.Store().worker("bg", "solo")  # noqa: E731
        wait_until(lambda: state().state == "completed", 120, lambda: f"the background worker: {state()}")
        solo = state()
        assert solo.handle and solo.agent_session and solo.agent_session.startswith(solo.handle)
        assert "SessionStart" in [r["event"] for r in ws.journal(solo.agent_session)]  # hooks: not in firing order
        listed = subprocess.run([str(bin_dir / "claude"), "agents", "--json", "--all"], capture_output=True,
                                text=True, env=env, cwd=worktree, timeout=60)  # fmt: skip
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
    finally:
        stop_supervisor()
        _kill_background_service(ws.home)
