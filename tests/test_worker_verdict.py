"""A Claude Code worker's state from its hook journal, written by the real hook from the pinned client's payloads.

The journal of every finished ``claude -p`` run ends SessionStart, UserPromptSubmit, ..., Stop, SessionEnd: the
SessionEnd after a finished turn is a completed worker, one in the middle of a turn a failed one. An interactive
worker whose turn ended sits at the client's idle prompt, which sends "Claude is waiting for your input" about a
minute later: it is still completed (nothing there needs a person). The runtime's verdict, the ``ecc.session.v1``
adapter (``session status --json``, ``inspect``) and the fold behind the HUD say the same.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ecc_hooks.capture.hook import handle
from ecc_hooks.handoff.adapters._claude import _main_state
from ecc_hooks.hud.state import SessionState
from ecc_hooks.models.session import WorkerState
from ecc_hooks.runtime.detect import JournalFollower
from tests.helpers import session_payloads

SESSION = "5ec0717e-0000-4000-8000-0000000000aa"


def journal(ecc_home: Path, payloads: list[dict[str, Any]]) -> JournalFollower:
    """Each payload through the hook's own handler (what ``capture.hook`` does with its stdin) into the session's
    journal; its follower."""
    for payload in payloads:
        handle(json.dumps(payload).encode(), None, time.time(), start=False)
    follower = JournalFollower(str(ecc_home / "sessions" / SESSION / "events.jsonl"))
    assert follower.poll()
    return follower


def captured(failing_check: bool = False) -> list[dict[str, Any]]:
    """A real ``claude -p`` run of the pinned client: its payloads from SessionStart to SessionEnd (its last tool
    call, a failing ``make test``, left out unless ``failing_check``)."""
    payloads = session_payloads(SESSION)
    names = [p["hook_event_name"] for p in payloads]
    assert names[0] == "SessionStart" and names[-1] == "SessionEnd" and "Stop" in names, names
    if not failing_check:
        payloads = [p for p in payloads if _command(p) != "make test"]
    return payloads


def _command(payload: dict[str, Any]) -> object:
    tool_input = payload.get("tool_input")
    return tool_input.get("command") if isinstance(tool_input, dict) else None


def idle_notification(like: dict[str, Any]) -> dict[str, Any]:
    """The client's idle Notification (2.1.328 sends it about a minute after a turn ends)."""
    keep = {k: like[k] for k in ("session_id", "transcript_path", "cwd")}
    return {
        **keep,
        "hook_event_name": "Notification",
        "message": "Claude is waiting for your input",
        "notification_type": "idle_prompt",
    }


def test_a_headless_run_that_ended_after_its_turn_is_completed(ecc_home: Path) -> None:
    follower = journal(ecc_home, captured())
    assert follower.last_turn_event == "SessionEnd"
    assert follower.verdict() == ("completed", None)
    assert follower.state.turn_state == "ended" and not follower.state.ended_mid_turn
    assert _main_state(follower.state, recorded=False) == WorkerState.completed


def test_a_headless_run_whose_check_failed_is_failed_after_its_session_end(ecc_home: Path) -> None:
    follower = journal(ecc_home, captured(failing_check=True))
    assert follower.verdict() == ("failed", "check failed: make test")


def test_a_session_that_ended_in_the_middle_of_its_turn_failed(ecc_home: Path) -> None:
    payloads = captured()
    first_tool = next(i for i, p in enumerate(payloads) if p["hook_event_name"] == "PreToolUse")
    follower = journal(ecc_home, [*payloads[: first_tool + 1], payloads[-1]])  # killed in its first tool call
    state, reason = follower.verdict()
    assert state == "failed" and reason == "the session ended (other) before its turn did"
    assert follower.state.ended_mid_turn
    assert _main_state(follower.state, recorded=False) == WorkerState.failed


def test_a_finished_worker_at_the_idle_prompt_stays_completed(ecc_home: Path) -> None:
    payloads = captured()[:-1]  # the interactive client has not exited: it sits at its prompt
    follower = journal(ecc_home, [*payloads, idle_notification(payloads[0])])
    assert follower.verdict() == ("completed", None)
    # the HUD of a person's own session keeps saying what the client shows: it waits for their next prompt
    assert follower.state.turn_state == "waiting" and not follower.state.in_turn


