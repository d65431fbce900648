"""Codex CLI (``@openai/codex``, 0.171): its hook payloads as Claude Code's, our hooks in its config, its rollout's usage.

Codex's hook engine takes Claude Code's event and field names (a shell call arrives as ``tool_name: "Bash"``,
``tool_input.command``), so ``to_claude`` mostly passes a payload through. What differs:

- ``turn_id`` becomes ``prompt_id`` (the journal's per-turn id);
- ``Interrupt`` (the person stopped the turn) becomes ``Stop``: the turn is over, the session waits for them;
- ``PostToolUse`` carries the command's output but no exit code, and Codex has no ``PostToolUseFailure``. The
  rollout (``transcript_path``) already holds the call's ``item_completed`` record when the hook runs (its writer
  records the item before the hook is awaited: measured every time with the pinned binary), with ``exit_code``
  and ``status``; a failed command becomes ``PostToolUseFailure`` with ``Exit code N`` as its error. A rollout we
  cannot read leaves the event a ``PostToolUse``.
- a shell call Codex intercepts as a patch (``apply_patch <<'EOF'``) fires PreToolUse and never PostToolUse: its
  PreToolUse loses its call id, so the fold never leaves it pending (it is not counted either: its outcome is
  unknown to the hooks);
- a ``PermissionRequest`` names no call: the rollout's newest shell call of that command without output is the one
  that waits (its id added);
- the legacy ``notify`` argument (``{"type": "agent-turn-complete", "thread-id": ...}``) becomes a ``Stop``.

Hooks run only once trusted: Codex keeps ``[hooks.state."<file>:<event>:<group>:<handler>"] trusted_hash`` in
``config.toml`` and skips an untrusted hook without a word. The hash is ``sha256:`` of the canonical JSON (sorted
keys, no spaces) of the handler's normalized identity, ``{"event_name": <snake name>, "hooks": [{"type":
"command", "command", "timeout", "async": false}]}`` (Codex's ``command_hook_hash`` and ``version_for_toml``);
``tests/e2e/test_harness_codex.py`` checks it against the pinned binary's own ``hooks/list`` ``currentHash`` and
that the hooks then fire without ``--dangerously-bypass-hook-trust``.

Top level: standard library only (the hook imports this module on every Codex event).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

    from ecc_hooks.harness import InstallContext, WorkerCapture
    from ecc_hooks.sources.usage.tracker import SessionUsage

HARNESS = "codex"

# Codex's hook events (its own names, Claude Code's) and the snake-case label its trust keys and hashes use.
# StopFailure and PostToolUseFailure do not exist in 0.171 (an unknown name is not registered).
EVENTS: tuple[tuple[str, str], ...] = (
    ("SessionStart", "session_start"),
    ("UserPromptSubmit", "user_prompt_submit"),
    ("PreToolUse", "pre_tool_use"),
    ("PermissionRequest", "permission_request"),
    ("PostToolUse", "post_tool_use"),
    ("PreCompact", "pre_compact"),
    ("PostCompact", "post_compact"),
    ("SubagentStart", "subagent_start"),
    ("SubagentStop", "subagent_stop"),
    ("Stop", "stop"),
    ("Interrupt", "interrupt"),
    ("SessionEnd", "session_end"),
)
HOOK_TIMEOUT = 30  # seconds, as for Claude Code (hookspec.HOOK_TIMEOUT)
SHORT_TIMEOUT_EVENTS = {"SessionEnd": 3, "Interrupt": 3}  # Codex clamps these to 3 s (and hashes the clamped value)
SESSION_FLAGS_SOURCE = "/<session-flags>/config.toml"  # the trust-key source of hooks given with ``-c``
ROLLOUT_TAIL = 4 << 20  # bytes of the rollout searched for a finished call's exit code
MARKER = "# ecc-hooks"  # core.hookspec.MARKER (kept literal: that module imports more than the hot path needs)


# ---------------------------------------------------------------------------- payloads


def to_claude(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The Claude-Code-shaped payload of one Codex hook (or ``notify``) payload; None for what is not one."""
    if not isinstance(payload, dict):
        return None
    if payload.get("type") == "agent-turn-complete":
        return _from_notify(payload)
    event = payload.get("hook_event_name")
    if not isinstance(event, str):
        return None
    out = dict(payload)
    turn = payload.get("turn_id")
    if isinstance(turn, str) and "prompt_id" not in out:
        out["prompt_id"] = turn
    if event == "Interrupt":
        out["hook_event_name"] = "Stop"
    elif event == "PostToolUse":
        _mark_failure(out)
    elif event == "PermissionRequest" and "tool_use_id" not in out:
        _name_waiting_call(out)
    elif event == "PreToolUse" and is_intercepted_patch(out):
        out.pop("tool_use_id", None)  # no PostToolUse follows: without an id the call is never left pending
    return out


