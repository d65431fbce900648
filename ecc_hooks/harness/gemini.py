"""Gemini CLI (``@google/gemini-cli``, pinned 0.61.0): its hooks made Claude-shaped, installed, given to runtime
workers, and its chat transcript read for tokens.

Gemini CLI runs command hooks from ``settings.json`` (``hooks.<Event>[] = {matcher, hooks: [{type: "command",
command, name, timeout (ms), env}]}``) with JSON on stdin, under its own event names: ``to_claude`` renames them
(BeforeAgent -> UserPromptSubmit, BeforeTool -> PreToolUse, AfterTool -> PostToolUse or PostToolUseFailure,
AfterAgent -> Stop, Notification ``ToolPermission`` -> PermissionRequest, a manual PreCompress -> PreCompact) and
its tools (``run_shell_command`` -> Bash, ``write_file``/``replace``/``read_file`` -> Write/Edit/Read ...).

What it cannot give: a tool call's id (we number the calls and pair each AfterTool with the oldest pending
BeforeTool of the same tool and input: ``sessions/<id>/tool-ids``, under a lock), a duration, a cost (computed
from prices.json), a turn-failure event. A shell command's exit status is only in the tool's text
(``Exit Code: N`` in its last lines, after the command's own output, so a command printing that line as its last
output is read as failing). PreCompress fires before every model call whether or not anything is compressed, so
only ``/compress`` (trigger ``manual``) is recorded: automatic compressions are not seen.

Secrets: the hook's environment carries ``GEMINI_API_KEY``; our hook entries blank it (``env``), and we never
register BeforeModel/AfterModel (the whole request each call). Payload strings are redacted by the normalizer.

Top level: standard library only and cheap (the hook imports this module on every event).
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any, Optional

    from ecc_hooks.harness.context import InstallContext, WorkerCapture
    from ecc_hooks.sources.usage.tracker import SessionUsage

HARNESS = "gemini-cli"
HOOK_NAME = "ecc-hooks"  # our hook entries' ``name``: what ``hooksConfig.disabled`` would list
# The events we register and their matcher. Deliberately absent: BeforeModel/AfterModel (a process per model call
# or streamed chunk, each with the whole conversation; usage is in the transcript anyway) and BeforeToolSelection.
# PreCompress fires before every model call; its matcher is the trigger, so only ``/compress`` runs our hook.
EVENTS: tuple[tuple[str, str], ...] = (
    ("SessionStart", "*"),
    ("BeforeAgent", "*"),
    ("BeforeTool", "*"),
    ("AfterTool", "*"),
    ("Notification", "*"),
    ("AfterAgent", "*"),
    ("PreCompress", "manual"),
    ("SessionEnd", "*"),
)
# Blanked in our hook's environment (a hook entry's ``env`` is laid over Gemini CLI's own): no key reaches us.
SECRET_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY")

NAMES = {
    "BeforeAgent": "UserPromptSubmit",
    "BeforeTool": "PreToolUse",
    "AfterTool": "PostToolUse",
    "AfterAgent": "Stop",
    "SessionStart": "SessionStart",
    "SessionEnd": "SessionEnd",
}
# Gemini tool -> (Claude tool, {Claude input key: Gemini input key})
TOOLS: dict[str, tuple[str, dict[str, str]]] = {
    "run_shell_command": ("Bash", {"command": "command", "description": "description"}),
    "write_file": ("Write", {"file_path": "file_path", "content": "content"}),
    "replace": ("Edit", {"file_path": "file_path", "old_string": "old_string", "new_string": "new_string"}),
    "read_file": ("Read", {"file_path": "file_path"}),
    "glob": ("Glob", {"pattern": "pattern", "path": "dir_path"}),
    "grep_search": ("Grep", {"pattern": "pattern", "path": "dir_path", "glob": "include_pattern"}),
    "list_directory": ("LS", {"path": "dir_path"}),
    "web_fetch": ("WebFetch", {"prompt": "prompt"}),
    "google_web_search": ("WebSearch", {"query": "query"}),
    "write_todos": ("TodoWrite", {}),
}
# A permission prompt's ``details.type`` -> the Claude tool it asks for, and the detail naming what it runs
PROMPTS = {"exec": ("Bash", "command", "command"), "edit": ("Edit", "file_path", "filePath")}
# ... and the Gemini tools such a prompt is for: the newest of them still pending is the call that waits (Gemini
# CLI fires BeforeTool before it asks)
PROMPT_TOOLS = {"exec": ("run_shell_command",), "edit": ("write_file", "replace")}
PENDING_MAX = 64  # calls kept waiting for their AfterTool (a cancelled turn's leftovers go at the next prompt)
# Claude's names Gemini CLI never sends: the payloads ``reconcile`` makes, recorded through the hook as they are
RECONCILED = ("PermissionDenied", "Stop")
CANCELLED_INFO = "Request cancelled"  # the chat's info line when the user ends a request (Esc)
RECONCILE_GRACE = 3.0  # seconds a declined call waits for that line before it is ended without its Stop
SHELL_TAIL = ("Process Group PGID: ", "Background PIDs: ", "Signal: ")  # the shell tool's lines after Exit Code


# ---------------------------------------------------------------------------- events


def _str(value: object) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def to_claude(payload: dict[str, Any]) -> Optional[dict[str, Any]]:
    """Gemini CLI's hook payload as Claude Code's, or None for an event we do not record."""
    if not isinstance(payload, dict):
        return None  # type: ignore[unreachable]  # whatever the agent sent
    event = payload.get("hook_event_name")
    session = _str(payload.get("session_id"))
    if not isinstance(event, str) or session is None:
        return None
    out: dict[str, Any] = {"session_id": session}
    for key in ("cwd", "transcript_path"):
        if _str(payload.get(key)):
            out[key] = payload[key]
    if event == "Notification":
        return _notification(payload, out)
    if event in RECONCILED:
        return _reconciled(payload, out)
    if event == "PreCompress":
        if payload.get("trigger") != "manual":
            return None  # fired before every model call, compressing or not
        out.update(hook_event_name="PreCompact", trigger="manual")
        return out
    name = NAMES.get(event)
    if name is None:
        return None
    out["hook_event_name"] = name
    if event == "SessionStart":
        _copy(payload, out, "source")
    elif event == "SessionEnd":
        _copy(payload, out, "reason")
        _forget_calls(session)
    elif event == "BeforeAgent":
        _copy(payload, out, "prompt")
        _forget_calls(session)  # a new prompt: calls still pending were cancelled with the last turn
    elif event == "AfterAgent":
        out["stop_hook_active"] = payload.get("stop_hook_active") is True
        if _str(payload.get("prompt_response")):
            out["last_assistant_message"] = payload["prompt_response"]
    else:
        _tool_event(payload, out, session, event == "BeforeTool")
    return out


def _reconciled(payload: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """A payload of ``reconcile``'s, already Claude-shaped: its own fields kept, each of the type it must have."""
    out["hook_event_name"] = payload["hook_event_name"]
    for key in ("tool_name", "tool_use_id", "error", "reason"):
        _copy(payload, out, key)
    if isinstance(payload.get("tool_input"), dict):
        out["tool_input"] = payload["tool_input"]
    for key in ("is_interrupt", "stop_hook_active"):
        if isinstance(payload.get(key), bool):
            out[key] = payload[key]
    return out