def test_a_permission_prompt_inside_the_turn_is_still_waiting(ecc_home: Path) -> None:
    payloads = captured()
    first_tool = next(i for i, p in enumerate(payloads) if p["hook_event_name"] == "PreToolUse")
    keep = {k: payloads[0][k] for k in ("session_id", "transcript_path", "cwd")}
    asked = {
        **keep,
        "hook_event_name": "Notification",
        "message": "Claude needs your permission to use Bash",
        "notification_type": "permission_prompt",
    }
    follower = journal(ecc_home, [*payloads[: first_tool + 1], asked])
    assert follower.verdict() == ("waiting", "a permission answer")


def test_the_turn_flags_survive_the_watchers_checkpoint() -> None:
    state = SessionState(turn_state="waiting", waiting_for="permission to use Bash", in_turn=True)
    loaded = SessionState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert loaded.in_turn and not loaded.ended_mid_turn
    older = state.to_dict()
    del older["in_turn"], older["ended_mid_turn"]  # a checkpoint written before the fields
    assert SessionState.from_dict(older).in_turn
    assert not SessionState.from_dict({**older, "waiting_for": "your next prompt"}).in_turn


def test_the_hud_of_a_finished_workers_own_session_at_the_idle_prompt_asks_nothing(ecc_home: Path) -> None:
    from datetime import datetime, timezone

    from ecc_hooks.hud.aggregate import PayloadInputs, build_payload

    payloads = captured()[:-1]
    follower = journal(ecc_home, [*payloads, idle_notification(payloads[0])])
    now = datetime.now(timezone.utc)
    own = build_payload(follower.state, PayloadInputs(now=now))  # a person's session: it waits for their prompt
    assert own.context.waitingFor == "your next prompt" and own.context.turnState == "waiting"
    worker = {"id": "s/w", "state": "completed", "agentSession": SESSION}
    theirs = build_payload(follower.state, PayloadInputs(now=now, runtime_workers=[worker]))
    assert theirs.context.waitingFor is None and theirs.context.turnState == "idle"
    assert not any("waiting for" in r for r in theirs.risk.reasons), theirs.risk.reasons


def test_a_worker_whose_call_was_denied_waits_for_what_to_do_instead(ecc_home: Path, tmp_path: Path) -> None:
    """``session deny`` (or Esc) at the permission prompt: the client ends the turn with the rejection as the call's
    result and asks "What should Claude do instead?", firing no hook; the watcher writes the call's end from the
    transcript (``backfill.end_calls``). The worker then waits for the person: it was running for ever before."""
    from ecc_hooks.hud import backfill
    from ecc_hooks.hud.aggregate import REJECTED
    from ecc_hooks.runtime.detect import DENIED

    payloads = captured()
    first_tool = next(i for i, p in enumerate(payloads) if p["hook_event_name"] == "PreToolUse")
    asked = payloads[first_tool]
    follower = journal(ecc_home, payloads[: first_tool + 1])
    assert follower.verdict() == ("running", None)
    transcript = tmp_path / "t.jsonl"
    result = {"type": "tool_result", "tool_use_id": asked["tool_use_id"], "is_error": True, "content": REJECTED}
    line = {"type": "user", "timestamp": "2026-12-07T05:00:00.000Z", "message": {"role": "user", "content": [result]}}
    transcript.write_text(json.dumps(line) + "\n")
    pending = {asked["tool_use_id"]: asked["tool_name"]}
    written = backfill.end_calls(SESSION, str(transcript), 0, transcript.stat().st_size, pending,
                                 cwd=asked["cwd"], transcript=str(transcript))  # fmt: skip
    assert written == 1
    follower.poll()
    assert follower.verdict() == ("waiting", DENIED)
    prompt = {k: payloads[0][k] for k in ("session_id", "transcript_path", "cwd")}
    journal(ecc_home, [{**prompt, "hook_event_name": "UserPromptSubmit", "prompt": "do it another way"}])
    follower.poll()
    assert follower.verdict() == ("running", None)  # the person said what to do instead: it works again