def is_intercepted_patch(payload: dict[str, Any]) -> bool:
    """A shell call Codex applies itself as a patch (``apply_patch <<'EOF' ...``): it fires PreToolUse but never
    PostToolUse (0.171, measured), whatever the patch did."""
    if payload.get("tool_name") != "Bash":
        return False
    command = _dig(payload, "tool_input", "command")
    if not isinstance(command, str):
        return False
    words = command.lstrip().split(None, 4)
    if len(words) >= 4 and words[0] == "cd" and words[2] == "&&":
        words = words[3:]
    return bool(words) and words[0].split("<", 1)[0] in ("apply_patch", "applypatch")


def _from_notify(payload: dict[str, Any]) -> dict[str, Any] | None:
    thread = payload.get("thread-id")
    if not isinstance(thread, str):
        return None
    out: dict[str, Any] = {"hook_event_name": "Stop", "session_id": thread}
    for src, dst in (("turn-id", "prompt_id"), ("cwd", "cwd"), ("last-assistant-message", "last_assistant_message")):
        if isinstance(payload.get(src), str):
            out[dst] = payload[src]
    return out


def _mark_failure(out: dict[str, Any]) -> None:
    """A shell call whose rollout record says it failed: ``PostToolUseFailure`` with the exit code as its error."""
    call_id = out.get("tool_use_id")
    if out.get("tool_name") != "Bash" or not isinstance(call_id, str) or not call_id:
        return
    item = finished_command(out.get("transcript_path"), call_id)
    if item is None:
        return
    code = item.get("exit_code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    if item.get("status") != "failed" and not code:
        return
    out["hook_event_name"] = "PostToolUseFailure"
    error = f"Exit code {code}" if code is not None else "Command failed"
    response = out.get("tool_response")
    if isinstance(response, str) and response.strip():
        error += "\n" + response
    out["error"] = error


def _name_waiting_call(out: dict[str, Any]) -> None:
    """Codex's PermissionRequest names no call: the call that waits is the rollout's newest shell call of that
    command with no output yet (Codex records the call before its PreToolUse, and asks after it)."""
    command = _dig(out, "tool_input", "command")
    if out.get("tool_name") != "Bash" or not isinstance(command, str):
        return
    call_id = waiting_call(out.get("transcript_path"), command)
    if call_id is not None:
        out["tool_use_id"] = call_id


def waiting_call(transcript_path: object, command: str) -> str | None:
    """The id of the rollout's newest ``exec_command`` call of ``command`` that has no output yet, or None."""
    import json

    answered: set[object] = set()
    for line in reversed(_rollout_tail(transcript_path).split(b"\n")):
        if b'"function_call' not in line:
            continue
        try:
            payload = json.loads(line).get("payload")
            if payload.get("type") == "function_call_output":
                answered.add(payload.get("call_id"))
            elif payload.get("type") == "function_call" and payload.get("call_id") not in answered:
                arguments = json.loads(payload.get("arguments") or "{}")
                if isinstance(arguments, dict) and arguments.get("cmd") == command:
                    call_id = payload.get("call_id")
                    return call_id if isinstance(call_id, str) and call_id else None
        except (ValueError, AttributeError, TypeError):
            continue
    return None


def _rollout_tail(transcript_path: object) -> bytes:
    """The last ``ROLLOUT_TAIL`` bytes of a Codex rollout (``rollout-*.jsonl``, a regular file); b"" otherwise."""
    if not isinstance(transcript_path, str) or not is_rollout_path(transcript_path):
        return b""
    from ecc_hooks.core import fsio

    try:
        return fsio.read_tail(transcript_path, ROLLOUT_TAIL)
    except OSError:
        return b""


def finished_command(transcript_path: object, call_id: str) -> dict[str, Any] | None:
    """The rollout's last ``item_completed`` record of the command ``call_id`` (its ``item``), or None.

    Only a Codex rollout is read (``rollout-*.jsonl``, a regular file, the last ``ROLLOUT_TAIL`` bytes); lines
    that do not name the call are never parsed.
    """
    import json

    needle = json.dumps(call_id).encode()
    for line in reversed(_rollout_tail(transcript_path).split(b"\n")):
        if needle not in line or b'"item_completed"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        item = _dig(record, "payload", "item")
        if isinstance(item, dict) and item.get("id") == call_id and item.get("type") == "CommandExecution":
            return item
    return None


def is_rollout_path(path: str) -> bool:
    name = os.path.basename(path)
    return name.startswith("rollout-") and name.endswith(".jsonl")


def _dig(value: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# ---------------------------------------------------------------------------- trust


def trust_hash(event: str, command: str, timeout: int) -> str:
    """Codex's ``currentHash`` of a command handler we register (no matcher, no status message, not async)."""
    import hashlib
    import json

    label = dict(EVENTS)[event]
    identity = {
        "event_name": label,
        "hooks": [{"type": "command", "command": command, "timeout": max(timeout, 1), "async": False}],
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def trust_key(source: str, event: str, group: int, handler: int = 0) -> str:
    return f"{source}:{dict(EVENTS)[event]}:{group}:{handler}"


def timeout_of(event: str) -> int:
    return SHORT_TIMEOUT_EVENTS.get(event, HOOK_TIMEOUT)


def handler(event: str, command: str) -> dict[str, Any]:
    return {"type": "command", "command": command, "timeout": timeout_of(event)}


# ---------------------------------------------------------------------------- install


def codex_home(home: Path) -> Path:
    """``$CODEX_HOME`` when set, else ``~/.codex``, as Codex names it in its trust keys: it canonicalizes
    ``$CODEX_HOME`` (links resolved, a relative one made absolute) but takes ``~/.codex`` as it is (measured)."""
    from pathlib import Path

    configured = os.environ.get("CODEX_HOME")
    return Path(os.path.realpath(configured)) if configured else home / ".codex"


def our_command(ctx: InstallContext) -> str:
    """The command string we register: the hook command with our marker (a shell comment, ``ctx.hook_shell``)."""
    return ctx.hook_shell


def is_ours(entry: object, command: str) -> bool:
    """A handler we wrote: this installation's command, or any command carrying our marker."""
    if not isinstance(entry, dict):
        return False
    text = entry.get("command")
    return isinstance(text, str) and (text == command or text.rstrip().endswith(MARKER))


def install(ctx: InstallContext) -> list[str]:
    """Register our hook for every Codex event in ``hooks.json`` (in place where it already is, so the user's own
    groups keep their positions and so their trust), then, with the user's consent, trust it in ``config.toml``."""
    home = codex_home(ctx.home)
    hooks_path = home / "hooks.json"
    config_path = home / "config.toml"
    command = our_command(ctx)
    document, raw = _read_hooks(hooks_path)
    config_text = _read_config(config_path)
    places = _place_ours(document, command)
    trust = {
        trust_key(str(hooks_path), event, group): trust_hash(event, command, timeout_of(event))
        for event, group in places
    }
    new_config = _with_trust(config_text, trust, set()) if ctx.consent else config_text  # checked before any write
    new_raw = _render_hooks(document)
    lines: list[str] = []
    if new_raw != raw:
        lines += _write(ctx, hooks_path, new_raw, "registered the ecc-hooks hook for Codex in")
        if raw is None and not ctx.dry_run:
            ctx.created(str(hooks_path))
    else:
        lines.append(f"the Codex hook is already registered in {hooks_path}")
    if new_config != config_text:
        made = not config_path.exists()
        lines += _write(ctx, config_path, new_config.encode("utf-8"), "trusted the ecc-hooks hook in")
        if made and not ctx.dry_run:
            ctx.created(str(config_path))
    elif _trusted(config_text, trust):
        lines.append(f"Codex already trusts it ({config_path})")
    else:
        lines += _trust_advice(config_path)
    return lines


def uninstall(ctx: InstallContext) -> list[str]:
    """Remove our handlers from ``hooks.json`` and their trust entries from ``config.toml``; the user's stay."""
    home = codex_home(ctx.home)
    hooks_path = home / "hooks.json"
    config_path = home / "config.toml"
    command = our_command(ctx)
    document, raw = _read_hooks(hooks_path)
    config_text = _read_config(config_path)
    removed = _strip_ours(document, command)
    ours = {trust_key(str(hooks_path), event, group) for event, group in removed}
    moved = _shifted_keys(document, str(hooks_path), removed)
    new_config = _with_trust(config_text, {}, ours, moved) if config_text else config_text
    lines: list[str] = []
    if raw is not None and removed and document in ({}, {"hooks": {}}) and ctx.was_created(str(hooks_path)):
        lines += _remove_created(ctx, hooks_path)
    elif raw is not None and removed:
        lines += _write(ctx, hooks_path, _render_hooks(document), "removed the ecc-hooks hook for Codex from")
    else:
        lines.append(f"no ecc-hooks hook for Codex in {hooks_path}")
    if new_config != config_text and not new_config.strip() and ctx.was_created(str(config_path)):
        lines += _remove_created(ctx, config_path)
    elif new_config != config_text:
        lines += _write(ctx, config_path, new_config.encode("utf-8"), "removed its trust entries from")
    return lines


def _remove_created(ctx: InstallContext, path: Path) -> list[str]:
    """Remove a file install created, now that nothing but ours was in it (no backup: it held nothing of the
    user's, as Claude Code's settings file install created)."""
    if ctx.dry_run:
        return [f"would remove {path} (install created it; nothing else is in it)"]
    try:
        os.unlink(os.path.realpath(path))
    except FileNotFoundError:
        pass
    except OSError as exc:
        from ecc_hooks.core.errors import UserError

        raise UserError(f"cannot remove {path} ({exc.strerror})") from None
    ctx.created(str(path), False)
    return [f"removed {path} (install created it; nothing else was in it)"]


def _trust_advice(config_path: Path) -> list[str]:
    return [
        "Codex runs a new hook only once you trust it (until then it skips it without a word):",
        "  run `ecc-hooks install --harness codex --trust` to let ecc-hooks write its trusted_hash entries into",
        f"  {config_path}, or open `codex`, type /hooks and trust the ecc-hooks entries yourself.",
    ]


def _read_hooks(path: Path) -> tuple[dict[str, Any], bytes | None]:
    """``hooks.json`` as ``{"hooks": {event: [group]}}`` and its bytes; UserError for anything else."""
    import json

    from ecc_hooks.core.errors import UserError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {"hooks": {}}, None
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc.strerror}); nothing was changed") from None
    if not raw.strip():
        return {"hooks": {}}, raw
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc}); fix it or move it aside (nothing was changed)") from None
    hooks = document.get("hooks", {}) if isinstance(document, dict) else None
    if not isinstance(hooks, dict) or not all(isinstance(v, list) for v in hooks.values()):
        raise UserError(f'{path} is not {{"hooks": {{event: [groups]}}}}; fix it by hand (nothing was changed)')
    document["hooks"] = hooks
    return document, raw


