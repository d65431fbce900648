"""A headless Claude Code worker (``claude -p``) resumed with a new prompt, resumed without one, and retried, with
the real client against the scripted API: the resumed runs continue its own session (same id, the earlier
conversation in the request), each on the prompt given or the default "continue" one; a retry starts the
original task again in a new session. Before this, ``session resume`` ran ``claude --resume <id>`` without a
prompt and the client refused ("No deferred tool marker found ... Provide a prompt")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ecc_hooks.runtime import agents
from tests.e2e.api_server import Scenario, ScriptedAPI, message_text, say
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def test_a_headless_claude_worker_resumes_with_a_prompt_and_retries(
    runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI
) -> None:
    world = runtime_world("again", ["w"], tmux=False)
    ecc_hooks = world.ecc
    scripted_api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={"TASK-AGAIN": [say("FIRST-RUN-DONE"), say("SECOND-RUN-DONE"), say("THIRD-RUN-DONE")]},
    )
    worker = {"name": "w", "task": "TASK-AGAIN: look", "agent": "claude", "runtime": "headless", "model": MODEL,
              "permissionMode": "acceptEdits"}  # fmt: skip
    plan = world.plan([worker])

    from ecc_hooks.runtime import launch, store

    def row() -> store.Worker:
        return world.worker("w")

    def log() -> str:
        return Path(launch.log_path("again", "w")).read_text()

    def finished(launches: int) -> bool:
        w = row()
        return w.launches == launches and w.handoff_done == 1

    def asked() -> list[str]:
        """The last user message of each conversation request, in order."""
        return [
            message_text(r.body["messages"][-1]) for r in scripted_api.requests if r.script == "TASK-AGAIN" and r.body
        ]

    created = ecc_hooks("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    wait_until(lambda: finished(1), 120, lambda: f"{row()}\n{log()}")
    first = row().agent_session
    wait_until(lambda: '"result":"FIRST-RUN-DONE"' in log(), 30, log)

    resumed = ecc_hooks("session", "resume", "again", "--worker", "w", "--prompt", "TASK-AGAIN more: and now this")
    assert resumed.returncode == 0, resumed.stderr
    wait_until(lambda: finished(2), 120, lambda: f"{row()}\n{log()}")
    wait_until(lambda: "SECOND-RUN-DONE" in log(), 30, log)
    assert "No deferred tool marker" not in log()
    assert row().agent_session == first  # its own session, continued
    assert "TASK-AGAIN more: and now this" in asked()[-1]
    conversation = [r for r in scripted_api.requests if r.script == "TASK-AGAIN" and r.body][-1].body
    assert "FIRST-RUN-DONE" in json.dumps(conversation["messages"])  # with what came before
    assert conversation["model"] == MODEL

    default = ecc_hooks("session", "resume", "again", "--worker", "w")
    assert default.returncode == 0, default.stderr
    wait_until(lambda: finished(3), 120, lambda: f"{row()}\n{log()}")
    assert asked()[-1].endswith(agents.RESUME_PROMPT)
    wait_until(lambda: "THIRD-RUN-DONE" in log(), 30, log)

    once = log().count("FIRST-RUN-DONE")
    store.Store().transition(row(), "stopped", "stopped by the test")  # (finished: a stop leaves it as it is)
    retried = ecc_hooks("session", "retry", "again", "--worker", "w")
    assert retried.returncode == 0, retried.stderr
    wait_until(lambda: finished(4), 120, lambda: f"{row()}\n{log()}")
    assert row().agent_session not in (None, first)  # a new session, from the original task
    assert "TASK-AGAIN: look" in asked()[-1]
    wait_until(lambda: log().count("FIRST-RUN-DONE") == 2 * once, 30, log)  # its output follows its Stop hook
