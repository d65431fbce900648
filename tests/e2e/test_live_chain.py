"""The live chain inside the real Claude Code: hook -> watcher -> hud.json -> status line, nobody in between.

Settings come from our installer (hooks AND statusLine, the installed ``python -S -c`` commands), and the
watcher is enabled (``ECC_HOOKS_NO_WATCHER=0``): Claude Code's own SessionStart hook starts the daemon.

- Interactive (tmux): after a turn with Bash, Read and a failing Bash, the status line row on screen shows
  the tool count and failures of the watcher's ``hud.json``, equal to what the raw hook captures say, beside
  the model, the cost Claude Code reported and its ``used_percentage``.
- Print mode: once the watcher has caught up (its state covers the journal and the transcripts), its
  ``hud.json`` equals ``python -m ecc_hooks.status --json --session ID --no-gh`` minus what depends on the
  clock (``generatedAt``, the burn rate, stale counters).

Every daemon is stopped through ``python -m ecc_hooks watch --stop`` and its pid checked gone; the test
asserts it ran and stopped. A fixture finalizer does the same when a test failed half-way (SIGKILL only as
the last resort, and that fails the test).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from ecc_hooks.cli.install import MARKER
from ecc_hooks.core import compaction
from tests.e2e.api_server import Scenario, ScriptedAPI, Step, ToolCall, Usage, say, tool
from tests.e2e.harness import REPO, RunResult, Workspace, install_ecc_hooks
from tests.e2e.tmux_runner import TmuxClaude, tmux_available
from tests.helpers import undeclared_keys, wait_until

pytestmark = pytest.mark.e2e

WATCHER_ON = {"ECC_HOOKS_NO_WATCHER": "0"}
TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
WAIT = 60.0  # seconds for any condition below (refreshInterval is 5 s, the git cache 15 s)
PID = re.compile(r"\(pid (-?\d+)\)")


# ---------------------------------------------------------------------------- the daemon, from outside


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its parent (init) to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class WatcherControl:
    """``python -m ecc_hooks watch --status/--stop`` for the workspaces of one test, remembering every pid seen."""

    def __init__(self) -> None:
        self.homes: list[Workspace] = []
        self.seen: set[int] = set()

    def _cli(self, ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)}
        return subprocess.run(
            [sys.executable, "-m", "ecc_hooks", "watch", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=str(REPO),
        )

    def track(self, ws: Workspace) -> None:
        if ws not in self.homes:
            self.homes.append(ws)

    def pid(self, ws: Workspace) -> Optional[int]:
        """The running watcher's pid from ``watch --status`` (None: exit 1, none runs)."""
        self.track(ws)
        proc = self._cli(ws, "--status")
        if proc.returncode == 1:
            return None
        assert proc.returncode == 0, proc.stderr
        match = PID.search(proc.stdout)
        assert match, proc.stdout
        pid = int(match.group(1))
        if pid > 0:
            self.seen.add(pid)
        return pid

    def wait_running(self, ws: Workspace) -> int:
        """The pid once a watcher runs for ``ws`` (started by Claude Code's SessionStart hook, not by us)."""
        pid = wait_until(lambda: self.pid(ws), WAIT, f"no watcher started for {ws.ecc_home}")
        assert pid > 0 and alive(pid), f"watch --status named pid {pid}, which is not alive"
        return pid

    def stop(self, ws: Workspace) -> Optional[int]:
        """``watch --stop``, then check that the pid ``--status`` named is gone and no watcher runs."""
        pid = self.pid(ws)
        proc = self._cli(ws, "--stop")
        assert proc.returncode == 0, proc.stderr
        if pid is not None:
            assert f"(pid {pid})" in proc.stdout, proc.stdout
            wait_until(lambda: not alive(pid), 15, f"watcher pid {pid} still alive after --stop")
        assert self.pid(ws) is None, "a watcher still holds the lock after --stop"
        return pid

    def cleanup(self) -> list[str]:
        """Stop whatever still runs; SIGKILL as the last resort. Returns what went wrong (empty: clean)."""
        problems = []
        for ws in self.homes:
            try:
                self.stop(ws)
            except Exception as exc:
                problems.append(f"{ws.ecc_home}: {exc}")
        for pid in sorted(self.seen):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
                problems.append(f"pid {pid} had to be killed")
        return problems


