"""The runtime gives its Claude Code workers our hooks itself: with none in the user's settings their states follow
their hooks, and with ours in the user's and the project's settings too each event is one journal line.

The real client, ``claude`` on PATH as installed (no wrapper adding ``--settings``), a scripted API, real tmux on
its own socket. Before the runtime passed its settings layer, the first test's worker had no journal at all (it
sat ``running``, then ``stale``), and the second's journal had two lines per event (the user's older command and
the project's current one both ran).
"""

from __future__ import annotations

import collections
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from ecc_hooks.core import paths
from tests.e2e.api_server import Scenario, ScriptedAPI, say, tool
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.helpers import git, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(runtime_world: Callable[..., RuntimeWorld]) -> RuntimeWorld:
    return runtime_world("hooked", ["tui", "cli"])


def worker_states(world: RuntimeWorld) -> dict[str, str]:
    return {w.slug: w.state for w in world.store().workers(world.session)}


def start(world: RuntimeWorld, api: ScriptedAPI) -> None:
    api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={
            "TASK-TUI": [
                tool("Write", {"file_path": str(world.worktree("tui") / "notes.md"), "content": "notes\n"}),
                say("Wrote notes.md."),
            ],
            "TASK-CLI": [say("Nothing to change.")],
        },
    )
    plan = world.plan(
        [
            {"name": "tui", "task": "TASK-TUI: write notes", "agent": "claude", "permissionMode": "acceptEdits",
             "model": MODEL},
            {"name": "cli", "task": "TASK-CLI: look", "agent": "claude", "runtime": "headless", "model": MODEL},
        ]
    )  # fmt: skip
    created = world.ecc("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr


def journal_of(world: RuntimeWorld, slug: str) -> list[dict]:
    worker = world.store().worker(world.session, slug)
    return world.ws.journal(worker.agent_session or "")


def test_without_hooks_in_the_users_settings_a_worker_follows_its_hooks(
    world: RuntimeWorld, scripted_api: ScriptedAPI
) -> None:
    assert not (world.ws.home / ".claude" / "settings.json").exists()  # the user installed nothing
    start(world, scripted_api)
    wait_until(lambda: worker_states(world)["tui"] == "completed", 120, lambda: str(worker_states(world)))
    events = [r["event"] for r in journal_of(world, "tui")]
    assert {"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop"} <= set(events), events
    wait_until(lambda: "Stop" in [r["event"] for r in journal_of(world, "cli")], 120, "the headless worker's hooks")
    layer = Path(paths.runtime_settings_path())
    assert stat.S_IMODE(layer.stat().st_mode) == 0o600
    assert set(json.loads(layer.read_text())["hooks"]) >= {"SessionStart", "Stop", "PreToolUse", "Notification"}


def test_hooks_in_the_users_and_the_projects_settings_record_each_event_once(
    world: RuntimeWorld, scripted_api: ScriptedAPI
) -> None:
    from ecc_hooks.cli import install

    ws = world.ws
    # the project's settings carry today's command (committed: every worktree has them); the user's an older
    # installation's (another module path): Claude Code runs both, and our layer's too (identical to the project's)
    project = ws.work / ".claude" / "settings.json"
    project.parent.mkdir()
    project.write_text(json.dumps({"hooks": install.hooks_section(install.python_command(install.HOOK_MODULE))}))
    git(ws.work, "add", ".claude/settings.json")
    git(ws.work, "commit", "-qm", "project hooks")
    older = install.python_command("ecc_hooks.hook")
    world.user_settings({"hooks": install.hooks_section(older)})
    start(world, scripted_api)
    wait_until(lambda: worker_states(world)["tui"] == "completed", 120, lambda: str(worker_states(world)))
    wait_until(lambda: "Stop" in [r["event"] for r in journal_of(world, "cli")], 120, "the headless worker's hooks")
    for slug in ("tui", "cli"):
        records = journal_of(world, slug)
        # a notification may come again later (the idle prompt's): every other event is one of its own
        counted = collections.Counter((r["event"], r.get("toolUseId")) for r in records if r["event"] != "Notification")
        assert counted[("SessionStart", None)] == 1 and counted[("UserPromptSubmit", None)] == 1, counted
        assert max(counted.values()) == 1, (slug, counted)