def _render_hooks(document: dict[str, Any]) -> bytes:
    import json

    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _read_config(path: Path) -> str:
    """``config.toml``'s text ("" when missing); UserError when it is not TOML (we would not know what we write)."""
    tomllib = toml_module()
    from ecc_hooks.core.errors import UserError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path} ({exc}); nothing was changed") from None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML ({exc}); fix it first (nothing was changed)") from None
    return text


def _place_ours(document: dict[str, Any], command: str) -> list[tuple[str, int]]:
    """Put exactly one handler of ours per event, alone in its group: the first group that holds only ours is
    kept (updated) where it is, our handlers elsewhere removed, else a new last group; return where."""
    hooks = document["hooks"]
    places = []
    for event, _label in EVENTS:
        groups = hooks.setdefault(event, [])
        keep = next((i for i, g in enumerate(groups) if _only_ours(g, command)), None)
        for index in range(len(groups) - 1, -1, -1):
            if index != keep and _entries(groups[index]) and any(is_ours(e, command) for e in _entries(groups[index])):
                rest = [e for e in _entries(groups[index]) if not is_ours(e, command)]
                if rest:
                    groups[index]["hooks"] = rest
                else:
                    del groups[index]
                    keep = keep - 1 if keep is not None and keep > index else keep
        if keep is None:
            groups.append({})
            keep = len(groups) - 1
        groups[keep] = {"hooks": [handler(event, command)]}
        places.append((event, keep))
    return places