@pytest.fixture
def watchers() -> Iterator[WatcherControl]:
    control = WatcherControl()
    yield control
    problems = control.cleanup()
    assert not problems, "; ".join(problems)


# ---------------------------------------------------------------------------- shared


def install_with_statusline(ws: Workspace) -> dict[str, Any]:
    """Run our installer again on the workspace's settings, this time with the statusLine."""
    env = {**os.environ, "HOME": str(ws.home), "ECC_HOOKS_HOME": str(ws.ecc_home)}
    install_ecc_hooks(ws.settings, env, transport=None, statusline=True)
    data = ws.settings_data()
    ours = [h["command"] for group in data["hooks"]["SessionStart"] for h in group["hooks"] if MARKER in h["command"]]
    assert len(ours) == 1 and " -S -c " in ours[0], ours  # the installed command form
    assert MARKER in data["statusLine"]["command"] and data["statusLine"]["refreshInterval"] == 5
    return data


def tool_counts(payloads: list[dict[str, Any]]) -> tuple[int, int]:
    """(distinct tool calls, failures) as the raw hook captures tell them."""
    ids = {p["tool_use_id"] for p in payloads if p.get("hook_event_name") in TOOL_EVENTS}
    failures = sum(1 for p in payloads if p.get("hook_event_name") == "PostToolUseFailure")
    return len(ids), failures


def read_json(path: Path) -> Optional[dict[str, Any]]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def session_file(ws: Workspace, session: str, name: str) -> Path:
    return ws.ecc_home / "sessions" / session / name


def steps_with_tools(ws: Workspace, reply: str) -> list[Step]:
    """Bash that writes a file, Read, a Bash that fails (exit 3), then the reply (the last usage sets the context)."""
    return [
        tool(
            "Bash",
            {"command": "echo hello > hello.txt", "description": "write a file"},
            usage=Usage(input_tokens=1_200, output_tokens=40, cache_5m=3_000),
        ),
        tool(
            "Read",
            {"file_path": str(ws.work / "README.md")},
            usage=Usage(input_tokens=60, output_tokens=30, cache_read=4_200),
        ),
        tool(
            "Bash",
            {"command": "exit 3", "description": "fails"},
            usage=Usage(input_tokens=70, output_tokens=25, cache_read=4_300),
        ),
        say(reply, usage=LAST_USAGE),
    ]


def scripted_counts(steps: list[Step]) -> tuple[int, int]:
    """(tool calls, failing calls) the script asks for: a Bash ``exit N`` with N > 0 fails."""
    calls = [b for step in steps for b in step.blocks if isinstance(b, ToolCall)]
    failing = [b for b in calls if b.name == "Bash" and re.fullmatch(r"exit [1-9]\d*", b.input["command"])]
    return len(calls), len(failing)


LAST_USAGE = Usage(input_tokens=19_000, output_tokens=50, cache_5m=2_000, cache_read=30_000)


# ---------------------------------------------------------------------------- interactive


