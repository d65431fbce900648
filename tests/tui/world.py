"""A HUD's world on disk, built by the product's own writers: Claude Code sessions recorded by the real hook code
(``capture.hook.handle``) at fixed times and folded into ``hud.json`` by the status path's fold (as the watcher
writes it), and a runtime export (``runtime/workers.json``) in the shape ``runtime.snapshot.export`` writes.

Times are fixed (``T0``) and the app's clock is frozen at ``NOW`` in tests, so ages and SVG snapshots are the
same on every run.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
NOW = datetime.fromtimestamp(T0 + 185, timezone.utc)  # the app's frozen clock

WAITING = "5e55a001-0000-4000-8000-00000000000a"
RUNNING = "5e55a002-0000-4000-8000-00000000000b"
IDLE = "5e55a003-0000-4000-8000-00000000000c"
WORKER_W1 = "5e55a004-0000-4000-8000-00000000000d"
WORKER_W2 = "5e55a005-0000-4000-8000-00000000000e"


def record(session: str, cwd: str, at: float, event: str, **fields: Any) -> None:
    """One hook event through the real recorder, as Claude Code's hook would deliver it at ``at``."""
    from ecc_hooks.capture import hook

    payload = {
        "session_id": session,
        "hook_event_name": event,
        "cwd": cwd,
        "transcript_path": f"/nonexistent/{session}.jsonl",
        **fields,
    }
    hook.handle(json.dumps(payload).encode(), None, at, start=False)


def fold(session: str) -> None:
    """The session's ``hud.json`` as the watcher writes it: the fold of its journal, written atomically."""
    from ecc_hooks.core import fsio, paths
    from ecc_hooks.hud import inputs

    payload = inputs.session_payload(session, now=NOW, use_gh=False)
    fsio.atomic_write(os.path.join(paths.session_dir(session), "hud.json"), payload.model_dump_json().encode())


def sensor(session: str, cwd: str, at: float, nth: int) -> None:
    """What the status line would have recorded for the session: the ``nth`` real status line stdin with a cost
    (captured from the pinned client), re-keyed to it."""
    from ecc_hooks.statusline import render
    from tests.helpers import CAPTURES

    lines = [json.loads(x) for x in (CAPTURES / "statusline-stdin.jsonl").read_text().splitlines() if x.strip()]
    costly = [x for x in lines if (x.get("cost") or {}).get("total_cost_usd")]
    stdin = {**costly[nth % len(costly)], "session_id": session, "cwd": cwd, "transcript_path": "/nonexistent.jsonl"}
    render.record_sensor(session, stdin, at)


def bash(command: str, use: str) -> dict[str, Any]:
    return {"tool_name": "Bash", "tool_input": {"command": command, "description": "run it"}, "tool_use_id": use}