def _entries(group: object) -> list[Any]:
    entries = group.get("hooks") if isinstance(group, dict) else None
    return entries if isinstance(entries, list) else []


def _only_ours(group: object, command: str) -> bool:
    entries = _entries(group)
    return bool(entries) and all(is_ours(e, command) for e in entries) and set(group) <= {"hooks"}  # type: ignore[arg-type]


def _strip_ours(document: dict[str, Any], command: str) -> list[tuple[str, int]]:
    """Remove our groups (our handlers from shared ones); return the (event, group index) of each removed group."""
    removed = []
    hooks = document["hooks"]
    for event in list(hooks):
        groups = hooks[event]
        for index in range(len(groups) - 1, -1, -1):
            entries = groups[index].get("hooks") if isinstance(groups[index], dict) else None
            if not isinstance(entries, list) or not any(is_ours(e, command) for e in entries):
                continue
            rest = [e for e in entries if not is_ours(e, command)]
            if rest:
                groups[index]["hooks"] = rest
            else:
                del groups[index]
                if event in dict(EVENTS):
                    removed.append((event, index))
        if not groups:
            del hooks[event]
    return removed


def _shifted_keys(document: dict[str, Any], source: str, removed: list[tuple[str, int]]) -> dict[str, str]:
    """Trust keys of the user's groups that moved up when ours before them went: old key -> new key."""
    moved: dict[str, str] = {}
    for event, _label in EVENTS:
        gone = sorted(index for ev, index in removed if ev == event)
        groups = document["hooks"].get(event, [])
        for new_index, group in enumerate(groups):
            old_index = new_index
            for index in gone:
                if index <= old_index:
                    old_index += 1
            if old_index != new_index:
                entries = group.get("hooks") if isinstance(group, dict) else None
                for handler_index in range(len(entries) if isinstance(entries, list) else 0):
                    old = trust_key(source, event, old_index, handler_index)
                    moved[old] = trust_key(source, event, new_index, handler_index)
    return moved


