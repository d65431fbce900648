"""Per-worker figures in ``session status`` with the real Claude Code client against the scripted API: a headless
Claude Code worker's cost equals the ``total_cost_usd`` Claude Code itself reports in its result, its tool calls are
the calls it made, its elapsed time runs from its launch to its finish; a script worker beside it is a ``script``
with no cost. Joined by the session id the runtime chose (``--session-id``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import stop_supervisor
from tests.e2e.api_server import Scenario, ScriptedAPI, Usage, say, tool
from tests.e2e.harness import Workspace
from tests.helpers import REPO, wait_until

pytestmark = pytest.mark.e2e

MODEL = "claude-sonnet-4-5"


def test_a_workers_figures_are_claude_codes_own(
    workspace: Workspace, scripted_api: ScriptedAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace
    root = tmp_path / "worktrees"
    root.mkdir()
    worktree = root / f"{ws.work.name}-figs-cc"
    config = json.loads((ws.home / ".claude.json").read_text())
    config["projects"][str(worktree)] = dict(config["projects"][str(ws.work)])
    (ws.home / ".claude.json").write_text(json.dumps(config, indent=2))
    (ws.work / "README.md").write_text("read me\n")
    subprocess.run(["git", "-C", str(ws.work), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(ws.work), "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "readme"],
                   check=True)  # fmt: skip
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(f'#!/bin/sh\nexec {ws.claude} --settings {ws.settings} "$@"\n')
    (bin_dir / "claude").chmod(0o755)
    env = ws.env(
        scripted_api,
        {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "ECC_HOOKS_TMUX_SOCKET": f"ecc-fig-{os.getpid()}",
         "ECC_HOOKS_SUPERVISOR_TICK": "0.3", "PYTHONPATH": str(REPO)},
    )  # fmt: skip
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
    plan = tmp_path / "plan.json"
    workers = [
        {"name": "cc", "task": "TASK-FIGS: read", "agent": "claude", "runtime": "headless", "model": MODEL},
        {"name": "sh", "task": "t", "runtime": "headless", "launcherCommand": "echo script done"},
    ]
    plan.write_text(
        json.dumps({"sessionName": "figs", "repoRoot": str(ws.work), "worktreeRoot": str(root), "workers": workers})
    )
    monkeypatch.setenv("ECC_HOOKS_HOME", str(ws.ecc_home))

    def ecc_hooks(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ecc_hooks", *args], capture_output=True, text=True, env=env,
                              cwd=ws.work, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip

    from ecc_hooks.runtime import launch, store

    def result() -> dict | None:
        for line in reversed(Path(launch.log_path("figs", "cc")).read_text().splitlines()):
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("type") == "result":
                return record
        return None

    try:
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
        assert Decimal(str(cc["costUsd"])).quantize(Decimal("0.000001")) == Decimal(
            str(own["total_cost_usd"])
        ).quantize(Decimal("0.000001"))  # Claude Code's own figure
        assert cc["toolCalls"] == 2
        assert cc["contextUsedPct"] is not None and 0 < cc["contextUsedPct"] < 100
        worker = store.Store().worker("figs", "cc")
        assert cc["elapsedSeconds"] == pytest.approx((worker.finished_at or 0) - (worker.started_at or 0))
        assert figures["sh"]["agent"] == "script" and figures["sh"]["costUsd"] is None
        assert figures["sh"]["toolCalls"] is None
        table = ecc_hooks("session", "status", "figs")
        row = next(line.split() for line in table.stdout.splitlines() if line.split()[:1] == ["cc"])
        assert row[2:6] == ["claude", f"${cc['costUsd']:.2f}", f"{cc['contextUsedPct']:.0f}%", "2"]
    finally:
        stop_supervisor()
