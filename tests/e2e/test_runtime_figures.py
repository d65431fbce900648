"""Per-worker figures in ``session status`` with the real Claude Code client against the scripted API: a headless
Claude Code worker's cost equals the ``total_cost_usd`` Claude Code itself reports in its result, its tool calls are
the calls it made, its elapsed time runs from its launch to its finish; a script worker beside it is a ``script``
with no cost. Joined by the session id the runtime chose (``--session-id``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, Usage, say, tool
from tests.e2e.runtime_world import MODEL, RuntimeWorld
from tests.helpers import git, wait_until

pytestmark = pytest.mark.e2e


def test_a_workers_figures_are_claude_codes_own(
    runtime_world: Callable[..., RuntimeWorld], scripted_api: ScriptedAPI
) -> None:
    world = runtime_world("figs", ["cc"], tmux=False)
    ws, ecc_hooks, worktree = world.ws, world.ecc, world.worktree("cc")
    (ws.work / "README.md").write_text("read me\n")
    git(ws.work, "add", "README.md")
    git(ws.work, "commit", "-qm", "readme")
    big = Usage(input_tokens=12_000, output_tokens=900, cache_5m=3_000)
    scripted_api.scenario = Scenario(
        steps=[say("unexpected conversation")],
        subagents={
            "TASK-FIGS": [
                tool("Read", {"file_path": str(worktree / "README.md")}, usage=big),
                tool("Read", {"file_path": str(worktree / "README.md"), "offset": 1}, usage=big),
                say("FIGURES-DONE", usage=big),
            ]
        },
    )
    plan = world.plan(
        [
            {"name": "cc", "task": "TASK-FIGS: read", "agent": "claude", "runtime": "headless", "model": MODEL},
            {"name": "sh", "task": "t", "runtime": "headless", "launcherCommand": "echo script done"},
        ]
    )

    from ecc_hooks.runtime import launch, store

    def result() -> dict | None:
        for line in reversed(Path(launch.log_path("figs", "cc")).read_text().splitlines()):
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("type") == "result":
                return record
        return None

    created = ecc_hooks("session", "create", str(plan), "--execute")
    assert created.returncode == 0, created.stderr
    done = lambda: all(w.handoff_done for w in store.Store().workers("figs"))  # noqa: E731
    wait_until(lambda: done() and result() is not None, 120, lambda: str(store.Store().workers("figs")))
    own = result() or {}
    status = ecc_hooks("session", "status", "figs", "--json")
    assert status.returncode == 0, status.stderr
    figures = {w["id"]: w["figures"] for w in json.loads(status.stdout)["workers"]}
    cc = figures["cc"]
    assert cc["agent"] == "claude" and cc["sessionId"] == store.Store().worker("figs", "cc").agent_session
    assert own["session_id"] == cc["sessionId"]
    assert own["total_cost_usd"] > 0
    micro = Decimal("0.000001")
    assert Decimal(str(cc["costUsd"])).quantize(micro) == Decimal(str(own["total_cost_usd"])).quantize(micro)  # its own
    assert cc["toolCalls"] == 2
    assert cc["contextUsedPct"] is not None and 0 < cc["contextUsedPct"] < 100
    worker = store.Store().worker("figs", "cc")
    assert cc["elapsedSeconds"] == pytest.approx((worker.finished_at or 0) - (worker.started_at or 0))
    assert figures["sh"]["agent"] == "script" and figures["sh"]["costUsd"] is None
    assert figures["sh"]["toolCalls"] is None
    table = ecc_hooks("session", "status", "figs")
    row = next(line.split() for line in table.stdout.splitlines() if line.split()[:1] == ["cc"])
    assert row[2:6] == ["claude", f"${cc['costUsd']:.2f}", f"{cc['contextUsedPct']:.0f}%", "2"]