def test_status_line_shows_the_watchers_snapshot(
    workspace: Workspace, scripted_api: ScriptedAPI, watchers: WatcherControl
) -> None:
    if not tmux_available():
        if os.environ.get("CI"):
            pytest.fail("tmux not installed")
        pytest.skip("tmux not installed")
    install_with_statusline(workspace)
    reply = "LIVE-CHAIN-DONE"
    steps = steps_with_tools(workspace, reply)
    scripted_api.scenario = Scenario(steps=steps)
    watchers.track(workspace)
    assert watchers.pid(workspace) is None  # nothing runs before Claude Code starts

    with TmuxClaude(
        workspace, scripted_api, width=220, height=40, extra_env=WATCHER_ON, extra_args=["--allowedTools", "Bash Read"]
    ) as tui:
        tui.start()
        tui.wait_for(lambda s: "\u276f" in s)
        pid = watchers.wait_running(workspace)  # Claude Code's SessionStart hook started it
        tui.submit("run the tools")
        tui.wait_for(reply, timeout=WAIT)

        def payloads_after_stop() -> Optional[list[dict[str, Any]]]:
            payloads = workspace.raw_payloads()
            return payloads if any(p["hook_event_name"] == "Stop" for p in payloads) else None

        raw = wait_until(payloads_after_stop, WAIT, "no Stop hook after the reply")
        [session] = {p["session_id"] for p in raw}
        total, failures = tool_counts(raw)
        assert (total, failures) == scripted_counts(steps)  # the client ran the script as written
        sensor_path = session_file(workspace, session, "statusline.json")
        hud_path = session_file(workspace, session, "hud.json")

        last_input = LAST_USAGE.input_tokens + LAST_USAGE.cache_5m + LAST_USAGE.cache_1h + LAST_USAGE.cache_read
        final_used = round(last_input / 200_000 * 100)  # the client's used_percentage after the last response

        def expected_row() -> Optional[list[str]]:
            """What the row must hold, from Claude Code's latest status line input (the sensor), once that input
            describes the last response: the reply shows before the client runs its status line again, and a
            row of the third response's figures (2%, with ``tools 3`` already) was taken for the final one."""
            sensor = read_json(sensor_path) or {}
            if (sensor.get("context_window") or {}).get("used_percentage") != final_used:
                return None
            used = compaction.shown_from_stdin(sensor.get("context_window"), {})  # the client's own figure
            cost = (sensor.get("cost") or {}).get("total_cost_usd")
            name = (sensor.get("model") or {}).get("display_name")
            if used is None or cost is None or not name:
                return None
            return [name, f"${cost:.2f}", f" {used}%", f"tools {total} \u2717{failures}"]

        def status_row(screen: str) -> Optional[str]:
            want = expected_row()
            if want is None:
                return None
            rows = [line for line in screen.splitlines() if all(part in line for part in want)]
            return rows[0] if rows else None

        screen = tui.wait_for(lambda s: status_row(s) is not None, timeout=WAIT)
        row = status_row(screen)
        assert row is not None
        print("status row on screen:", row.strip())

        def snapshot_has_reported_cost() -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
            """(sensor, hud) once the watcher folded Claude Code's latest cost into hud.json (a debounce behind)."""
            sensor, hud = read_json(sensor_path), read_json(hud_path)
            if not sensor or not hud or (sensor.get("cost") or {}).get("total_cost_usd") is None:
                return None
            return (sensor, hud) if hud["cost"]["reportedUsd"] == sensor["cost"]["total_cost_usd"] else None

        sensor, hud = wait_until(
            snapshot_has_reported_cost, WAIT, lambda: f"hud.json never carried the reported cost: {read_json(hud_path)}"
        )
        assert watchers.pid(workspace) == pid  # the same daemon all along
    stopped = watchers.stop(workspace)
    assert stopped == pid and not alive(pid)

    # The count on screen came from the watcher: only it writes hud.json and watch-state.json here.
    assert session_file(workspace, session, "watch-state.json").exists()
    assert hud["context"]["sessionId"] == session
    assert (hud["toolCalls"]["total"], hud["toolCalls"]["failures"]) == (total, failures)
    assert hud["toolCalls"]["pending"] == 0 and hud["toolCalls"]["lastTool"]["status"] == "failure"
    # Claude Code's figures, carried through the sensor into the snapshot.
    assert hud["cost"]["source"] == "statusline"  # the snapshot's session figure is Claude Code's own
    # The client's used_percentage is the last response's input side over the 200k window.
    assert sensor["context_window"]["used_percentage"] == final_used
    assert f"~${sensor['cost']['total_cost_usd']:.2f}" not in row  # our computed cost agrees with the client's
    assert "\x1b" not in row


# ---------------------------------------------------------------------------- print mode


TIME_DERIVED = ("generatedAt",)


