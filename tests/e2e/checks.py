"""Compare our journal with the raw hook payloads Claude Code really sent, event for event."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.e2e.harness import Workspace

Key = tuple[Any, ...]


def expected_outcome(payload: dict[str, Any]) -> str | None:
    """The outcome a payload implies: PostToolUse success, PostToolUseFailure failure or interrupted."""
    event = payload.get("hook_event_name")
    if event == "PostToolUse":
        return "success"
    if event == "PostToolUseFailure":
        return "interrupted" if payload.get("is_interrupt") is True else "failure"
    if event == "StopFailure":
        return "failure"
    return None


def payload_key(payload: dict[str, Any]) -> Key:
    """What must survive into the journal, taken from the raw payload."""
    return (
        payload.get("hook_event_name"),
        payload.get("tool_name"),
        payload.get("tool_use_id"),
        expected_outcome(payload),
        payload.get("agent_id"),
    )


def record_key(record: dict[str, Any]) -> Key:
    """The same fields, read from one of our ``ecc.event.v1`` records."""
    return (
        record.get("event"),
        record.get("toolName"),
        record.get("toolUseId"),
        record.get("outcome"),
        record.get("agentId"),
    )


# Fired asynchronously, racing the turn: InstructionsLoaded lands before or after SessionStart, and on a
# resumed session even after UserPromptSubmit. Its events are compared by count, not position.
UNORDERED_EVENTS = frozenset({"InstructionsLoaded"})


def streams(keys: list[Key]) -> dict[Any, list[Key]]:
    """Keys split by agent (None = the main conversation), in arrival order; unordered events last, sorted."""
    by_agent: dict[Any, list[Key]] = defaultdict(list)
    for key in keys:
        by_agent[key[4]].append(key)
    return {
        agent: [k for k in agent_keys if k[0] not in UNORDERED_EVENTS]
        + sorted((k for k in agent_keys if k[0] in UNORDERED_EVENTS), key=repr)
        for agent, agent_keys in by_agent.items()
    }


# Events the installer leaves out on purpose (see ecc_hooks/install.py): MessageDisplay fires for each
# displayed chunk of assistant text (display only), FileChanged has no match-all matcher, and a
# WorktreeCreate/WorktreeRemove hook replaces the client's own worktree handling.
# PostToolBatch repeats each call's PreToolUse/PostToolUse data; a process per tool call for nothing new.
NOT_RECORDED = frozenset({"MessageDisplay", "FileChanged", "WorktreeCreate", "WorktreeRemove", "PostToolBatch"})


def subscribed_events(ws: Workspace) -> set[str]:
    """Events the settings file runs OUR hook for (any command naming ecc_hooks, not the raw capture)."""
    found = set()
    for event, groups in ws.settings_data().get("hooks", {}).items():
        for group in groups:
            for hook in group.get("hooks", []):
                command = hook.get("command", "")
                if "ecc_hooks" in command and "capture_hook.py" not in command:
                    found.add(event)
    return found


def assert_journal_matches(ws: Workspace, payloads: list[dict[str, Any]]) -> dict[str, list[Key]]:
    """Every payload is in our journal of its session with the right fields, in order, and nothing else is.

    Only events our hook is installed for are expected in the journal; any other event the client
    fired must be one the installer leaves out on purpose (``NOT_RECORDED``), else it is a gap.

    Order is compared per agent: the main conversation and each subagent fire hooks concurrently, and
    the raw-capture hook and ours are separate processes, so two agents' events may interleave
    differently in the two files; within one agent, hooks are sequential (except ``UNORDERED_EVENTS``) and the order must match.
    Returns the keys by session.
    """
    subscribed = subscribed_events(ws)
    unrecorded = {p["hook_event_name"] for p in payloads} - subscribed
    assert unrecorded <= NOT_RECORDED, (
        f"the client fired events our installer does not record: {unrecorded - NOT_RECORDED}"
    )
    by_session: dict[str, list[Key]] = defaultdict(list)
    for payload in payloads:
        if payload["hook_event_name"] not in subscribed:
            continue
        by_session[payload["session_id"]].append(payload_key(payload))
    assert by_session, "Claude Code fired no hooks at all"
    assert sorted(ws.journal_sessions()) == sorted(by_session), "journals for sessions Claude Code never named"
    for session, expected in by_session.items():
        got = [record_key(r) for r in ws.journal(session)]
        assert len(got) == len(expected), (
            f"session {session}: {len(expected)} hook payloads but {len(got)} journal records\n"
            f"payloads: {expected}\njournal:  {got}"
        )
        want_streams, got_streams = streams(expected), streams(got)
        assert set(got_streams) == set(want_streams), f"agents differ: {set(want_streams)} vs {set(got_streams)}"
        for agent, want in want_streams.items():
            assert got_streams[agent] == want, (
                f"session {session}, agent {agent}:\nwant {want}\ngot  {got_streams[agent]}"
            )
        for record in ws.journal(session):
            assert record["schemaVersion"] == "ecc.event.v1" and record["sessionId"] == session
    return dict(by_session)


def events(payloads: list[dict[str, Any]], agent: str | None = None) -> list[tuple[str, str | None]]:
    """(event, tool) of the payloads of one agent (None = main), in order."""
    return [(p["hook_event_name"], p.get("tool_name")) for p in payloads if p.get("agent_id") == agent]
