"""OpenCode (npm ``opencode-ai``): its plugin's payloads as Claude-shaped ones, the plugin's install, its usage.

OpenCode has no command hooks: it loads JavaScript plugins in-process from ``<config>/opencode/plugin/*.js``.
Ours (``opencode_plugin.js``, package data) forwards the hooks and bus events the HUD needs, one small JSON
payload each, to the hook command baked in at install time (fire-and-forget, in order, never blocking
OpenCode). Its payloads name OpenCode's own event (``event``), and ``to_claude`` maps them here, in Python,
where they are validated like any untrusted input:

=====================  =========================================================================
plugin ``event``       Claude-shaped payload
=====================  =========================================================================
session.created        SessionStart (a child session, ``parent_id`` set: SubagentStart)
chat.message           UserPromptSubmit (a child session's: dropped)
tool.execute.before    PreToolUse
tool.execute.after     PostToolUse, or PostToolUseFailure when ``metadata.exit`` is not 0
tool.error             PostToolUseFailure (a tool part in state ``error``: a throw, a rejection)
permission.asked       PermissionRequest
permission.replied     PermissionDenied when rejected (an approval is followed by the tool's own events)
session.idle           Stop (a child session's: SubagentStop)
session.error          StopFailure (a turn the user stopped: Stop)
session.compacted      PostCompact
=====================  =========================================================================

A subagent (OpenCode's ``task`` tool) runs as a child session: its events carry the root session's id and the
child's as ``agent_id``, as Claude Code's subagents do. Tokens and cost come from OpenCode's own database (the
plugin puts its path in ``transcript_path``), read-only; the cost is OpenCode's, priced from the model's
configured rates (zero when the model has none).

Top level: standard library only and cheap (the hook imports it on every event).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from ecc_hooks.harness.context import InstallContext, WorkerCapture
    from ecc_hooks.sources.usage.tracker import SessionUsage

HARNESS = "opencode"
PLUGIN_NAME = "ecc-hooks.js"  # our file in OpenCode's plugin folder
PLUGIN_SOURCE = "opencode_plugin.js"  # package data beside this module
MARKER = "// ecc-hooks: OpenCode plugin"  # the first line of every plugin file we write
HOOK_LINE = "const HOOK = []; // ecc-hooks: hook argv (filled in at install)"
ID_CAP = 128
TEXT_CAP = 4000
DB_NAME = "opencode.db"
ABORTED = "MessageAbortedError"  # OpenCode's error when the user stops a turn
CONTENT_ENV = "OPENCODE_CONFIG_CONTENT"  # configuration (JSON) OpenCode merges over the user's files
SDK = "@opencode-ai/plugin"  # the package OpenCode installs into each configuration folder (see _config_dir_capture)

# OpenCode's tool names -> Claude Code's (the fold and the summaries know Claude's); others keep their name
TOOLS = {
    "bash": "Bash",
    "read": "Read",
    "write": "Write",
    "edit": "Edit",
    "multiedit": "MultiEdit",
    "glob": "Glob",
    "grep": "Grep",
    "list": "LS",
    "todowrite": "TodoWrite",
    "todoread": "TodoRead",
    "task": "Task",
    "webfetch": "WebFetch",
    "websearch": "WebSearch",
}
# OpenCode's argument names -> Claude Code's
ARGS = {
    "filePath": "file_path",
    "filepath": "file_path",
    "oldString": "old_string",
    "newString": "new_string",
    "replaceAll": "replace_all",
}


# ---------------------------------------------------------------------------- untrusted values


def _str(value: object, cap: int = TEXT_CAP) -> str | None:
    return value[:cap] if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53 else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _tool_name(tool: object) -> str | None:
    name = _str(tool, ID_CAP)
    return TOOLS.get(name, name) if name else None


def _tool_input(tool: str | None, args: object) -> dict[str, Any]:
    """OpenCode's arguments under Claude Code's names (its todos as Claude's: content and status)."""
    out: dict[str, Any] = {}
    for key, value in list(_dict(args).items())[:50]:
        if isinstance(key, str):
            out[ARGS.get(key, key)] = value
    if tool == "TodoWrite" and isinstance(out.get("todos"), list):
        out["todos"] = [
            {k: item[k] for k in ("content", "status") if isinstance(item.get(k), str)}
            for item in out["todos"][:100]
            if isinstance(item, dict)
        ]
    return out


def _tool(payload: dict[str, Any], name: str = "tool", details: str = "args") -> dict[str, Any]:
    """The call's Claude-shaped fields: its tool (``name``: the payload's key naming it) and input (``details``)."""
    tool = _tool_name(payload.get(name))
    out: dict[str, Any] = {"tool_name": tool or "unknown", "tool_input": _tool_input(tool, payload.get(details))}
    call = _str(payload.get("call_id"), ID_CAP)
    if call:
        out["tool_use_id"] = call
    return out


# ---------------------------------------------------------------------------- per plugin event


def _session_created(payload: dict[str, Any]) -> dict[str, Any]:
    if "agent_id" in payload:
        return {"hook_event_name": "SubagentStart", "agent_type": "subagent"}
    return {"hook_event_name": "SessionStart", "source": "startup"}


def _prompt(payload: dict[str, Any]) -> dict[str, Any] | None:
    if "agent_id" in payload:
        return None  # a subagent's prompt is its parent's task call, already recorded
    out: dict[str, Any] = {"hook_event_name": "UserPromptSubmit", "prompt": _str(payload.get("prompt")) or ""}
    model = _str(payload.get("model"), ID_CAP)
    if model:
        out["model"] = model
    return out


def _pre_tool(payload: dict[str, Any]) -> dict[str, Any]:
    return {"hook_event_name": "PreToolUse", **_tool(payload)}


def _post_tool(payload: dict[str, Any]) -> dict[str, Any]:
    metadata = _dict(payload.get("metadata"))
    exit_code = _int(metadata.get("exit"))
    output = _str(payload.get("output")) or ""
    if exit_code is not None and exit_code != 0:
        error = f"exit {exit_code}" + (f": {output[-TEXT_CAP:]}" if output and output != "(no output)" else "")
        return {"hook_event_name": "PostToolUseFailure", **_tool(payload), "error": error}
    response: dict[str, Any] = {"output": output}
    title = _str(payload.get("title"), 200)
    if title:
        response["title"] = title
    if exit_code is not None:
        response["exit_code"] = exit_code
    return {"hook_event_name": "PostToolUse", **_tool(payload), "tool_response": response}


def _tool_error(payload: dict[str, Any]) -> dict[str, Any]:
    error = payload.get("error")
    text = _str(error) or _str(_dict(error).get("message")) or "tool error"
    return {"hook_event_name": "PostToolUseFailure", **_tool(payload), "error": text}


def _permission_call(payload: dict[str, Any]) -> dict[str, Any]:
    """The call a permission is asked for: OpenCode names the permission (``bash``, ``edit``) and its details."""
    return _tool(payload, "permission", "metadata")


def _permission_asked(payload: dict[str, Any]) -> dict[str, Any]:
    return {"hook_event_name": "PermissionRequest", **_permission_call(payload)}


def _permission_replied(payload: dict[str, Any]) -> dict[str, Any] | None:
    if payload.get("reply") != "reject":
        return None  # approved ("once", "always"): the tool's own events follow
    return {"hook_event_name": "PermissionDenied", **_permission_call(payload), "reason": "rejected by the user"}


def _idle(payload: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"hook_event_name": "SubagentStop" if "agent_id" in payload else "Stop"}
    last = _str(payload.get("last_message"))
    if last:
        out["last_assistant_message"] = last
    return out


def _session_error(payload: dict[str, Any]) -> dict[str, Any]:
    error = _dict(payload.get("error"))
    if error.get("name") == ABORTED:
        return {"hook_event_name": "Stop"}  # stopped by the user: the turn ended, nothing failed
    text = _str(_dict(error.get("data")).get("message")) or _str(error.get("message")) or _str(error.get("name"))
    return {"hook_event_name": "StopFailure", "error": text or _str(payload.get("error")) or "unknown error"}


def _compacted(payload: dict[str, Any]) -> dict[str, Any]:
    return {"hook_event_name": "PostCompact", "trigger": "auto"}


EVENTS = {
    "session.created": _session_created,
    "chat.message": _prompt,
    "tool.execute.before": _pre_tool,
    "tool.execute.after": _post_tool,
    "tool.error": _tool_error,
    "permission.asked": _permission_asked,
    "permission.replied": _permission_replied,
    "session.idle": _idle,
    "session.error": _session_error,
    "session.compacted": _compacted,
}


def to_claude(payload: object) -> dict[str, Any] | None:
    """Our plugin's payload as a Claude-Code-shaped one (``session_id``: the root session; a child session's
    id as ``agent_id``), or None for what is not ours to record. Never raises."""
    if not isinstance(payload, dict):
        return None
    event = payload.get("event")
    handler = EVENTS.get(event) if isinstance(event, str) else None
    session = _str(payload.get("session_id"), ID_CAP)
    if handler is None or session is None:
        return None
    parent = _str(payload.get("parent_id"), ID_CAP)
    source = dict(payload)
    if parent and parent != session:
        source["agent_id"] = session
    try:
        out = handler(source)
    except (TypeError, ValueError, AttributeError, KeyError):
        return None
    if out is None:
        return None
    out["session_id"] = parent if "agent_id" in source else session
    if "agent_id" in source:
        out["agent_id"] = session
    for key in ("cwd", "transcript_path"):
        value = _str(payload.get(key))
        if value and os.path.isabs(value):
            out[key] = value
    return out


# ---------------------------------------------------------------------------- install


def config_dir(home: Path, env: Mapping[str, str] | None = None) -> Path:
    """OpenCode's global configuration folder: ``$XDG_CONFIG_HOME/opencode``, else ``~/.config/opencode``."""
    from pathlib import Path

    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path(home) / ".config"
    return base / "opencode"


def plugin_text(hook_argv: list[str]) -> str:
    """Our plugin with the hook command baked in (a JSON array: a JavaScript literal nothing can escape from)."""
    import json
    from importlib import resources

    source = resources.files("ecc_hooks.harness").joinpath(PLUGIN_SOURCE).read_text(encoding="utf-8")
    if not source.startswith(MARKER) or HOOK_LINE not in source:
        raise RuntimeError("the packaged OpenCode plugin lacks its marker or hook line")
    argv = json.dumps([str(a) for a in hook_argv], ensure_ascii=True)
    return source.replace(HOOK_LINE, f"const HOOK = {argv}; // ecc-hooks: hook argv (written at install)", 1)


def is_ours(path: Path) -> bool:
    """A plugin file we wrote: a regular file (not a link) starting with our marker."""
    from ecc_hooks.core import fsio

    try:
        head = fsio.read_file(str(path), cap=len(MARKER))
    except OSError:
        return False
    return head == MARKER.encode() and not os.path.islink(path)


def _write_plugin(folder: Path, text: str) -> None:
    from ecc_hooks.core import fsio

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fsio.atomic_write(str(folder / PLUGIN_NAME), text.encode(), mode=0o644)


def install(ctx: InstallContext) -> list[str]:
    """Write our plugin into OpenCode's plugin folder (replacing an older one of ours; a foreign file of the same
    name only with ``--force``, backed up first). Idempotent."""
    from ecc_hooks.core.errors import UserError

    target = config_dir(ctx.home) / "plugin" / PLUGIN_NAME
    text = plugin_text(ctx.hook_argv)
    exists = os.path.lexists(target)
    if exists and not is_ours(target):
        if not ctx.force:
            raise UserError(f"{target} exists and is not ecc-hooks' plugin; move it away or pass --force")
    elif exists and target.read_text(encoding="utf-8", errors="replace") == text:
        return [f"{target} is already installed"]
    if ctx.dry_run:
        return [f"would write {target}"]
    saved = ctx.backup(str(target)) if exists else None
    if exists and os.path.islink(target):
        target.unlink()
    _write_plugin(target.parent, text)
    lines = [f"wrote {target} (OpenCode loads it at its next start)"]
    if saved:
        lines.append(f"the previous file is saved as {saved}")
    return lines


def uninstall(ctx: InstallContext) -> list[str]:
    """Remove our plugin file; a file of that name we did not write stays."""
    target = config_dir(ctx.home) / "plugin" / PLUGIN_NAME
    if not os.path.lexists(target):
        return [f"no plugin at {target}"]
    if not is_ours(target):
        return [f"{target} is not ecc-hooks' plugin; left alone"]
    if ctx.dry_run:
        return [f"would remove {target}"]
    target.unlink()
    return [f"removed {target}"]


def worker_capture(hook_argv: list[str], private_dir: Path, session_id: str | None) -> WorkerCapture:
    """A runtime worker loads our plugin from ``private_dir`` by its file URL in ``$OPENCODE_CONFIG_CONTENT``
    (configuration OpenCode merges over the user's: its ``plugin`` list adds to theirs); the user's files, and
    an ``$OPENCODE_CONFIG_DIR`` of theirs, stay as they are. A ``$OPENCODE_CONFIG_CONTENT`` of the user's gets our
    plugin added; one that is not plain JSON is kept and the plugin comes from ``private_dir`` as a configuration
    folder instead (``_config_dir_capture``). OpenCode chooses its session ids, so ``session_id`` stays None."""
    import json

    from ecc_hooks.harness.context import WorkerCapture

    _write_plugin(private_dir, plugin_text(hook_argv))
    spec = (private_dir / PLUGIN_NAME).absolute().as_uri()
    theirs = os.environ.get(CONTENT_ENV)
    try:
        config = json.loads(theirs) if theirs else {}
    except ValueError:
        config = None
    if not isinstance(config, dict) or not isinstance(config.get("plugin", []), list):
        return _config_dir_capture(hook_argv, private_dir)
    config["plugin"] = [*config.get("plugin", []), spec]
    return WorkerCapture(env={CONTENT_ENV: json.dumps(config)}, args=[], session_id=None)


def _config_dir_capture(hook_argv: list[str], private_dir: Path) -> WorkerCapture:
    """The plugin in ``private_dir/plugin/`` with ``private_dir`` as ``$OPENCODE_CONFIG_DIR`` (one more
    configuration folder). OpenCode installs its plugin SDK (``@opencode-ai/plugin``, from npm) into every
    configuration folder whose ``node_modules`` is missing or whose lock file lacks it, which doubled a worker's
    start and needs the network; our plugin uses node's own modules only, so the folder says the SDK is there."""
    import json

    from ecc_hooks.core import fsio
    from ecc_hooks.harness.context import WorkerCapture

    _write_plugin(private_dir / "plugin", plugin_text(hook_argv))
    (private_dir / "node_modules").mkdir(mode=0o700, exist_ok=True)
    lock = {"packages": {"": {"dependencies": {SDK: "*"}}}}
    fsio.atomic_write(str(private_dir / "package-lock.json"), json.dumps(lock).encode())
    return WorkerCapture(env={"OPENCODE_CONFIG_DIR": str(private_dir)}, args=[], session_id=None)


# ---------------------------------------------------------------------------- usage


def database_path(transcript_path: str | None, env: Mapping[str, str]) -> str | None:
    """OpenCode's database: the one the plugin named, else OpenCode's own rule (``$OPENCODE_DB``, else
    ``<XDG data>/opencode/opencode.db``)."""
    if transcript_path and os.path.isabs(transcript_path) and os.path.isfile(transcript_path):
        return transcript_path
    data = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".local", "share")
    named = env.get("OPENCODE_DB")
    if named == ":memory:":
        return None
    path = named if named and os.path.isabs(named) else os.path.join(data, "opencode", named or DB_NAME)
    return path if os.path.isfile(path) else None