def _copy(payload: dict[str, Any], out: dict[str, Any], key: str) -> None:
    if _str(payload.get(key)):
        out[key] = payload[key]


def tool_call(name: object, tool_input: object) -> tuple[Optional[str], dict[str, Any]]:
    """A Gemini tool call as Claude names it: (tool name, input with Claude's keys)."""
    tool = _str(name)
    args = tool_input if isinstance(tool_input, dict) else {}
    if tool not in TOOLS:
        return tool, dict(args)
    claude, keys = TOOLS[tool]
    shaped = {key: args[src] for key, src in keys.items() if src in args}
    if tool == "run_shell_command" and args.get("is_background") is True:
        shaped["run_in_background"] = True
    elif tool == "write_todos" and isinstance(args.get("todos"), list):
        shaped["todos"] = [
            {"content": t.get("description"), "status": t.get("status")} for t in args["todos"] if isinstance(t, dict)
        ]
    return claude, shaped


def _tool_event(payload: dict[str, Any], out: dict[str, Any], session: str, before: bool) -> None:
    raw_name = payload.get("tool_name")
    tool, shaped = tool_call(raw_name, payload.get("tool_input"))
    if tool is not None:
        out["tool_name"] = tool
    out["tool_input"] = shaped
    key = (_str(raw_name) or "?", _fingerprint(payload.get("tool_input")))
    call_id = _open_call(session, key) if before else _close_call(session, key)
    if call_id is not None:
        out["tool_use_id"] = call_id
    if before:
        return
    response = payload.get("tool_response")
    response = response if isinstance(response, dict) else {}
    out["tool_response"] = response
    failure = tool_failure(_str(raw_name), response)
    if failure is not None:
        error, interrupted = failure
        out["hook_event_name"] = "PostToolUseFailure"
        out["error"] = error
        out["is_interrupt"] = interrupted