def _trusted(config_text: str, trust: dict[str, str]) -> bool:
    tomllib = toml_module()
    state = _dig(tomllib.loads(config_text), "hooks", "state") if config_text else None
    if not isinstance(state, dict):
        return False
    return all(_dig(state, key, "trusted_hash") == value for key, value in trust.items())


def _with_trust(text: str, trust: dict[str, str], drop: set[str], moved: dict[str, str] | None = None) -> str:
    """``config.toml`` with our ``[hooks.state."<key>"]`` tables set to ``trust`` (their other keys, e.g.
    ``enabled``, kept), the tables of ``drop`` removed and those of ``moved`` renamed; nothing else touched.
    UserError when our tables cannot be edited as tables (an inline ``hooks.state``), nothing written."""
    tomllib = toml_module()
    from ecc_hooks.core.errors import UserError

    moved = moved or {}
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    current: str | None = None
    seen: set[str] = set()
    for line in lines:
        header = _state_header(line)
        if header is not None or _is_header(line):
            current = header
            if header in moved:
                line = f"[hooks.state.{_toml_string(moved[header])}]\n"
            elif header in trust:
                seen.add(header)
        if current in drop:
            if header is not None:
                while out and not out[-1].strip():
                    out.pop()  # the blank line we put before the table goes with it
            continue
        if current in trust and line.lstrip().startswith("trusted_hash"):
            continue
        out.append(line)
        if header in trust:
            out.append(f"trusted_hash = {_toml_string(trust[header])}\n")
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    for key, value in trust.items():
        if key not in seen:
            out.append(f"\n[hooks.state.{_toml_string(key)}]\ntrusted_hash = {_toml_string(value)}\n")
    result = "".join(out)
    try:
        parsed = tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"cannot add hook trust to config.toml as tables ({exc}); nothing was changed") from None
    state = _dig(parsed, "hooks", "state")
    if trust and not (isinstance(state, dict) and _trusted(result, trust)):
        raise UserError("config.toml's hooks.state could not take our trust entries; nothing was changed")
    return result