def _rows(path: str, session_id: str) -> list[str]:
    """The ``data`` JSON of the session's messages and of its subagents' (child sessions, any depth), oldest
    first, read through a read-only connection (OpenCode may be writing; nothing is ever written)."""
    import sqlite3
    from urllib.parse import quote

    query = """
        WITH RECURSIVE tree(id) AS (
            SELECT id FROM session WHERE id = ?
            UNION SELECT session.id FROM session JOIN tree ON session.parent_id = tree.id
        )
        SELECT data FROM message WHERE session_id IN (SELECT id FROM tree) ORDER BY time_created, id
    """
    uri = f"file:{quote(path)}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=2.0)
    try:
        return [row[0] for row in connection.execute(query, (session_id,)) if isinstance(row[0], str)]
    finally:
        connection.close()


def message_of(data: str) -> tuple[Any, int | None] | None:
    """One stored assistant message as a usage ``Message`` and its prompt size, or None (a user message, a reply
    still streaming, anything malformed). OpenCode's ``tokens.input`` is the uncached prompt (its cache reads and
    writes apart), ``tokens.output`` excludes ``tokens.reasoning``, and ``cost`` is its own price of the reply."""
    import json
    from decimal import Decimal, InvalidOperation

    from ecc_hooks.harness.usage import Message

    try:
        info = json.loads(data)
    except ValueError:
        return None
    if not isinstance(info, dict) or info.get("role") != "assistant":
        return None
    tokens = _dict(info.get("tokens"))
    cache = _dict(tokens.get("cache"))
    counts = [_int(tokens.get("input")), _int(tokens.get("output")), _int(tokens.get("reasoning"))]
    cached = [_int(cache.get("read")), _int(cache.get("write"))]
    if counts[0] is None or counts[1] is None:
        return None
    values = [max(c or 0, 0) for c in (*counts, *cached)]
    cost = info.get("cost")
    try:
        usd = Decimal(repr(cost)) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
    except InvalidOperation:
        usd = None
    if usd is not None and not (usd.is_finite() and usd >= 0):
        usd = None
    if usd == 0 and any(values):
        usd = None  # OpenCode prices a model it has no rates for at 0: unknown, not free
    completed = _int(_dict(info.get("time")).get("completed"))
    message = Message(
        model=_str(info.get("modelID"), ID_CAP) or "unknown",  # the provider apart, as prices.json names models
        input=values[0],
        output=values[1] + values[2],
        cache_read=values[3],
        cache_write=values[4],
        reasoning=values[2],
        reported_usd=usd,
        at=completed / 1000 if completed else None,
    )
    prompt = values[0] + values[3] + values[4]
    return message, prompt or None


def read_usage(session_id: str, transcript_path: str | None, env: Mapping[str, str]) -> SessionUsage | None:
    """The session's tokens and cost from OpenCode's database (its subagents' included), or None when there is
    no database or no such session. The cost is OpenCode's own (``reported``) when it priced every reply; a reply
    it priced at 0 (a model with no configured rates) leaves the cost to prices.json, else unknown. No window:
    OpenCode does not store the model's."""
    import sqlite3

    from ecc_hooks.harness.usage import build_usage

    path = database_path(transcript_path, env)
    if path is None:
        return None
    try:
        rows = _rows(path, session_id)
    except sqlite3.Error:
        return None
    messages, context = [], None
    for data in rows:
        found = message_of(data)
        if found is None:
            continue
        messages.append(found[0])
        context = found[1] or context
    if not messages:
        return None
    return build_usage(session_id, path, messages, context_tokens=context, env=env, lines=len(rows))