def sessions(work: Path) -> None:
    """Three plain sessions (one at a permission prompt, one working, one idle with a failing check) and the Claude
    Code sessions of two runtime workers."""
    app = work / "my-app"
    api = work / "api"
    for folder in (app, api):
        folder.mkdir(parents=True, exist_ok=True)
    record(WAITING, str(app), T0, "SessionStart", source="startup")
    record(WAITING, str(app), T0 + 1, "UserPromptSubmit", prompt="clean the build folder")
    record(WAITING, str(app), T0 + 2, "PreToolUse", **bash("rm -rf build", "t1"))
    record(WAITING, str(app), T0 + 3, "PermissionRequest", tool_name="Bash", tool_input={"command": "rm -rf build"})
    record(WAITING, str(app), T0 + 4, "Notification", notification_type="permission_prompt",
           message="Claude needs your permission to use Bash")  # fmt: skip

    record(RUNNING, str(api), T0 + 10, "SessionStart", source="startup")
    record(RUNNING, str(api), T0 + 11, "UserPromptSubmit", prompt="add the /health endpoint and its tests")
    record(RUNNING, str(api), T0 + 12, "PreToolUse", **bash("pytest -q", "t2"))
    record(RUNNING, str(api), T0 + 20, "PostToolUse", **bash("pytest -q", "t2"),
           tool_response={"stdout": "12 passed", "stderr": "", "interrupted": False})  # fmt: skip
    record(RUNNING, str(api), T0 + 21, "PreToolUse", tool_name="Edit", tool_use_id="t3",
           tool_input={"file_path": str(api / "app.py"), "old_string": "a", "new_string": "b"})  # fmt: skip

    record(IDLE, str(app), T0 + 30, "SessionStart", source="startup")
    record(IDLE, str(app), T0 + 31, "UserPromptSubmit", prompt="make the linter pass")
    record(IDLE, str(app), T0 + 32, "PreToolUse", **bash("npm test", "t4"))
    record(IDLE, str(app), T0 + 40, "PostToolUseFailure", **bash("npm test", "t4"), error="Exit code 1: 3 failed")
    record(IDLE, str(app), T0 + 41, "Stop", last_assistant_message="Three tests still fail.")

    for sid, task in ((WORKER_W1, "add the endpoint"), (WORKER_W2, "write the docs")):
        record(sid, str(work / "wt" / sid[:8]), T0 + 50, "SessionStart", source="startup")
        record(sid, str(work / "wt" / sid[:8]), T0 + 51, "UserPromptSubmit", prompt=task)
        record(sid, str(work / "wt" / sid[:8]), T0 + 60, "Stop", last_assistant_message="done")
    for n, (sid, cwd) in enumerate(((WAITING, app), (RUNNING, api), (IDLE, app), (WORKER_W1, work / "wt" / "w1"))):
        sensor(sid, str(cwd), T0 + 45, n)
    for sid in (WAITING, RUNNING, IDLE, WORKER_W1, WORKER_W2):
        fold(sid)


def workers(home: Path, work: Path) -> dict[str, Any]:
    """A runtime export: session ``api`` with two finished Claude Code workers, a failed script worker and a merged
    one, and the merge and conflict queues the supervisor computed."""
    stamp = datetime.fromtimestamp(T0 + 100, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

    def worker(slug: str, state: str, agent: str, task: str, session: str | None = None, reason: str | None = None):
        return {
            "id": f"api/{slug}",
            "state": state,
            "reason": reason,
            "branch": f"orchestrator-api-{slug}",
            "worktree": str(work / "wt" / slug),
            "objective": task,
            "handoffPath": str(work / ".orchestration" / "api" / slug / "handoff.md"),
            "agent": agent,
            "agentSession": session,
            "updatedAt": stamp,
            "pullRequest": None,
        }

    entry = {"branch": "orchestrator-api-w1", "baseRef": "main", "dirty": False, "blockedBy": []}
    data = {
        "sessions": [
            {
                "session": "api",
                "repoRoot": str(work / "api"),
                "workers": [
                    worker("w1", "completed", "claude", "add the endpoint", WORKER_W1),
                    worker("w2", "completed", "claude", "write the docs", WORKER_W2),
                    worker(
                        "w3",
                        "failed",
                        "script",
                        "run the migration",
                        reason="exited with status 3: boom (log: /tmp/w3.log)",
                    ),  # fmt: skip
                    worker("w4", "merged", "claude", "fix the typo"),
                ],
                "queue": {
                    "mergeQueue": [
                        {
                            **entry,
                            "id": "w1",
                            "state": "completed",
                            "readyToMerge": True,
                            "position": 1,
                            "aheadBy": 2,
                            "files": ["app.py", "tests/test_health.py"],
                            "kind": None,
                            "suggestedAction": "merge",
                        },
                        {
                            **entry,
                            "id": "w2",
                            "branch": "orchestrator-api-w2",
                            "state": "completed",
                            "readyToMerge": False,
                            "position": None,
                            "aheadBy": 1,
                            "files": ["app.py"],
                            "kind": "pair-conflict",
                            "blockedBy": [{"worker": "w1", "files": ["app.py"]}],
                            "suggestedAction": "merge after w1",
                        },
                    ],  # fmt: skip
                    "conflictQueue": [
                        {
                            "id": "w2",
                            "branch": "orchestrator-api-w2",
                            "kind": "pair-conflict",
                            "files": ["app.py"],
                            "blockedBy": [{"worker": "w1", "files": ["app.py"]}],
                        },
                    ],  # fmt: skip
                    "at": stamp,
                },
            }
        ]
    }
    path = home / "runtime" / "workers.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps(data, indent=1))
    return data