def tool_failure(tool: Optional[str], response: dict[str, Any]) -> Optional[tuple[str, bool]]:
    """(error, interrupted) when the call failed: the tool's ``error``, or a shell command's non-zero exit, or a
    cancelled command; None when it succeeded."""
    error = response.get("error")
    if isinstance(error, dict):
        return (_str(error.get("message")) or _str(error.get("type")) or "error", False)
    if _str(error):
        return (error, False)  # type: ignore[return-value]
    if tool != "run_shell_command":
        return None
    text = response.get("llmContent")
    if not isinstance(text, str):
        return None
    body = text.strip()
    if body.startswith("<untrusted_context>"):
        body = body[len("<untrusted_context>") :].lstrip()
    if body.startswith("Command was cancelled by user"):
        return ("Command was cancelled by user", True)
    if body.startswith("Command was automatically cancelled"):
        return (body.split("\n", 1)[0][:200], False)
    code = shell_exit_code(text)
    return (f"Exit Code: {code}", False) if code not in (None, 0) else None


def shell_exit_code(text: str) -> Optional[int]:
    """The exit code in the shell tool's text: its ``Exit Code: N`` line sits after the output, followed only by
    the Signal, Background PIDs and Process Group PGID lines (Gemini CLI writes it only when non-zero)."""
    lines = text.rstrip().split("\n")
    if lines and lines[-1].strip() == "</untrusted_context>":
        lines.pop()
    while lines and lines[-1].startswith(SHELL_TAIL):
        lines.pop()
    if not lines or not lines[-1].startswith("Exit Code: "):
        return None
    value = lines[-1][len("Exit Code: ") :].strip()
    sign = value.startswith("-")
    digits = value[1:] if sign else value
    if not digits.isdigit() or len(digits) > 9:
        return None
    return -int(digits) if sign else int(digits)


