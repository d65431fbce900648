"""Recording one hook event: the payload (read by ``capture.client``, the command Claude Code runs, or posted
to the watcher) is normalized into one ``ecc.event.v1`` line and appended to the session's journal.

The watcher calls ``handle`` for the events its socket and its HTTP endpoint receive; ``capture.client`` calls
``record`` when no watcher answers. Neither prints, exits non-zero or raises: whatever goes wrong becomes one
line in the size-bounded ``errors.log``. Standard library only (see tests/test_import_budget.py).
"""

from __future__ import annotations

import os
import sys
import time

from ecc_hooks.capture import headref
from ecc_hooks.capture.client import PANE_ENV, RAW_ENV, RUNTIME_ENV, STDIN_TIMEOUT, TMUX_ENV, WORKER_ENV
from ecc_hooks.capture.normalize import PayloadError, normalize
from ecc_hooks.core import jsonlite, paths
from ecc_hooks.core.errorlog import log_error
from ecc_hooks.core.fsio import append_line

# The longest one call can take: the stdin bound plus the work after it (file appends, reading HEAD from
# regular files, one posix_spawn). The installed timeout (install.HOOK_TIMEOUT) must stay well above it,
# so Claude Code never kills a hook that is still within its own bounds.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TIME_BOUND = STDIN_TIMEOUT + 5.0
RAW_RECORD_MAX = 1 << 20
# Command hooks that fire once per turn (not per tool call): each makes sure a watcher runs, so one killed
# mid-session is back before the next turn's tools post their events to it.
TURN_EVENTS = frozenset({"UserPromptSubmit", "Stop", "SubagentStart", "SubagentStop", "Notification"})
SALVAGE_HEAD = 1 << 20  # bytes of an oversized payload's head parsed for its leading fields


def _reject_constant(name: str) -> None:
    """NaN and Infinity are not JSON; Python's parser accepts them, the journal must not carry them."""
    return None


_TAIL_KEYS = ("tool_use_id", "duration_ms")