def toml_module() -> Any:
    """``tomllib`` (3.11+), else the ``tomli`` package it came from (a dependency on 3.10)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]
    return tomllib


def _is_header(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith("[")


def _state_header(line: str) -> str | None:
    """The key of a ``[hooks.state."<key>"]`` header line (a comment after it allowed), else None."""
    tomllib = toml_module()
    stripped = line.strip()
    if not stripped.startswith("[") or stripped.startswith("[["):
        return None
    try:
        parsed = tomllib.loads(stripped + "\n")
    except tomllib.TOMLDecodeError:
        return None
    state = _dig(parsed, "hooks", "state")
    if isinstance(state, dict) and len(state) == 1 and len(parsed) == 1 and len(parsed["hooks"]) == 1:
        ((key, value),) = state.items()
        if value == {}:
            return key
    return None


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; DEL, which TOML wants escaped, escaped too)."""
    import json

    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _write(ctx: InstallContext, path: Path, data: bytes, what: str) -> list[str]:
    """Write one config file of Codex's (after a backup of the old one); in a dry run, only say so."""
    from ecc_hooks.harness.context import write_config

    if ctx.dry_run:
        return [f"would have {what} {path} (dry run)"]
    real = os.path.realpath(path)  # a linked file (a dotfile manager's) keeps its link: its target is rewritten
    backup = ctx.backup(real) if os.path.exists(real) else None
    write_config(str(path), data)
    return [f"{what} {path}" + (f" (backup: {backup})" if backup else "")]


# ---------------------------------------------------------------------------- runtime workers


