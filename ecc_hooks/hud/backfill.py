"""Tool events the journal missed, recovered from the transcripts.

Two kinds. Calls whose hooks never reached the journal: with the http transport while no watcher listened,
and under any transport a call the client blocked before any hook ran (a deny rule). And calls whose
PreToolUse was heard but that ended without a PostToolUse: the user rejected them at the permission prompt,
or the client refused them (``claude -p`` without the tool allowed); the client fires no hook then, and only
the transcript's ``tool_result`` (an error) says the call is over.

With the http transport, Claude Code posts tool events to the watcher; while it is down (killed, restarting,
not yet started) those posts fail and the client goes on. The transcript still holds every call: a
``tool_use`` block (the PreToolUse) and a ``tool_result`` block (the PostToolUse, or PostToolUseFailure when
``is_error``). When a watcher starts, it reads what the transcripts gained since its last checkpoint and
writes, for every finished call whose id the journal never saw, the events the hooks would have written:
through the hook's own normalizer (redacted before anything touches disk), marked ``"backfilled": true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Optional

import orjson

from ecc_hooks.capture import hook
from ecc_hooks.capture.normalize import PayloadError, normalize
from ecc_hooks.core import fsio
from ecc_hooks.core.timestamps import parse_iso

BLOCK = 1 << 22
_MARKERS = (b'"tool_use"', b'"tool_result"')


def _lines(path: str, start: int, end: int) -> Iterator[bytes]:
    """Complete lines of ``path`` between byte ``start`` and ``end`` that may hold a tool block."""
    try:
        fd = fsio.open_file(path, os.O_RDONLY)
    except OSError:
        return
    try:
        offset, rest = start, b""
        while offset < end:
            chunk = os.pread(fd, min(BLOCK, end - offset), offset)
            if not chunk:
                break
            offset += len(chunk)
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if any(m in line for m in _MARKERS):
                    yield line
    finally:
        os.close(fd)


def _blocks(path: str, start: int, end: int, marker: bytes = b"") -> Iterator[tuple[Optional[float], dict[str, Any]]]:
    """(the line's time, block) for every content block of the message lines in ``path[start:end]`` (holding
    ``marker``, when given); a torn or foreign line is skipped."""
    for line in _lines(path, start, end):
        if marker and marker not in line:
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        message = entry.get("message") if isinstance(entry, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        at = _epoch(entry.get("timestamp"))
        for block in content:
            if isinstance(block, dict):
                yield at, block


def _epoch(ts: object) -> Optional[float]:
    at = parse_iso(ts)
    return at.timestamp() if at is not None else None


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(c.get("text", "")) for c in content if isinstance(c, dict) and c.get("type") == "text")
    return ""


def missing_calls(path: str, start: int, end: int, known: dict[str, str]) -> list[dict[str, Any]]:
    """Finished tool calls in ``path[start:end]`` whose ids ``known`` (the fold's tool ids) does not hold:
    ``{"id", "name", "input", "startedAt", "finishedAt", "error", "response"}`` in transcript order."""
    uses: dict[str, dict[str, Any]] = {}
    done: list[dict[str, Any]] = []
    taken: set[str] = set()
    for at, block in _blocks(path, start, end):
        if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
            uses[block["id"]] = {"name": block.get("name"), "input": block.get("input"), "startedAt": at}
        elif block.get("type") == "tool_result" and isinstance(block.get("tool_use_id"), str):
            call_id = block["tool_use_id"]
            if call_id in known or call_id not in uses or call_id in taken:
                continue  # recorded already, started before the region (its hooks were heard), or seen
            taken.add(call_id)  # a transcript may carry a result twice (rewritten lines, replays)
            text = _result_text(block.get("content"))
            done.append(
                {
                    "id": call_id,
                    **uses[call_id],
                    "finishedAt": at,
                    "error": text if block.get("is_error") is True else None,
                    "response": text,
                }
            )
    return done


def ended_without_hooks(path: str, start: int, end: int, pending: set[str]) -> list[dict[str, Any]]:
    """Error results in ``path[start:end]`` for the ``pending`` call ids (their tool_use may lie before the region):
    ``{"id", "finishedAt", "error"}`` in transcript order, each id once."""
    found: list[dict[str, Any]] = []
    taken: set[str] = set()
    for at, block in _blocks(path, start, end, b'"is_error"'):
        if block.get("type") != "tool_result" or block.get("is_error") is not True:
            continue
        call_id = block.get("tool_use_id")
        if isinstance(call_id, str) and call_id in pending and call_id not in taken:
            taken.add(call_id)
            text = _result_text(block.get("content"))
            found.append({"id": call_id, "finishedAt": at, "error": text})
    return found


def _base(session_id: str, cwd: Optional[str], transcript: Optional[str], agent_id: Optional[str]) -> dict[str, Any]:
    """The fields every recovered payload of one transcript file shares."""
    base: dict[str, Any] = {"session_id": session_id, "cwd": cwd, "transcript_path": transcript}
    if agent_id:
        base["agent_id"] = agent_id
    return base


def _write(payload: dict[str, Any], at: float) -> None:
    """A recovered hook payload as the hook would record it (its normalizer: redacted), marked ``backfilled``."""
    try:
        record = normalize({k: v for k, v in payload.items() if v is not None}, at)
    except PayloadError:
        return
    record["backfilled"] = True
    hook.write_record(record)


def end_calls(
    session_id: str,
    path: str,
    start: int,
    end: int,
    pending: dict[str, Optional[str]],
    *,
    cwd: Optional[str],
    transcript: Optional[str],
    agent_id: Optional[str] = None,
) -> int:
    """Write a PermissionDenied (``backfilled``, the transcript's text as its reason) for each pending call (id ->
    tool name) whose transcript result in ``path[start:end]`` is an error no hook reported: the client fires a
    hook for every call that ran, so one that ended without any never ran. How many."""
    calls = ended_without_hooks(path, start, end, set(pending))
    base = _base(session_id, cwd, transcript, agent_id)
    for call in calls:
        denied = {"hook_event_name": "PermissionDenied", "tool_name": pending[call["id"]], "reason": call["error"]}
        _write({**base, **denied, "tool_use_id": call["id"]}, call["finishedAt"] or 0.0)
    return len(calls)


def backfill(
    session_id: str,
    path: str,
    start: int,
    end: int,
    known: dict[str, str],
    *,
    cwd: Optional[str],
    transcript: Optional[str],
    agent_id: Optional[str] = None,
) -> int:
    """Write the missed PreToolUse and PostToolUse(Failure) records of ``path[start:end]``; how many calls."""
    calls = missing_calls(path, start, end, known)
    base = _base(session_id, cwd, transcript, agent_id)
    for call in calls:
        common = {**base, "tool_name": call["name"], "tool_input": call["input"], "tool_use_id": call["id"]}
        now = call["finishedAt"] or call["startedAt"] or 0.0
        _write({**common, "hook_event_name": "PreToolUse"}, call["startedAt"] or now)
        if call["error"] is not None:
            _write(
                {**common, "hook_event_name": "PostToolUseFailure", "error": call["error"], "is_interrupt": False}, now
            )
        else:
            _write({**common, "hook_event_name": "PostToolUse", "tool_response": call["response"]}, now)
    return len(calls)
