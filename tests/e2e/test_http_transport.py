"""Both transports in the real client: every event Claude Code fires ends up in the journal.

http: tool events are HTTP hooks to the watcher's loopback endpoint; the per-turn events stay commands and
start the watcher. command: every event is a command hook that hands it to the watcher over its local socket,
or records it itself when none answers. Checked against the raw capture of every payload the client sent: when no watcher runs at
SessionStart (the hook starts one and waits until it listens: nothing needs backfilling), and when the
watcher is killed with -9 in the middle of the session (the tool calls posted meanwhile are recovered from
the transcript when the next turn's hook starts a new watcher, marked ``backfilled``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.api_server import Scenario, ScriptedAPI, SeenRequest, Step, say, tool
from tests.e2e.harness import RunResult, Workspace, install_ecc_hooks
from tests.helpers import wait_until

WATCHER_ON = {"ECC_HOOKS_NO_WATCHER": "0"}
CALLS = 8


def holder(ws: Workspace) -> int | None:
    try:
        text = (ws.ecc_home / "watch.lock").read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(params=["http", "command"])
def http_workspace(workspace: Workspace, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """The workspace reinstalled with the http transport (opted in with ``--transport http``), or
    with the command transport (every event a command hook, handed to the watcher over its local socket)."""
    env = {**os.environ, "HOME": str(workspace.home), "ECC_HOOKS_HOME": str(workspace.ecc_home)}
    install_ecc_hooks(workspace.settings, env, transport=request.param)
    hooks = workspace.settings_data()["hooks"]
    http = any(h.get("type") == "http" for g in hooks["PreToolUse"] for h in g["hooks"])
    assert http == (request.param == "http")
    workspace.transport = request.param  # type: ignore[attr-defined]
    seen: set[int] = set()
    workspace.seen_watchers = seen  # type: ignore[attr-defined]
    yield workspace
    pid = holder(workspace)
    for victim in seen | ({pid} if pid else set()):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def bash_steps(count: int, on_step: Callable[[int], None] | None = None) -> list[Any]:
    def step(i: int) -> Callable[[SeenRequest], Step]:
        def answer(_: SeenRequest) -> Step:
            if on_step is not None:
                on_step(i)
            return tool("Bash", {"command": f"echo call-{i}", "description": f"call {i}"})

        return answer

    return [step(i) for i in range(count)] + [say("HTTP-TRANSPORT-DONE")]


def fired(result: RunResult, recorded: set[str]) -> Counter[tuple[str, str | None]]:
    """(event, tool_use_id) of every payload the client fired this run that our install records."""
    return Counter(
        (p["hook_event_name"], p.get("tool_use_id"))
        for p in result.new_payloads
        if p["hook_event_name"] in recorded and p.get("session_id") == result.session_id
    )


def journaled(ws: Workspace, session: str) -> tuple[Counter[tuple[str, str | None]], int]:
    records = ws.journal(session)
    kinds = Counter((r["event"], r.get("toolUseId")) for r in records)
    return kinds, sum(1 for r in records if r.get("backfilled"))


def every_event_in_the_journal(ws: Workspace, result: RunResult) -> int:
    """Wait until the journal holds every fired event (at least once); how many records were backfilled."""
    from ecc_hooks.cli.install import EVENT_NAMES

    want = fired(result, set(EVENT_NAMES))
    assert want[("PreToolUse", None)] == 0 and sum(n for (e, _), n in want.items() if e == "PreToolUse") == CALLS
    state: dict[str, Any] = {}

    def complete() -> bool:
        kinds, backfilled = journaled(ws, result.session_id or "")
        state.update(missing=want - kinds, backfilled=backfilled)
        return not state["missing"]

    try:
        wait_until(complete, 60, "every fired event in the journal")
    except AssertionError:
        raise AssertionError(f"fired but never journaled: {dict(state['missing'])}") from None
    return int(state["backfilled"])


def test_every_event_recorded_when_no_watcher_runs_at_session_start(
    http_workspace: Workspace, scripted_api: ScriptedAPI, claude_run: Callable[..., RunResult]
) -> None:
    assert holder(http_workspace) is None or not alive(holder(http_workspace) or 0)
    result = claude_run(
        Scenario(steps=bash_steps(CALLS)), "run the commands", allowed_tools="Bash", extra_env=WATCHER_ON
    )
    assert result.returncode == 0, result.stderr
    pid = holder(http_workspace)
    assert pid and alive(pid)
    http_workspace.seen_watchers.add(pid)  # type: ignore[attr-defined]
    # SessionStart started the watcher and waited until it listened: nothing was posted to a closed port
    assert every_event_in_the_journal(http_workspace, result) == 0
    errors = http_workspace.ecc_home / "errors.log"
    assert not errors.exists() or "endpoint-refused" not in errors.read_text()


def test_every_event_recorded_when_the_watcher_is_killed_mid_session(
    http_workspace: Workspace, scripted_api: ScriptedAPI, claude_run: Callable[..., RunResult]
) -> None:
    killed: list[int] = []

    def kill_at(i: int) -> None:
        if i == 3 and not killed:  # the watcher dies with -9 before the fourth tool call is posted
            pid = holder(http_workspace)
            assert pid and alive(pid)
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not alive(pid), 30, "the killed watcher to go")
            killed.append(pid)

    steps = bash_steps(CALLS, kill_at)
    result = claude_run(Scenario(steps=steps), "run the commands", allowed_tools="Bash", extra_env=WATCHER_ON)
    assert result.returncode == 0, result.stderr
    assert killed, "the scenario never reached the kill"
    # The Stop hook found no watcher and started one; it recovered the calls posted while none listened.
    pid = wait_until(
        lambda: holder(http_workspace) not in (None, killed[0]) and holder(http_workspace), 60, "a new watcher"
    )
    http_workspace.seen_watchers.add(pid)  # type: ignore[attr-defined]
    backfilled = every_event_in_the_journal(http_workspace, result)
    if http_workspace.transport == "command":  # type: ignore[attr-defined]
        assert backfilled == 0  # each hook found no watcher on the socket and recorded its event itself
        assert all(n == 1 for n in journaled(http_workspace, result.session_id or "")[0].values())
        return
    assert backfilled >= 2  # at least the Pre and Post of one call posted to the dead watcher
    records = http_workspace.journal(result.session_id or "")
    recovered = Counter((r["event"], r["toolUseId"]) for r in records if r.get("backfilled"))
    assert set(recovered.values()) == {1}  # each missed event written once
    for record in records:
        if record.get("backfilled"):
            assert record["event"] in ("PreToolUse", "PostToolUse", "PostToolUseFailure")
            assert record["toolName"] == "Bash" and record["input"]["command"].startswith("echo call-")
    # and the snapshot counts each call once
    hud = http_workspace.ecc_home / "sessions" / (result.session_id or "") / "hud.json"

    def counted() -> bool:
        try:
            return json.loads(hud.read_bytes())["toolCalls"]["total"] == CALLS
        except (OSError, ValueError, KeyError):
            return False

    wait_until(counted, 60, "hud.json counting every call once")
    time.sleep(0)  # nothing else to wait for