def worker_capture(hook_argv: list[str], private_dir: Path, session_id: str | None) -> WorkerCapture:
    """A worker's hooks as ``-c`` config overrides (Codex's session-flags layer: nothing of the user's touched,
    their ``CODEX_HOME`` and login used as they are), trusted in the same layer by their hashes, so no
    ``--dangerously-bypass-hook-trust``. Codex chooses the session id itself: None."""
    import shlex

    from ecc_hooks.harness import WorkerCapture

    command = f"{shlex.join(hook_argv)} {MARKER}"
    args: list[str] = []
    state = []
    for event, _label in EVENTS:
        timeout = timeout_of(event)
        args += [
            "-c",
            f'hooks.{event}=[{{hooks=[{{type="command",command={_toml_string(command)},timeout={timeout}}}]}}]',
        ]
        key = trust_key(SESSION_FLAGS_SOURCE, event, 0)
        state.append(f"{_toml_string(key)}={{trusted_hash={_toml_string(trust_hash(event, command, timeout))}}}")
    args += ["-c", "hooks.state={" + ",".join(state) + "}"]
    return WorkerCapture(env={}, args=args, session_id=None)


# ---------------------------------------------------------------------------- credentials


ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,127}"  # a name the worker's shell can test
CONFIG_CAP = 1 << 20  # bytes of config.toml read at most


