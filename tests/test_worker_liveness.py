"""A worker whose process, pane or tmux server is gone is ``failed`` with the reason after one supervisor pass,
whatever live state it was in: running, waiting for a person, stale, or live again after it had finished once (its
handoff written: a person gave it a new prompt). Real git, real tmux on the test's own socket, a stand-in ``claude``
that only sleeps (its hooks are fired with the real hook, as the client fires them)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ecc, make_repo, run_hook, stop_the_supervisor_alone, wait_until


def states() -> dict[str, tuple[str, Any]]:
    from ecc_hooks.runtime import store

    return {w.slug: (w.state, w.reason) for w in store.Store().workers("gone")}


def fire(session: str, cwd: Path, event: str, **fields: Any) -> None:
    """One hook event of the worker's Claude Code session, through the real hook."""
    payload = {"session_id": session, "cwd": str(cwd), "hook_event_name": event, **fields}
    done = run_hook(json.dumps(payload).encode())
    assert done.returncode == 0, done.stderr


@pytest.fixture
def sleepy_claude(tmp_path: Path) -> dict[str, str]:
    """A ``claude`` on PATH that answers ``--version`` and otherwise sleeps (a client at its prompt)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "2.1.328 (Claude Code)"; exit 0; }\nexec sleep 300\n'
    )
    (bin_dir / "claude").chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}


def test_a_dead_tmux_server_fails_every_live_worker_in_one_pass(
    tmp_path: Path, runtime: str, sleepy_claude: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", identity=True)
    workers = [
        {"name": "asks", "task": "t", "agent": "claude"},  # waits at a permission prompt
        {"name": "again", "task": "t", "agent": "claude"},  # finished, then took a new prompt and waits
        {"name": "works", "task": "t", "launcherCommand": "while :; do date +%s%N; sleep 0.3; done"},
        {"name": "silent", "task": "t", "launcherCommand": "sleep 300"},  # stale
    ]
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"sessionName": "gone", "repoRoot": str(repo), "workers": workers}))
    monkeypatch.setenv("PATH", sleepy_claude["PATH"])
    done = ecc("session", "create", str(plan), "--execute", cwd=repo, env={"ECC_HOOKS_STALE_SECONDS": "3"})
    assert done.returncode == 0, done.stderr
    from ecc_hooks.runtime import store

    rows = {w.slug: w for w in store.Store().workers("gone")}
    for slug in ("asks", "again"):
        sid, cwd = rows[slug].agent_session or "", Path(rows[slug].worktree)
        fire(sid, cwd, "SessionStart", source="startup")
        fire(sid, cwd, "UserPromptSubmit", prompt="t")
        if slug == "again":
            fire(sid, cwd, "Stop", last_assistant_message="done")
    wait_until(lambda: rows["again"].slug and states()["again"][0] == "completed", 30, lambda: str(states()))
    wait_until(lambda: store.Store().worker("gone", "again").handoff_done, 30, "the handoff of the finished one")
    for slug in ("asks", "again"):
        sid, cwd = rows[slug].agent_session or "", Path(rows[slug].worktree)
        if slug == "again":
            fire(sid, cwd, "UserPromptSubmit", prompt="one more thing")
        fire(sid, cwd, "PermissionRequest", tool_name="Bash", tool_input={"command": "touch x"})
    want = {"asks": "waiting", "again": "waiting", "works": "running", "silent": "stale"}
    wait_until(lambda: {k: v[0] for k, v in states().items()} == want, 60, lambda: str(states()))

    stop_the_supervisor_alone()  # the pass below is the one that must see it
    subprocess.run(["tmux", "-L", runtime, "kill-server"], check=True, capture_output=True)
    # a client killed with its pane still fires SessionEnd on its way out, mid-turn: the reason names the tmux
    # server (what the person must know), not only the session's end
    fire(rows["asks"].agent_session or "", Path(rows["asks"].worktree), "SessionEnd", reason="other")
    from ecc_hooks.runtime.supervisor import Supervisor

    Supervisor().reconcile_all()
    after = states()
    assert {k: v[0] for k, v in after.items()} == dict.fromkeys(want, "failed"), after
    for slug, (_, reason) in after.items():
        assert "tmux" in (reason or ""), (slug, reason)
    status = (repo / ".orchestration" / "gone" / "again" / "status.md").read_text()
    assert "- State: failed" in status