def _notification(payload: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    kind = payload.get("notification_type")
    message = _str(payload.get("message"))
    if message:
        out["message"] = message
    if kind != "ToolPermission":
        out.update(hook_event_name="Notification", notification_type=_str(kind) or "unknown")
        return out
    out["hook_event_name"] = "PermissionRequest"
    details = payload.get("details")
    details = details if isinstance(details, dict) else {}
    kind = str(details.get("type"))
    tool, key, src = PROMPTS.get(kind, (None, "", ""))
    if tool is not None:
        out["tool_name"] = tool
        out["tool_input"] = {key: details[src]} if _str(details.get(src)) else {}
    elif _str(details.get("toolName")):
        out["tool_name"] = details["toolName"]  # an MCP tool's own name
    waiting = _waiting_call(out["session_id"], PROMPT_TOOLS.get(kind) or (out.get("tool_name"),))
    if waiting is not None:  # the call itself: its id, and its own name (a write_file asks as an "edit")
        out["tool_use_id"] = waiting[0]
        out["tool_name"] = tool_call(waiting[1], {})[0]
    return out


# ---------------------------------------------------------------------------- call ids (FIFO per tool)


def _fingerprint(tool_input: object) -> str:
    """A short identity of a call's input: an AfterTool repeats its BeforeTool's input."""
    from ecc_hooks.core import jsonlite

    try:
        text = jsonlite.dumps(tool_input)
    except (TypeError, ValueError):
        text = repr(type(tool_input))
    import zlib

    return f"{len(text):x}:{zlib.crc32(text.encode('utf-8', 'replace')):08x}"


def _with_calls(session: str, change: Any) -> Any:
    """Run ``change(state)`` on the session's pending calls under an exclusive lock and save what it left.

    The file (``paths.tool_ids_path``) holds ``{"next": n, "pending": [[id, tool, input fingerprint, opened at
    (epoch seconds)], ...]}``;
    Gemini CLI runs a turn's parallel calls' hooks at once, hence the lock. Any failure answers None: the event
    is then recorded without an id (counted, not paired)."""
    import fcntl

    from ecc_hooks.core import jsonlite, paths
    from ecc_hooks.core.fsio import open_file

    try:
        fd = open_file(paths.tool_ids_path(session), os.O_RDWR | os.O_CREAT, create_dirs=True)
    except (OSError, ValueError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, 1 << 16, 0)
        try:
            state = jsonlite.loads(raw.decode("utf-8")) if raw else {}
        except (ValueError, UnicodeDecodeError):
            state = {}
        if (
            not isinstance(state, dict)
            or not isinstance(state.get("next"), int)
            or not isinstance(state.get("pending"), list)
        ):
            state = {"next": 1, "pending": []}
        result = change(state)
        state["pending"] = state["pending"][-PENDING_MAX:]
        data = jsonlite.dumps(state).encode()
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        return result
    except OSError:
        return None
    finally:
        os.close(fd)


def _open_call(session: str, key: tuple[str, str]) -> Optional[str]:
    def change(state: dict[str, Any]) -> str:
        call_id = f"gemini-{session[:8]}-{state['next']}"
        state["next"] += 1
        state["pending"].append([call_id, key[0], key[1], round(time.time(), 3)])
        return call_id

    found = _with_calls(session, change)
    return found if isinstance(found, str) else None


def _close_call(session: str, key: tuple[str, str]) -> Optional[str]:
    """The pending call this AfterTool ends: the oldest with the same tool and input, else the oldest of the same
    tool; a new id when none waits (our hook was installed mid-call)."""

    def change(state: dict[str, Any]) -> str:
        pending = [p for p in state["pending"] if isinstance(p, list) and len(p) >= 3]
        match = next((p for p in pending if p[1] == key[0] and p[2] == key[1]), None)
        match = match or next((p for p in pending if p[1] == key[0]), None)
        if match is not None:
            pending.remove(match)
            state["pending"] = pending
            return str(match[0])
        call_id = f"gemini-{session[:8]}-{state['next']}"
        state["next"] += 1
        state["pending"] = pending
        return call_id

    found = _with_calls(session, change)
    return found if isinstance(found, str) else None


def _waiting_call(session: str, tools: tuple[object, ...]) -> Optional[tuple[str, str]]:
    """(id, Gemini tool) of the newest pending call of one of ``tools``, or None."""

    def change(state: dict[str, Any]) -> Optional[tuple[str, str]]:
        for entry in reversed(state["pending"]):
            if isinstance(entry, list) and len(entry) >= 3 and entry[1] in tools:
                return (str(entry[0]), str(entry[1]))
        return None

    found = _with_calls(session, change)
    return found if isinstance(found, tuple) else None


def _forget_calls(session: str) -> None:
    def change(state: dict[str, Any]) -> None:
        state["pending"] = []

    _with_calls(session, change)


# ---------------------------------------------------------------------------- calls ended without a hook

TAIL_READ = 1 << 20  # the chat's last bytes read for a declined call (it is among the last lines written)


def reconcile(session_id: str, transcript_path: Optional[str], pending: dict[str, str]) -> list[dict[str, Any]]:
    """Claude-shaped payloads for the calls the chat shows ended while the journal still has them open
    (``pending``: call id -> tool name): a call declined at Gemini CLI's permission prompt (Esc) fires no hook,
    the chat records it ``status: "cancelled"``, then its info line ``Request cancelled.``. Each such call gets a
    ``PermissionDenied`` (the person said no: counted denied, as Claude Code's rejection at its prompt is), then the
    turn its ``Stop``.

    A chat call is ours when it is a pending call's tool and input and was cancelled after that call opened (a
    call declined in an earlier turn is older); the call leaves the pending list at once, so it is ended once
    however often this is asked. Without the info line a call is ended only ``RECONCILE_GRACE`` seconds after it
    was cancelled (no Stop: the turn may go on)."""
    path = _str(transcript_path)
    if not pending or path is None:
        return []
    cancelled, info_after = cancelled_calls(_chat_tail(path))
    if not cancelled:
        return []
    now = time.time()
    ripe = [c for c in cancelled if info_after >= c["at"] or now - c["at"] >= RECONCILE_GRACE]
    matched = _take_calls(session_id, ripe, pending)
    base = {"session_id": session_id, "transcript_path": path}
    out = [
        {
            **base,
            "hook_event_name": "PermissionDenied",
            "tool_use_id": call_id,
            "tool_name": tool_call(call["name"], {})[0] or pending[call_id],
            "tool_input": tool_call(call["name"], call["args"])[1],
            "reason": call["error"],
        }
        for call_id, call in matched
    ]
    if matched and any(info_after >= call["at"] for _, call in matched):
        out.append({**base, "hook_event_name": "Stop", "stop_hook_active": False})
    return out


def _chat_tail(path: str) -> bytes:
    """The chat's last ``TAIL_READ`` bytes, from its first whole line (``fsio``'s rules: no FIFO, no link below
    ``ECC_HOOKS_HOME``)."""
    from ecc_hooks.core import fsio

    try:
        fd = fsio.open_file(path, os.O_RDONLY)
    except (OSError, ValueError):
        return b""
    try:
        size = os.fstat(fd).st_size
        start = max(size - TAIL_READ, 0)
        data = os.pread(fd, size - start, start)
    except OSError:
        return b""
    finally:
        os.close(fd)
    return data if start == 0 else data.partition(b"\n")[2]


def cancelled_calls(data: bytes) -> tuple[list[dict[str, Any]], float]:
    """The cancelled tool calls in chat lines (``name``, ``args``, ``error``, ``at``: epoch seconds, each call's
    last version) and when the last ``Request cancelled`` info line was written (0.0: none)."""
    import json

    from ecc_hooks.core.timestamps import parse_iso

    calls: dict[str, dict[str, Any]] = {}
    info_at = 0.0
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        when = parse_iso(record["timestamp"]) if isinstance(record.get("timestamp"), str) else None
        if record.get("type") == "info" and str(record.get("content")).startswith(CANCELLED_INFO) and when:
            info_at = when.timestamp()
        listed = record.get("toolCalls") if record.get("type") == "gemini" else None
        for item in listed if isinstance(listed, list) else []:
            call = _cancelled(item, parse_iso)
            if call is not None:
                calls[call.pop("id")] = call
    return list(calls.values()), info_at


def _cancelled(item: object, parse_iso: Any) -> Optional[dict[str, Any]]:
    if not isinstance(item, dict) or item.get("status") != "cancelled" or not _str(item.get("id")):
        return None
    at = parse_iso(item["timestamp"]) if isinstance(item.get("timestamp"), str) else None
    if at is None or not _str(item.get("name")):
        return None
    args = item.get("args") if isinstance(item.get("args"), dict) else {}
    return {"id": item["id"], "name": item["name"], "args": args, "error": _call_error(item), "at": at.timestamp()}


def _call_error(item: dict[str, Any]) -> str:
    """The cancelled call's own reason (``[Operation Cancelled] Reason: User denied execution.``)."""
    result = item.get("result")
    for part in result if isinstance(result, list) else []:
        response = part.get("functionResponse") if isinstance(part, dict) else None
        inner = response.get("response") if isinstance(response, dict) else None
        if isinstance(inner, dict) and _str(inner.get("error")):
            return str(inner["error"])[:500]
    return "cancelled"


def _take_calls(
    session: str, cancelled: list[dict[str, Any]], pending: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """(our call id, chat call) for each cancelled chat call that ends a call of ours still open in both the
    journal and the FIFO state (same tool, same input, else same tool; opened before it was cancelled), those
    calls taken off the state's pending list."""

    def change(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        found = []
        open_calls = [p for p in state["pending"] if isinstance(p, list) and len(p) >= 4 and p[0] in pending]
        for call in cancelled:
            fingerprint = _fingerprint(call["args"])
            mine = [p for p in open_calls if p[1] == call["name"] and _opened(p) <= call["at"] + 1.0]
            match = next((p for p in mine if p[2] == fingerprint), None) or next(iter(mine), None)
            if match is not None:
                open_calls.remove(match)
                state["pending"] = [p for p in state["pending"] if p is not match]
                found.append((str(match[0]), call))
        return found

    taken = _with_calls(session, change)
    return taken if isinstance(taken, list) else []


def _opened(entry: list[Any]) -> float:
    """When a pending call opened (its BeforeTool ran); unknown: never (it ends no chat call)."""
    at = entry[3]
    return float(at) if isinstance(at, (int, float)) and not isinstance(at, bool) else float("inf")


# ---------------------------------------------------------------------------- settings.json


def gemini_dir(home: Path, environ: Optional[Mapping[str, str]] = None) -> Path:
    """Gemini CLI's own folder: ``$GEMINI_CLI_HOME/.gemini`` when that is set (Gemini CLI's variable), else
    ``~/.gemini``."""
    from pathlib import Path

    env = os.environ if environ is None else environ
    return Path(env.get("GEMINI_CLI_HOME") or home) / ".gemini"


def hook_entry(hook_shell: str) -> dict[str, Any]:
    """One hook of ours, as Gemini CLI's settings write it (timeout in milliseconds; the key blanked)."""
    from ecc_hooks.core.hookspec import HOOK_TIMEOUT

    return {
        "type": "command",
        "name": HOOK_NAME,
        "command": hook_shell,
        "timeout": HOOK_TIMEOUT * 1000,
        "env": {name: "" for name in SECRET_ENV},
        "description": "ecc-hooks: records the event in its journal",
    }


def is_ours(hook: object) -> bool:
    """A hook entry we wrote: its command carries our marker."""
    from ecc_hooks.core.hookspec import MARKER

    return isinstance(hook, dict) and isinstance(hook.get("command"), str) and MARKER in hook["command"]


def _hooks_section(settings: dict[str, Any], path: str) -> dict[str, Any]:
    from ecc_hooks.core.errors import UserError

    hooks = settings.get("hooks", {})
    if not isinstance(hooks, dict):
        raise UserError(f'"hooks" in {path} is not an object; fix it by hand (the file was not changed)')
    for event, definitions in hooks.items():
        if not isinstance(definitions, list):
            raise UserError(f'"hooks.{event}" in {path} is not a list; fix it by hand (the file was not changed)')
    return hooks


def without_ours(settings: dict[str, Any], path: str = "settings.json") -> dict[str, Any]:
    """``settings`` with every hook of ours removed (a definition or an event that held only ours goes too; the
    user's own entries stay as they are). Settings with none of ours come back equal."""
    import copy

    hooks = _hooks_section(settings, path)
    result = copy.deepcopy(settings)
    if not any(_holds_ours(d) for definitions in hooks.values() for d in definitions):
        return result
    kept: dict[str, Any] = {}
    for event, definitions in result["hooks"].items():
        out = []
        for definition in definitions:
            if not _holds_ours(definition):
                out.append(definition)
                continue
            rest = [h for h in definition["hooks"] if not is_ours(h)]
            if rest:
                out.append({**definition, "hooks": rest})
        if out or not definitions:
            kept[event] = out
    if kept:
        result["hooks"] = kept
    else:
        result.pop("hooks")  # ours were all it held
    return result


def _holds_ours(definition: object) -> bool:
    inner = definition.get("hooks") if isinstance(definition, dict) else None
    return isinstance(inner, list) and any(is_ours(h) for h in inner)


def with_ours(settings: dict[str, Any], hook_shell: str, path: str = "settings.json") -> dict[str, Any]:
    """``settings`` with our hook on each of ``EVENTS`` (once, after the user's own)."""
    result = without_ours(settings, path)
    hooks = result.setdefault("hooks", {})
    for event, matcher in EVENTS:
        hooks.setdefault(event, []).append({"matcher": matcher, "hooks": [hook_entry(hook_shell)]})
    return result


def read_settings(path: Path, lenient: bool = False) -> dict[str, Any]:
    """The settings object in ``path`` (missing or empty: ``{}``). Not a JSON object: a ``UserError`` naming the
    file; ``lenient`` (a runtime worker's private copy) also strips Gemini CLI's ``//`` and ``/* */`` comments."""
    import json

    from ecc_hooks.core import fsio
    from ecc_hooks.core.errors import UserError

    try:
        text = fsio.read_file(str(path), cap=1 << 22).decode("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path} ({exc}); fix it by hand (nothing was changed)") from None
    if not text.strip():
        return {}
    try:
        settings = json.loads(strip_comments(text) if lenient else text)
    except ValueError as exc:
        raise UserError(
            f"{path} is not plain JSON ({exc.args[0] if exc.args else exc}); fix it or add our hooks by hand "
            "(nothing was changed)"
        ) from None
    if not isinstance(settings, dict):
        raise UserError(f"{path} is not a JSON object; fix it by hand (nothing was changed)")
    return settings


def strip_comments(text: str) -> str:
    """JSON with ``//`` and ``/* */`` comments (as Gemini CLI reads its settings) as plain JSON; strings kept."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _render(settings: dict[str, Any]) -> bytes:
    import json

    return (json.dumps(settings, indent=2, ensure_ascii=False) + "\n").encode()


def _warnings(settings: dict[str, Any]) -> list[str]:
    config = settings.get("hooksConfig")
    config = config if isinstance(config, dict) else {}
    lines = []
    if config.get("enabled") is False:
        lines.append("hooksConfig.enabled is false in it: Gemini CLI runs no hooks until you set it to true")
    disabled = config.get("disabled")
    if isinstance(disabled, list) and HOOK_NAME in disabled:
        lines.append(f'hooksConfig.disabled lists "{HOOK_NAME}": Gemini CLI skips our hook until you remove it')
    return lines


def install(ctx: InstallContext) -> list[str]:
    """Our hook on Gemini CLI's cheap events in its user settings; the user's hooks and settings kept."""
    path = gemini_dir(ctx.home) / "settings.json"
    settings = read_settings(path)
    updated = with_ours(settings, ctx.hook_shell, str(path))
    events = ", ".join(event for event, _ in EVENTS)
    if updated == settings:
        return [f"already installed in {path}", *_warnings(settings)]
    if ctx.dry_run:
        return [f"would add our hook to {path} for {events}"]
    backup = ctx.backup(str(path)) if path.exists() else None
    from ecc_hooks.harness.context import write_config

    write_config(str(path), _render(updated))
    note = f" (backup: {backup})" if backup else ""
    return [f"hooked {events} in {path}{note}", *_warnings(updated)]


def uninstall(ctx: InstallContext) -> list[str]:
    """Our hooks out of Gemini CLI's user settings; everything else as it was."""
    path = gemini_dir(ctx.home) / "settings.json"
    if not path.exists():
        return [f"nothing to remove: no {path}"]
    settings = read_settings(path)
    updated = without_ours(settings, str(path))
    if updated == settings:
        return [f"nothing to remove in {path}"]
    if ctx.dry_run:
        return [f"would remove our hooks from {path}"]
    backup = ctx.backup(str(path))
    from ecc_hooks.harness.context import write_config

    write_config(str(path), _render(updated))
    return [f"removed our hooks from {path}" + (f" (backup: {backup})" if backup else "")]


# ---------------------------------------------------------------------------- runtime workers


def worker_capture(hook_argv: list[str], private_dir: Path, session_id: Optional[str]) -> WorkerCapture:
    """A worker's Gemini CLI with our hooks, the user's ``~/.gemini`` untouched: ``GEMINI_CLI_HOME`` points at a
    private home whose ``.gemini`` links every entry of the user's (credentials, history, trust) except
    ``settings.json``, a copy of the user's with our hooks added, and ``tmp/``, its own (the worker's chats);
    ``--session-id`` the id asked for (none asked: a resume, which continues its own session, so no id is passed).

    Gemini CLI's ``GEMINI_CLI_SYSTEM_SETTINGS_PATH`` (an override layer) is no way: it skips a file that is not
    owned by root or whose folders others can write (measured with 0.61.0), so it works for root alone. What the
    worker changes in its settings (``/settings``) stays in the private copy."""
    import shlex
    from pathlib import Path

    from ecc_hooks.core.errors import UserError
    from ecc_hooks.core.fsio import atomic_write
    from ecc_hooks.core.hookspec import MARKER
    from ecc_hooks.harness.context import WorkerCapture

    user_dir = gemini_dir(Path(os.path.expanduser("~")))
    home = Path(private_dir) / "gemini-home"
    own_dir = home / ".gemini"
    os.makedirs(own_dir, mode=0o700, exist_ok=True)
    _link_entries(user_dir, own_dir)
    try:
        settings = read_settings(user_dir / "settings.json", lenient=True)
        settings = without_ours(settings)
    except UserError:
        settings = {}  # unreadable: the worker runs with our hooks alone (Gemini CLI would ignore that file too)
    data = _render(with_ours(settings, f"{shlex.join(hook_argv)} {MARKER}"))
    atomic_write(str(own_dir / "settings.json"), data, 0o600, root=str(private_dir))
    args = ["--session-id", session_id] if session_id else []
    return WorkerCapture(env={"GEMINI_CLI_HOME": str(home)}, args=args, session_id=session_id or None)


def _link_entries(user_dir: Path, own_dir: Path) -> None:
    """Link each entry of the user's Gemini folder into ours (a link of an earlier launch replaced), except
    ``settings.json`` and ``tmp``: the worker's chats are written in a ``tmp/`` of the private home, a real folder,
    because the private home lies below ``ECC_HOOKS_HOME`` where ``core.fsio`` follows no link, so a chat reached
    through a link to the user's ``tmp/`` could not be read for its tokens. Only the user's ``tmp/bin`` (the
    ripgrep Gemini CLI downloads) is linked inside it."""
    try:
        names = sorted(os.listdir(user_dir))
    except OSError:
        names = []
    for name in names:
        if name in ("settings.json", "tmp") or name.startswith("."):
            continue
        target = own_dir / name
        if os.path.islink(target):
            os.unlink(target)
        elif os.path.exists(target):
            continue  # a file Gemini CLI created in the private home: keep it
        os.symlink(user_dir / name, target)
    _own_tmp(user_dir / "tmp", own_dir / "tmp")


def _own_tmp(user_tmp: Path, own_tmp: Path) -> None:
    """The private home's own ``tmp/`` (a link to the user's, from an earlier version, replaced by a folder)."""
    if os.path.islink(own_tmp):
        os.unlink(own_tmp)
    os.makedirs(own_tmp, mode=0o700, exist_ok=True)
    tools = user_tmp / "bin"
    if os.path.isdir(tools) and not os.path.lexists(own_tmp / "bin"):
        os.symlink(tools, own_tmp / "bin")


# ---------------------------------------------------------------------------- usage


def read_usage(session_id: str, transcript_path: Optional[str], env: Mapping[str, str]) -> Optional[SessionUsage]:
    """Tokens from Gemini CLI's chat transcript (and its subagents' chats), priced from prices.json.

    Each ``type: "gemini"`` message has ``tokens {input, output, cached, thoughts, tool, total}``: ``input`` is
    the prompt with its cached part (Gemini's ``promptTokenCount``), ``output`` excludes the thoughts, ``tool`` is
    the tool-use prompt, billed as input. A message is written again as it grows (same ``id``): its last version
    counts, and a message a rewind removed still counts (its tokens were spent)."""
    from ecc_hooks.harness.usage import build_usage

    path = transcript_path or find_transcript(session_id, env)
    if path is None:
        return None
    records, lines, malformed = transcript_messages(path)
    for sub in _subagent_chats(path, session_id):
        more, n, bad = transcript_messages(sub)
        records.extend(more)
        lines += n
        malformed += bad
    if not records and lines == 0:
        return None
    messages = [m for m, _ in records]
    context = records[-1][1] if records else None
    return build_usage(
        session_id, path, messages, context_tokens=context, env=env, lines=lines, malformed_lines=malformed
    )


# A long-lived reader (the watcher, while a Gemini CLI session lives) parses only what a chat file gained since its
# last read: path -> (cursor, guard: the bytes just before it, messages so far, lines, malformed lines).
_READS: dict[str, tuple[Any, bytes, dict[str, tuple[Any, int]], int, int]] = {}
READS_KEPT = 32
GUARD = 64


def transcript_messages(path: str) -> tuple[list[tuple[Any, int]], int, int]:
    """([(Message, prompt tokens)], lines, malformed lines) of one chat file: the last version of each gemini
    message with token counts, in the order they first appeared. Only the bytes appended since this process last
    read the file are parsed (a file replaced or rewritten is read again from its start)."""
    from ecc_hooks.core import fsio

    cursor, guard, found, lines, malformed = _READS.pop(path, (fsio.Cursor(), b"", {}, 0, 0))
    found = dict(found)
    while True:
        block = fsio.read_new_block(path, cursor, guard=guard)
        if block.reset:
            found, lines, malformed = {}, 0, 0
        cursor = block.cursor
        if not block.data:
            break
        guard = block.data[-GUARD:]
        n, bad = _parse(block.data, found)
        lines, malformed = lines + n, malformed + bad
    _READS[path] = (cursor, guard, found, lines, malformed)
    while len(_READS) > READS_KEPT:
        _READS.pop(next(iter(_READS)))
    result = dict(found)
    n, bad = _parse(_unfinished_line(path, cursor), result)  # a last line with no newline yet: not kept
    return list(result.values()), lines + (0 if bad else n), malformed


def _unfinished_line(path: str, cursor: Any) -> bytes:
    """The bytes after ``cursor`` when they are one line still being written (at most 1 MiB), else nothing."""
    from ecc_hooks.core import fsio

    try:
        fd = fsio.open_file(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (cursor.dev, cursor.ino) and cursor.offset:
            return b""
        tail = os.pread(fd, min(st.st_size - cursor.offset, 1 << 20), cursor.offset)
    except OSError:
        return b""
    finally:
        os.close(fd)
    return tail if b"\n" not in tail else b""


def _parse(data: bytes, found: dict[str, tuple[Any, int]]) -> tuple[int, int]:
    """Fold chat lines into ``found`` (message id -> its last version); (lines, malformed lines)."""
    import json

    from ecc_hooks.core.timestamps import parse_iso

    lines = malformed = 0
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        lines += 1
        try:
            record = json.loads(line)
        except ValueError:
            malformed += 1
            continue
        items = [record] if isinstance(record, dict) and "id" in record else []
        if isinstance(record, dict) and isinstance(record.get("$set"), dict):
            listed = record["$set"].get("messages")
            items = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
        for item in items:
            message = _message(item, parse_iso)
            if message is not None:
                found[str(item["id"])] = message
    return lines, malformed


def _count(tokens: dict[str, Any], key: str) -> int:
    value = tokens.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 53 else 0


def _message(item: dict[str, Any], parse_iso: Any) -> Optional[tuple[Any, int]]:
    from ecc_hooks.harness.usage import Message

    tokens = item.get("tokens")
    if item.get("type") != "gemini" or not isinstance(tokens, dict) or not isinstance(item.get("id"), str):
        return None
    prompt, cached, tool = _count(tokens, "input"), _count(tokens, "cached"), _count(tokens, "tool")
    thoughts = _count(tokens, "thoughts")
    at = parse_iso(item["timestamp"]) if isinstance(item.get("timestamp"), str) else None
    message = Message(
        model=_str(item.get("model")) or "unknown",
        input=max(prompt - cached, 0) + tool,
        output=_count(tokens, "output") + thoughts,
        cache_read=min(cached, prompt),
        reasoning=thoughts,
        at=at.timestamp() if at is not None else None,
    )
    return message, prompt + tool


def find_transcript(session_id: str, env: Mapping[str, str]) -> Optional[str]:
    """The main chat file of a session: ``<gemini dir>/tmp/<project>/chats/session-<time>-<id8>.jsonl`` whose
    first line names the session."""
    import glob
    import json
    from pathlib import Path

    from ecc_hooks.core import fsio

    root = gemini_dir(Path(env.get("HOME") or os.path.expanduser("~")), env) / "tmp"
    pattern = os.path.join(glob.escape(str(root)), "*", "chats", f"session-*-{glob.escape(session_id[:8])}.jsonl")
    for candidate in sorted(glob.glob(pattern), reverse=True):
        try:
            first = fsio.read_file(candidate, cap=4096).split(b"\n", 1)[0]
            if json.loads(first).get("sessionId") == session_id:
                return candidate
        except (OSError, ValueError, AttributeError):
            continue
    return None


def _subagent_chats(path: str, session_id: str) -> list[str]:
    """A session's subagents' chats: ``chats/<session id>/<subagent id>.jsonl`` beside the main chat."""
    import glob

    folder = os.path.join(os.path.dirname(path), session_id)
    return sorted(glob.glob(os.path.join(glob.escape(folder), "*.jsonl")))