def auth_env(env: Mapping[str, str]) -> tuple[str, ...]:
    """The environment variable holding the key of the provider ``config.toml`` chooses (``model_provider``, or the
    chosen ``profile``'s), when that provider is one of the user's own with an ``env_key``: set, Codex needs no
    login (``codex login status`` says "Not logged in" and would stop the worker). Empty for Codex's own providers, a
    provider without a key, and a config that is missing, too big or not TOML (the login check is kept)."""
    import re

    from ecc_hooks.core import fsio

    home = env.get("CODEX_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".codex")
    try:
        document = toml_module().loads(fsio.read_file(os.path.join(home, "config.toml"), CONFIG_CAP).decode("utf-8"))
    except (OSError, ValueError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return ()
    profile = _dig(document, "profiles", str(document.get("profile"))) if "profile" in document else None
    chosen = _dig(profile, "model_provider") if isinstance(profile, dict) else None
    chosen = chosen if isinstance(chosen, str) else document.get("model_provider")
    key = _dig(document, "model_providers", chosen, "env_key") if isinstance(chosen, str) else None
    return (key,) if isinstance(key, str) and re.fullmatch(ENV_NAME, key) else ()


# ---------------------------------------------------------------------------- usage


def find_rollout(session_id: str, env: Mapping[str, str]) -> str | None:
    """The rollout of ``session_id`` under ``$CODEX_HOME/sessions`` (``~/.codex``): the newest match, or None."""
    import glob

    home = env.get("CODEX_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".codex")
    if not session_id or any(c in session_id for c in "*?[]/"):
        return None
    found = glob.glob(os.path.join(glob.escape(home), "sessions", "*", "*", "*", f"rollout-*-{session_id}.jsonl"))
    return max(found, default=None)


TOKEN_KINDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
_WANTED = (b'"token_count"', b'"turn_context"', b'"task_started"')


class RolloutReader:
    """Per model request usage from a rollout's ``token_count`` events, fed the rollout's bytes as they grow.

    Each event's growth of ``total_token_usage`` is one request (one event per response; a repeated event adds
    nothing), with the model of the turn it belongs to (``turn_context``) and its time; ``window`` is the
    context window (``model_context_window``), ``context`` the last request's prompt (``last_token_usage``'s
    ``input_tokens``, cached included). Lines naming none of those events are never parsed.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.model = ""
        self.window: int | None = None
        self.context: int | None = None
        self.totals = dict.fromkeys(TOKEN_KINDS, 0)
        self.cursor: Any = None  # core.fsio.Cursor where the last read stopped (read_usage)
        self.guard = b""

    def feed(self, data: bytes) -> None:
        import json

        for line in data.split(b"\n"):
            if not any(word in line for word in _WANTED):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("payload"), dict):
                self._record(record, record["payload"])

    def _record(self, record: dict[str, Any], payload: dict[str, Any]) -> None:
        if record.get("type") == "turn_context":
            if isinstance(payload.get("model"), str):
                self.model = payload["model"]
            return
        kind = payload.get("type")
        if kind == "task_started":
            self.window = _count(payload.get("model_context_window")) or self.window
        elif kind == "token_count" and isinstance(payload.get("info"), dict):
            self._token_count(record, payload["info"])

    def _token_count(self, record: dict[str, Any], info: dict[str, Any]) -> None:
        from ecc_hooks.core.timestamps import parse_iso

        self.window = _count(info.get("model_context_window")) or self.window
        last = info.get("last_token_usage")
        if isinstance(last, dict) and _count(last.get("input_tokens")) is not None:
            self.context = _count(last.get("input_tokens"))
        total = info.get("total_token_usage")
        if not isinstance(total, dict):
            return
        now = {key: _count(total.get(key)) or 0 for key in TOKEN_KINDS}
        delta = {key: now[key] - self.totals[key] for key in TOKEN_KINDS}
        if any(v < 0 for v in delta.values()):  # the totals started again (a new thread's history): take them whole
            delta = now
        self.totals = now
        if any(delta.values()):
            at = parse_iso(record.get("timestamp"))
            self.requests.append(dict(delta, model=self.model, at=at.timestamp() if at else None))


def rollout_usage(data: bytes) -> tuple[list[dict[str, Any]], int | None, int | None]:
    """``RolloutReader`` over a whole rollout: its requests, window and last prompt."""
    reader = RolloutReader()
    reader.feed(data)
    return reader.requests, reader.window, reader.context


_READERS: dict[str, RolloutReader] = {}  # the watcher asks again at every change: only what was appended is read
_READERS_KEPT = 32


def read_rollout(path: str) -> RolloutReader | None:
    """The rollout's reader, brought up to date from where it stopped (from the start when the file was replaced
    or rewritten); None when the file cannot be read."""
    from ecc_hooks.core import fsio

    reader = _READERS.pop(path, None) or RolloutReader()
    while True:
        try:
            block = fsio.read_new_block(path, reader.cursor or fsio.Cursor(), guard=reader.guard)
        except OSError:
            return None
        if block.reset:
            reader = RolloutReader()
        if not block.data:
            if block.cursor == fsio.Cursor():
                return None  # missing, or refused
            break
        reader.feed(block.data)
        reader.cursor, reader.guard = block.cursor, block.data[-64:]
    while len(_READERS) >= _READERS_KEPT:
        _READERS.pop(next(iter(_READERS)))
    _READERS[path] = reader
    return reader


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_usage(session_id: str, transcript_path: str | None, env: Mapping[str, str]) -> SessionUsage | None:
    """Tokens and context from the session's rollout; no cost (Codex reports none: ``build_usage`` prices the
    tokens from prices.json, unknown for an unpriced model).

    Codex counts as OpenAI does: ``input_tokens`` includes the cached ones and ``output_tokens`` the reasoning
    ones; a Message's ``input`` is the uncached part, ``cache_read`` the cached part, ``output`` all output
    (reasoning included: it is billed as output) with ``reasoning`` saying how much of it was."""
    from ecc_hooks.harness.usage import Message, build_usage

    path = transcript_path if transcript_path and is_rollout_path(transcript_path) else None
    path = path or find_rollout(session_id, env)
    reader = read_rollout(path) if path is not None else None
    if path is None or reader is None:
        return None
    messages = [
        Message(
            model=r["model"],
            input=max(r["input_tokens"] - r["cached_input_tokens"], 0),
            output=r["output_tokens"],
            cache_read=r["cached_input_tokens"],
            reasoning=r["reasoning_output_tokens"],
            at=r["at"],
        )
        for r in reader.requests
    ]
    return build_usage(session_id, path, messages, window=reader.window, context_tokens=reader.context)
