"""Claude Code's own history, and ECC's: transcripts and ECC's session summaries (adapter ``claude-history``).

Claude Code's transcripts: ``${CLAUDE_CONFIG_DIR:-~/.claude}/projects/<cwd slug>/<session_id>.jsonl``, by path,
``claude:latest`` or ``claude:<session id>``. The transcript's prompts, tool calls and tool results are replayed
as the hook payloads Claude Code would have sent, through the hook's own ``normalize`` and the aggregator's
``fold``, so a history session is described exactly like a journaled one. Every worker (main agent, one per
subagent transcript) is ``recorded``.

ECC's session summaries (``~/.claude/session-data/*-session.tmp``, ``_ecc_history``), as ECC's own adapter of
the same id reads them: by path (``*.tmp``), ``claude-history:``/``history:`` ``latest``, an alias or an id
(ECC's targets, read exactly as ECC does), and ``claude:`` the same where no Claude Code transcript answers it
first (``claude:latest`` and ``claude:<session id>`` are the transcript when there is one: it says more).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from typing import Any, Optional

import orjson

from ecc_hooks.capture.normalize import normalize
from ecc_hooks.core import fsio, paths
from ecc_hooks.core.jsvalues import trim as js_trim
from ecc_hooks.core.timestamps import parse_iso
from ecc_hooks.handoff.adapters import _claude, _ecc_history
from ecc_hooks.handoff.adapters._common import Context, Inspection, Target, TargetError
from ecc_hooks.hud.aggregate import fold_all
from ecc_hooks.models.session import SessionKind

ADAPTER_ID = "claude-history"  # ECC's own id for Claude Code's history
DESCRIPTION = (
    "Claude Code transcripts (${CLAUDE_CONFIG_DIR:-~/.claude}/projects/*/<id>.jsonl) and ECC's session files "
    "(~/.claude/session-data/*-session.tmp)"
)
TARGET_TYPES = ("claude-history", "claude-alias", "session-file", "transcript")
PREFIXES = ("claude-history:", "claude:", "history:")  # ECC's parseClaudeTarget, in its order
TRANSCRIPT_FIRST = "claude:"  # the prefix under which a Claude Code transcript answers before ECC's files
BOM = b"\xef\xbb\xbf"


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
    if data.startswith(BOM):
        data = data[len(BOM) :]  # an editor's byte order mark: the first line is still a line
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


def split_target(value: str) -> tuple[str, str]:
    """``(prefix, reference)`` of a ``claude:``-like target, the reference trimmed as ECC trims it; no prefix
    (``--target-type claude-history``) reads as ``claude:``, as ECC's structured targets do."""
    for prefix in PREFIXES:
        if value.startswith(prefix):
            return prefix, js_trim(value[len(prefix) :])
    return TRANSCRIPT_FIRST, js_trim(value)


def transcript_for(ref: str) -> Optional[str]:
    """The Claude Code transcript ``ref`` (``latest`` or a session id) names, or None."""
    return latest_transcript() if ref == "latest" else find_transcript(ref)


def ecc_session_for(ref: str) -> Optional[tuple[_ecc_history.SessionFile, str]]:
    """ECC's session file ``ref`` names and the source type ECC reports for it (``latest``, then an alias, then
    an id: ECC's order), or None."""
    if ref == "latest":
        found = _ecc_history.latest()
        return (found, "claude-history") if found else None
    alias = _ecc_history.alias_path(ref)
    if alias is not None:
        return _ecc_history.hydrate(alias), "claude-alias"
    found = _ecc_history.by_id(ref)
    return (found, "claude-history") if found else None


def _ecc_file(ref: str, prefix: str) -> Inspection:
    """ECC's session file ``ref`` names, as ECC's adapter describes it; TargetError when there is none."""
    found = ecc_session_for(ref)
    if found is None:
        raise TargetError(
            f"no Claude Code transcript or ECC session file for {ref!r} (under {paths.claude_projects_dir()} "
            f"and {', '.join(paths.ecc_session_dirs())})"
            if prefix == TRANSCRIPT_FIRST
            else f"no ECC session file for {ref!r} under {', '.join(paths.ecc_session_dirs())}"
        )
    session, source_type = found
    return _ecc_history.inspection(session, source_type, ref)


def inspect(target: Target, ctx: Context) -> Inspection:
    """Replay the transcript the target names as recorded history, or describe ECC's session file it names."""
    if target.type == "session-file":
        path = _ecc_history.resolve_path(target.value, ctx.cwd)
        if not (path.endswith(".tmp") and os.path.isfile(path)):
            raise TargetError(f"not a session file: {target.value}")
        return _ecc_history.inspection(_ecc_history.hydrate(path), "session-file", path)
    if target.type == "transcript":
        if not os.path.isfile(target.value):
            raise TargetError(f"transcript not found: {target.value}")
        path = os.path.abspath(target.value)
    else:
        prefix, ref = split_target(target.value)
        if not ref:
            raise TargetError(f"Unsupported Claude session target: {target.value}")
        found = transcript_for(ref) if prefix == TRANSCRIPT_FIRST else None
        if found is None:
            return _ecc_file(ref, prefix)
        path = found
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
