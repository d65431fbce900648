"""Claude Code's own history: ``${CLAUDE_CONFIG_DIR:-~/.claude}/projects/<cwd slug>/<session_id>.jsonl``.

Targets: ``claude:latest``, ``claude:<session id>`` and a transcript path. The transcript's prompts,
tool calls and tool results are replayed as the hook payloads Claude Code would have sent, through the
hook's own ``normalize`` and the aggregator's ``fold``, so a history session is described exactly like a
journaled one. Kind ``history``: every worker (main agent, one per subagent transcript) is ``recorded``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from typing import Any, Optional

import orjson

from ecc_hooks.capture.normalize import normalize
from ecc_hooks.core import fsio, paths
from ecc_hooks.core.timestamps import parse_iso
from ecc_hooks.handoff.adapters import _claude
from ecc_hooks.handoff.adapters._common import Context, Inspection, Target, TargetError
from ecc_hooks.hud.aggregate import fold_all
from ecc_hooks.models.session import SessionKind

ADAPTER_ID = "claude-history"  # ECC's own id for Claude Code's history
DESCRIPTION = "Claude Code transcripts (${CLAUDE_CONFIG_DIR:-~/.claude}/projects/*/<id>.jsonl)"
TARGET_TYPES = ("claude-history", "transcript")


def _transcripts() -> list[str]:
    pattern = os.path.join(glob.escape(paths.claude_projects_dir()), "*", "*.jsonl")
    return [p for p in glob.glob(pattern) if os.path.isfile(p)]


def find_transcript(session_id: str) -> Optional[str]:
    """The main transcript of ``session_id`` (newest if several work dirs hold one), or None."""
    if paths.sanitize_session_id(session_id) != session_id:
        return None
    pattern = os.path.join(glob.escape(paths.claude_projects_dir()), "*", glob.escape(session_id) + ".jsonl")
    found = [p for p in glob.glob(pattern) if os.path.isfile(p)]
    return max(found, key=os.path.getmtime) if found else None


def latest_transcript() -> Optional[str]:
    """The transcript written last."""
    found = _transcripts()
    return max(found, key=lambda p: (os.path.getmtime(p), p)) if found else None


def _lines(path: str) -> Iterator[dict[str, Any]]:
    try:
        data = fsio.read_file(path, 1 << 30)
    except OSError:
        return
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a half-written last line, or drift: skip it
        if isinstance(entry, dict):
            yield entry


def _epoch(ts: object, fallback: float) -> float:
    parsed = parse_iso(ts)
    return parsed.timestamp() if parsed else fallback


def _result_text(content: object) -> Optional[str]:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [b.get("text") for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)]
        return "\n".join(parts) or None
    return None


def transcript_payloads(
    path: str, session_id: str, agent_id: Optional[str] = None
) -> Iterator[tuple[float, dict[str, Any]]]:
    """(epoch, hook payload) for each prompt, tool call and tool result of one transcript file."""
    calls: dict[str, tuple[str, Any]] = {}
    last = 0.0
    for entry in _lines(path):
        kind = entry.get("type")
        if kind not in ("user", "assistant") or (agent_id is None and entry.get("isSidechain") is True):
            continue
        message = entry.get("message")
        if not isinstance(message, dict):
            continue
        last = _epoch(entry.get("timestamp"), last)
        base: dict[str, Any] = {"session_id": session_id, "transcript_path": path, "cwd": entry.get("cwd")}
        if agent_id:
            base["agent_id"] = agent_id
        content = message.get("content")
        if kind == "assistant":
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                    calls[block["id"]] = (block.get("name"), block.get("input"))
                    yield (
                        last,
                        {
                            **base,
                            "hook_event_name": "PreToolUse",
                            "tool_name": block.get("name"),
                            "tool_use_id": block["id"],
                            "tool_input": block.get("input"),
                        },
                    )
            continue
        if entry.get("isMeta") is True:
            continue
        if isinstance(content, str):
            if agent_id is None:
                yield last, {**base, "hook_event_name": "UserPromptSubmit", "prompt": content}
            continue
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result" and isinstance(block.get("tool_use_id"), str):
                name, tool_input = calls.get(block["tool_use_id"], (None, None))
                payload = {**base, "tool_name": name, "tool_use_id": block["tool_use_id"], "tool_input": tool_input}
                if block.get("is_error") is True:
                    payload.update(
                        hook_event_name="PostToolUseFailure",
                        error=_result_text(block.get("content")),
                        is_interrupt=False,
                    )
                else:
                    payload.update(hook_event_name="PostToolUse", tool_response=entry.get("toolUseResult"))
                yield last, payload
            elif block.get("type") == "text" and agent_id is None and isinstance(block.get("text"), str):
                yield last, {**base, "hook_event_name": "UserPromptSubmit", "prompt": block["text"]}


def replay(path: str, session_id: str) -> list[dict[str, Any]]:
    """``ecc.event.v1`` records rebuilt from the main transcript and its subagents' (time order)."""
    timed = list(transcript_payloads(path, session_id))
    sub_dir = paths.subagent_transcripts_dir(path)
    for sub in sorted(glob.glob(os.path.join(glob.escape(sub_dir), "agent-*.jsonl"))):
        agent_id = os.path.basename(sub)[len("agent-") : -len(".jsonl")]
        sub_events = list(transcript_payloads(sub, session_id, agent_id))
        if sub_events:
            timed.append(
                (sub_events[0][0], {"session_id": session_id, "hook_event_name": "SubagentStart", "agent_id": agent_id})
            )
            timed.extend(sub_events)
            timed.append(
                (sub_events[-1][0], {"session_id": session_id, "hook_event_name": "SubagentStop", "agent_id": agent_id})
            )
    timed.sort(key=lambda pair: pair[0])  # stable: one file's order survives equal timestamps
    return [normalize(payload, epoch) for epoch, payload in timed]


def resolve(target: Target) -> str:
    """The transcript a target names; TargetError when there is none."""
    value = target.value
    if target.type == "transcript":
        if not os.path.isfile(value):
            raise TargetError(f"transcript not found: {value}")
        return os.path.abspath(value)
    ref = value[len("claude:") :] if value.startswith("claude:") else value
    if ref in ("", "latest"):
        found = latest_transcript()
        if found is None:
            raise TargetError(f"no Claude Code transcripts under {paths.claude_projects_dir()}")
        return found
    found = find_transcript(ref)
    if found is None:
        raise TargetError(f"no Claude Code transcript for session {ref!r} under {paths.claude_projects_dir()}")
    return found


def inspect(target: Target, ctx: Context) -> Inspection:
    """Replay the transcript and describe the session as recorded history."""
    path = resolve(target)
    session_id = os.path.splitext(os.path.basename(path))[0]
    safe_id = paths.sanitize_session_id(session_id) or "unknown"
    events = replay(path, safe_id)
    state = fold_all(events)
    state.session_id = safe_id
    state.transcript_path = path
    return _claude.inspection(
        state,
        session_id=safe_id,
        adapter_id=ADAPTER_ID,
        kind=SessionKind.history,
        title=f"Claude Code session {safe_id} (history)",
        tools=_claude.tool_counts(events),
        usage=_claude.usage_of(path),
        recorded=True,
        target=target,
        ctx=ctx,
    )