def comparable(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload minus what depends on when it was built: generatedAt, burn rate, stale counters."""
    payload = {k: v for k, v in payload.items() if k not in TIME_DERIVED}
    payload["cost"] = {k: v for k, v in payload["cost"].items() if k != "burnRateUsdPerHour"}
    payload["toolCalls"] = {k: v for k, v in payload["toolCalls"].items() if k != "stale"}
    payload["risk"] = {**payload["risk"], "reasons": [r for r in payload["risk"]["reasons"] if "pending over" not in r]}
    payload["context"] = {k: v for k, v in payload["context"].items() if k != "snapshot"}  # who built it
    return payload


def caught_up(ws: Workspace, session: str) -> bool:
    """The watcher's state covers the whole journal and every transcript file it reads."""
    state = read_json(session_file(ws, session, "watch-state.json"))
    if state is None:
        return False
    journal = session_file(ws, session, "events.jsonl")
    if state["journal"]["offset"] != journal.stat().st_size:
        return False
    files = (state.get("usage") or {}).get("files") or []
    if not files:
        return False
    for scan in files:  # the UsageTracker's per-file scans: {"path", "cursor": [dev, ino, offset]}
        path, cursor = scan.get("path"), scan.get("cursor")
        if not path or not os.path.exists(path) or cursor[2] != os.path.getsize(path):
            return False
    return True


def status_json(ws: Workspace, api: ScriptedAPI, session: str) -> dict[str, Any]:
    env = {**ws.env(api), "PATH": os.environ["PATH"]}
    proc = subprocess.run(
        [sys.executable, "-m", "ecc_hooks.status", "--json", "--session", session, "--no-gh"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(REPO),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_print_mode_hud_equals_status_rebuild(
    claude_run: Callable[..., RunResult], workspace: Workspace, scripted_api: ScriptedAPI, watchers: WatcherControl
) -> None:
    install_with_statusline(workspace)  # print mode never runs the status line; the hooks are the same
    watchers.track(workspace)
    assert watchers.pid(workspace) is None
    steps = steps_with_tools(workspace, "PRINT-CHAIN-DONE")
    result = claude_run(Scenario(steps=steps), "run the tools", allowed_tools="Bash Read", extra_env=WATCHER_ON)
    assert result.returncode == 0, result.stderr
    session = result.session_id
    assert session
    pid = watchers.wait_running(workspace)  # started by Claude Code's SessionStart hook; outlives the run
    hud_path = session_file(workspace, session, "hud.json")
    wait_until(
        lambda: caught_up(workspace, session) and hud_path.exists(),
        WAIT,
        lambda: (
            f"watcher state never covered the journal/transcripts: "
            f"{json.dumps(read_json(session_file(workspace, session, 'watch-state.json')))[:2000]}"
        ),
    )
    total, failures = tool_counts(result.new_payloads)

    # hud.json is written right after the state file: compare once both describe the same fold.
    def equal() -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
        hud = read_json(hud_path)
        want = comparable(status_json(workspace, scripted_api, session))
        return (hud, want) if hud is not None and comparable(hud) == want else None

    try:
        hud, want = wait_until(equal, WAIT, "hud.json never equalled the status rebuild")
    except AssertionError:
        hud = comparable(read_json(hud_path) or {})
        want = comparable(status_json(workspace, scripted_api, session))
        assert hud == want  # pytest shows the differing fields
        raise
    schema = json.loads((REPO / "schemas" / "ecc.hud-status.v1.schema.json").read_text())
    assert undeclared_keys(hud, schema) == []  # the watcher's snapshot holds only declared fields
    assert hud["context"]["snapshot"] == {"source": "watcher", "newerEvents": None}
    # status resumed from the watcher's checkpoint (it covers the whole journal): nothing newer to fold
    assert status_json(workspace, scripted_api, session)["context"]["snapshot"] == {
        "source": "checkpoint",
        "newerEvents": 0,
    }
    assert watchers.pid(workspace) == pid
    stopped = watchers.stop(workspace)
    assert stopped == pid and not alive(pid)

    # What the equal payloads say is what the client did.
    assert (hud["toolCalls"]["total"], hud["toolCalls"]["failures"]) == (total, failures) == scripted_counts(steps)
    assert hud["context"]["sessionId"] == session
    assert result.cost_state is not None
    assert hud["cost"]["transcriptReportedUsd"] == pytest.approx(result.cost_state["totalCostUSD"], abs=1e-12)
    assert (workspace.work / "hello.txt").exists()
    assert hud["risk"]["dirtyWorktree"] is True  # the Bash call left hello.txt untracked: git read after it
