"""The hook entry point Claude Code runs on every event: ``python -m ecc_hooks.hook``.

It reads the payload from stdin (size-capped, time-bounded), normalizes it into one
``ecc.event.v1`` line and appends that line to the session's journal. It never prints,
never exits non-zero and never raises: whatever goes wrong becomes one line in the
size-bounded ``errors.log``. Hot path: standard library only (see tests/test_import_budget.py).
"""

from __future__ import annotations

import json
import os
import select
import sys
import time

from . import paths
from .fsio import append_bounded, append_line
from .normalize import PayloadError, normalize
from .redact import redact

STDIN_CAP = 64 << 20  # bytes kept from stdin; the rest is drained and dropped
STDIN_TIMEOUT = 10.0  # seconds to wait for Claude Code to finish writing
ERRORS_LOG_MAX = 1 << 20
RAW_RECORD_MAX = 1 << 20
RAW_ENV = "ECC_HOOKS_RAW"


def read_stdin(fd: int = 0, cap: int = STDIN_CAP, timeout: float = STDIN_TIMEOUT) -> tuple[bytes, str | None]:
    """Read stdin until EOF, keeping at most ``cap`` bytes; return the bytes and a problem or None.

    The problem is ``"oversized"`` when more than ``cap`` bytes came (the rest is drained, so
    Claude Code never sees a broken pipe) or ``"timeout"`` when EOF did not come in time.
    """
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    kept = 0
    problem = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), "timeout"
        try:
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
        except InterruptedError:
            continue
        except OSError:
            break
        if not chunk:
            break
        if kept < cap:
            piece = chunk[: cap - kept]
            chunks.append(piece)
            kept += len(piece)
            if len(piece) < len(chunk):
                problem = "oversized"
        else:
            problem = "oversized"
    return b"".join(chunks), problem


def log_error(kind: str, detail: str = "", data: bytes = b"") -> None:
    """Append one entry to the size-bounded errors.log; never raises."""
    try:
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "kind": kind}
        if detail:
            entry["detail"] = redact(detail)[:500]
        if data:
            entry["bytes"] = len(data)
            entry["head"] = redact(data[:160].decode("utf-8", "replace"))
        paths.ensure_dir(paths.home())
        line = json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"
        append_bounded(paths.errors_log_path(), line, ERRORS_LOG_MAX)
    except Exception:
        pass


_SALVAGE_KEYS = ("session_id", "hook_event_name", "tool_name", "tool_use_id", "agent_id", "agent_type",
                 "cwd", "transcript_path", "prompt_id", "permission_mode")


def salvage(head: bytes) -> dict[str, object] | None:
    """Recover the common fields of a payload too large to keep whole (e.g. a huge Read result).

    Claude Code writes the common fields and ``tool_input`` before ``tool_response``, so the
    head of the payload is enough to record the event, which keeps Pre/Post pairs matched.
    """
    text = head[: 1 << 20].decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    payload: dict[str, object] = {}
    for key in _SALVAGE_KEYS + ("tool_input",):
        marker = f'"{key}":'
        at = text.find(marker)
        if at < 0:
            continue
        start = at + len(marker)
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        payload[key] = value
    if "session_id" in payload and "hook_event_name" in payload:
        return payload
    return None


def encode_record(record: dict[str, object]) -> bytes:
    """One JSON line, valid UTF-8 even when the payload carried lone surrogates."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")  # lone surrogates become '?', still valid JSON
    return data + b"\n"


def write_record(record: dict[str, object]) -> None:
    """Append the record to its session's journal, creating the 0700 folders on first use."""
    session = str(record["sessionId"])
    journal = paths.journal_path(session)
    line = encode_record(record)
    if "raw" in record and len(line) > RAW_RECORD_MAX:
        record["raw"] = {"truncated": True, "bytes": len(line)}
        line = encode_record(record)
    try:
        ok = append_line(journal, line)
    except FileNotFoundError:
        for directory in (paths.home(), paths.sessions_dir(), paths.session_dir(session)):
            paths.ensure_dir(directory)
        ok = append_line(journal, line)
    if not ok:
        log_error("short-write", journal)


def handle(data: bytes, problem: str | None, now: float) -> None:
    """Turn raw stdin bytes into a journal line, or an errors.log entry when they cannot be one."""
    payload: object = None
    salvaged = False
    if problem is None:
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError) as exc:
            log_error("malformed-json", str(exc)[:200], data)
            return
    else:
        payload = salvage(data)
        salvaged = payload is not None
        log_error(problem, "common fields salvaged" if salvaged else "payload dropped", data)
        if payload is None:
            return
    if not isinstance(payload, dict):
        log_error("not-an-object", type(payload).__name__, data)
        return
    try:
        record = normalize(payload, now, raw=os.environ.get(RAW_ENV) == "1")
    except PayloadError as exc:
        log_error("missing-field", str(exc), data)
        return
    if salvaged:
        record["truncatedPayload"] = True
    write_record(record)


def main() -> int:
    """Hook entry point: always returns 0, prints nothing."""
    try:
        os.umask(0o077)
        now = time.time()
        data, problem = read_stdin()
        handle(data, problem, now)
    except BaseException as exc:  # noqa: BLE001 - a hook must never fail Claude Code
        log_error("internal", f"{type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