def _skip_ws(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def salvage(head: bytes, tail: bytes = b"") -> dict[str, object] | None:
    """Recover what can be kept of a payload too large (or too slow) to read whole.

    Claude Code writes the common fields and ``tool_input`` before ``tool_response``: the
    top-level members of the head are decoded in order until the first one that is cut off.
    ``tool_use_id`` and ``duration_ms`` come after the response, so they are taken from the
    tail: the last ``"tool_use_id":`` there is the top-level one (a key can never match inside
    a JSON string, whose quotes are escaped). That keeps Pre/Post pairs matched. Returns None
    without both ``session_id`` and ``hook_event_name``.
    """
    text = head[:SALVAGE_HEAD].decode("utf-8", "replace")
    import json  # an oversized payload only: the hot path parses with jsonlite

    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    payload: dict[str, object] = {}
    at = _skip_ws(text, 0)
    if text[at : at + 1] == "{":
        at += 1
        while True:
            at = _skip_ws(text, at)
            try:
                key, at = decoder.raw_decode(text, at)
                at = _skip_ws(text, at)
                if not isinstance(key, str) or text[at : at + 1] != ":":
                    break
                value, at = decoder.raw_decode(text, _skip_ws(text, at + 1))
            except (ValueError, RecursionError):
                break
            payload[key] = value
            at = _skip_ws(text, at)
            if text[at : at + 1] != ",":
                break
            at += 1
    if tail:
        tail_text = tail.decode("utf-8", "replace")
        for key in _TAIL_KEYS:
            if key in payload:
                continue
            found = tail_text.rfind(f'"{key}":')
            if found < 0:
                continue
            try:
                value, _ = decoder.raw_decode(tail_text, _skip_ws(tail_text, found + len(key) + 3))
            except (ValueError, RecursionError):
                continue
            if isinstance(value, (str, int, float)):
                payload[key] = value
    if "session_id" in payload and "hook_event_name" in payload:
        return payload
    return None


def encode_record(record: dict[str, object]) -> bytes:
    """One JSON line, valid UTF-8 even when the payload carried lone surrogates."""
    text = jsonlite.dumps(record)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")  # lone surrogates become '?', still valid JSON
    return data + b"\n"


def write_record(record: dict[str, object]) -> None:
    """Append the record to its session's journal, creating the 0700 folders on first use."""
    session = str(record["sessionId"])
    journal = paths.journal_path(session)
    try:
        line = encode_record(record)
    except (ValueError, RecursionError):
        if "raw" not in record:
            raise
        record["raw"] = {"truncated": True, "reason": "not encodable"}  # e.g. nested too deep
        line = encode_record(record)
    if "raw" in record and len(line) > RAW_RECORD_MAX:
        record["raw"] = {"truncated": True, "bytes": len(line)}
        line = encode_record(record)
    if not append_line(journal, line):
        log_error("short-write", journal)


def handle(
    data: bytes,
    problem: str | None,
    now: float,
    tail: bytes = b"",
    raw: bool | None = None,
    start: bool = True,
    dedupe: bool | None = None,
    tmux: tuple[str | None, str | None] | None = None,
    harness: str = "",
    runtime: tuple[str, str] | None = None,
) -> None:
    """Turn raw stdin bytes into a journal line, or an errors.log entry when they cannot be one.

    ``problem`` comes from ``read_payload``: an oversized or timed-out payload (and a valid one
    nested deeper than the parser goes) is salvaged: its leading fields still make the event,
    marked ``truncatedPayload``. ``raw`` keeps the raw payload (default: ``$ECC_HOOKS_RAW``); ``start``
    makes sure a watcher runs after SessionStart and the per-turn events (not when the watcher itself records).
    ``dedupe`` (default: this process is a runtime worker's hook, ``$ECC_SESSION``) records an event once however
    many hooks of ours ran for it (``capture.dedupe``): only a runtime worker has a settings layer of ours beside
    the user's, so other sessions pay nothing for it. ``tmux``: the hook's ``$TMUX`` and ``$TMUX_PANE`` (relayed, or
    this process's own when it records itself; never the watcher's): a SessionStart records where the session runs
    (``core.terminal``), what the HUD needs to answer its permission prompts. ``harness``: the agent whose
    hook this is (``""``: Claude Code); its module's ``to_claude`` makes the payload Claude-shaped first (None: the
    event is dropped). ``runtime``: the runtime session and worker the hook ran in (``$ECC_SESSION``,
    ``$ECC_WORKER``), recorded at SessionStart: how the runtime finds the session of an agent whose id it cannot
    choose.
    """
    payload: object = None
    if problem in (None, "timeout"):
        try:  # after a timeout everything but EOF may have come: then nothing is lost
            payload = jsonlite.loads(data, parse_constant=_reject_constant)
            problem = None
        except RecursionError:
            problem = problem or "too-deep"
        except ValueError as exc:
            if problem is None:
                log_error("malformed-json", str(exc)[:200], data)
                return
    salvaged = problem is not None
    if salvaged:
        payload = salvage(data, tail if problem == "oversized" else b"")
        log_error(str(problem), "common fields salvaged" if payload is not None else "payload dropped", data)
        if payload is None:
            return
    if not isinstance(payload, dict):
        log_error("not-an-object", type(payload).__name__, data)
        return
    if harness:
        payload = _to_claude(harness, payload, data)
        if payload is None:
            return
    try:
        record = normalize(payload, now, raw=os.environ.get(RAW_ENV) == "1" if raw is None else raw, harness=harness)
    except PayloadError as exc:
        log_error("missing-field", str(exc), data)
        return
    if salvaged:
        record["truncatedPayload"] = True
    if dedupe is None:
        dedupe = bool(os.environb.get(RUNTIME_ENV))
    if dedupe:
        from ecc_hooks.capture import dedupe as once

        if not once.first_sighting(str(record["sessionId"]), once.identity(str(record.get("event")), data), now):
            return  # another hook of ours recorded this event (the runtime's settings layer and the user's own)
    session_start = record.get("event") == "SessionStart"
    if session_start and "agentId" not in record:
        # Where the work starts: a handoff lists start..HEAD, exact where commit times are only seconds.
        head = headref.head_commit(payload.get("cwd") if isinstance(payload.get("cwd"), str) else None)
        if head:
            record["gitHead"] = head
    if session_start and runtime is not None and runtime[0]:
        record["runtime"] = {"session": runtime[0][:128], "worker": runtime[1][:128]}
    if session_start and tmux is not None:
        from ecc_hooks.core.terminal import terminal

        where = terminal(*tmux)
        if where is not None:
            record["tmux"] = where
    write_record(record)
    if start and (session_start or record.get("event") in TURN_EVENTS):
        start_watcher(wait=session_start, session=str(record["sessionId"]))


def _to_claude(harness: str, payload: dict[str, Any], data: bytes) -> dict[str, Any] | None:
    """The agent's payload made Claude-shaped by its module (``harness.<name>.to_claude``); None when it is
    dropped, or when the module failed on it (logged: an agent's drift never breaks the hook)."""
    try:
        from ecc_hooks import harness as agents

        shaped = agents.module(harness).to_claude(payload)
    except Exception as exc:
        log_error("harness", f"{harness}: {type(exc).__name__}: {exc}", data)
        return None
    return shaped if isinstance(shaped, dict) else None


def start_watcher(wait: bool = False, session: str | None = None) -> None:
    """Start the watcher daemon detached when none holds its lock; never raises.

    A non-blocking shared flock on ``watch.lock`` tells whether a watcher runs (it holds the lock
    exclusively). If none does, ``spawn_watcher``. Two hooks racing may both spawn one: the daemon's
    own exclusive lock lets only one run. With the http transport (``endpoint.json``) the tool events
    go to the watcher itself, so a hook that started one, and SessionStart always, waits (bounded) until
    it listens: the tool calls that follow are recorded as they happen, not backfilled later. When another
    user holds the endpoint's port instead, nothing may be posted there: ``endpoint.fall_back`` turns the HTTP
    hooks into command hooks and waits (within the same bound) until the client of ``session`` reloaded them,
    so this hook, which the client waits for, returns before any tool call is posted.
    """
    no_spawn = os.environ.get(paths.NO_WATCHER_ENV) == "1"  # tests, doctor: still no posting to another user
    try:
        running = no_spawn or _watcher_runs()
        if running and not wait:
            return
        from ecc_hooks.core import endpoint

        configured = endpoint.load()
        if not running:
            from ecc_hooks.core.spawn import spawn_watcher

            spawn_watcher()
        if configured is not None:
            # one bound for the wait and the fall-back (another user's socket is there at once, leaving it all)
            deadline = time.monotonic() + endpoint.LISTEN_WAIT
            owner = endpoint.wait_owner(configured, time.monotonic() if no_spawn else deadline)
            if owner is not None and owner != os.getuid() and (endpoint.settings_files() or endpoint.parked_files()):
                endpoint.fall_back(configured, owner, session, max(deadline, time.monotonic() + 1.0))
    except Exception as exc:
        log_error("watcher-spawn", f"{type(exc).__name__}: {exc}")


def _watcher_runs() -> bool:
    """A watcher holds its lock (``core.spawn``'s one question, asked on the hot path without reading a pid)."""
    from ecc_hooks.core.spawn import lock_held

    return lock_held(paths.watch_lock_path())


def record(data: bytes, tail: bytes, problem: str | None, now: float, harness: str = "") -> None:
    """Record stdin read by ``client.main`` in this process (no watcher answered); never raises."""
    try:
        os.umask(0o077)
        env = os.environb
        tmux = (os.fsdecode(env[TMUX_ENV]), os.fsdecode(env.get(PANE_ENV, b""))) if TMUX_ENV in env else None
        runtime = None
        if env.get(RUNTIME_ENV):
            runtime = (os.fsdecode(env[RUNTIME_ENV]), os.fsdecode(env.get(WORKER_ENV, b"")))
        handle(data, problem, now, tail, tmux=tmux, harness=harness, runtime=runtime)
    except BaseException as exc:
        log_error("internal", f"{type(exc).__name__}: {exc}")


def main() -> int:
    """Hook entry point (``ecc-hooks hook``, and commands earlier installs wrote): ``client.main``."""
    from ecc_hooks.capture import client

    return client.main()


if __name__ == "__main__":
    main()
    sys.exit(0)
