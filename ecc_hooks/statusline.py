"""Claude Code's ``statusLine`` command: ``python -m ecc_hooks.statusline``.

Claude Code runs this as a fresh process after every assistant message and every refresh
interval, with the session's state on stdin. It does two things, both cheap:

1. records what only the status line receives (cost, context window, rate limits, prompt
   cache) in ``sessions/<id>/statusline.json``, so the HUD learns it;
2. prints one row built from stdin and the session's latest snapshot (``hud.json``),
   honest about what it does not know (``ctx --``, never a green default).

It never does git, network or transcript work, never exits non-zero, and strips control
characters and escape sequences from every untrusted string. Hot path: standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable

from . import paths
from .fsio import atomic_write
from .hook import read_stdin

STDIN_CAP = 4 << 20
STDIN_TIMEOUT = 2.0
SEPARATOR = " \u2502 "

# Fields of the status line stdin that the HUD needs and hooks never see.
SENSOR_KEYS = ("model", "cost", "context_window", "exceeds_200k_tokens", "rate_limits", "prompt_cache",
               "version", "workspace", "worktree", "agent", "fast_mode", "effort", "transcript_path", "cwd")

_CONTROL = {c: None for c in range(0x20)} | {0x7F: None} | {c: None for c in range(0x80, 0xA0)}


def clean(value: object, limit: int = 80) -> str:
    """An untrusted value as printable text: ESC sequences and control characters removed, length capped."""
    if value is None:
        return ""
    text = str(value)
    if "\x1b" in text:
        import re  # only when an escape is present: keeps the common render free of regex work

        text = re.sub(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|.)?", "", text)
    text = text.translate(_CONTROL)
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return text


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if -1e15 < value < 1e15 else None


# ---------------------------------------------------------------------------- segments
# Each segment is a pure function of (stdin, snapshot) returning text or None (nothing to show).

Segment = Callable[[dict[str, Any], dict[str, Any]], "str | None"]


def seg_model(stdin: dict[str, Any], snap: dict[str, Any]) -> str | None:
    """The model's display name (falls back to its id)."""
    model = stdin.get("model")
    if isinstance(model, dict):
        return clean(model.get("display_name") or model.get("id"), 40) or None
    return clean(model, 40) or None


def seg_cost(stdin: dict[str, Any], snap: dict[str, Any]) -> str:
    """Session cost as Claude Code reports it; ``$--`` when unknown."""
    cost = stdin.get("cost")
    usd = _number(cost.get("total_cost_usd")) if isinstance(cost, dict) else None
    return "$--" if usd is None else f"${usd:.2f}"


def seg_context(stdin: dict[str, Any], snap: dict[str, Any]) -> str:
    """Context used, as Claude Code computes it; ``ctx --`` before the first response."""
    window = stdin.get("context_window")
    used = _number(window.get("used_percentage")) if isinstance(window, dict) else None
    return "ctx --" if used is None else f"ctx {used:.0f}%"


def seg_tools(stdin: dict[str, Any], snap: dict[str, Any]) -> str | None:
    """Tool calls from the latest HUD snapshot; absent when no snapshot exists."""
    calls = snap.get("toolCalls")
    if not isinstance(calls, dict) or _number(calls.get("total")) is None:
        return None
    text = f"tools {int(calls['total'])}"
    failures = _number(calls.get("failures"))
    if failures:
        text += f" ({int(failures)} failed)"
    return text


SEGMENTS: dict[str, Segment] = {"model": seg_model, "cost": seg_cost, "context": seg_context, "tools": seg_tools}
DEFAULT_ORDER = ("model", "cost", "context", "tools")


def render(stdin: dict[str, Any], snap: dict[str, Any], order: tuple[str, ...] = DEFAULT_ORDER) -> str:
    """One row: the non-empty segments in ``order``, joined."""
    parts = []
    for name in order:
        text = SEGMENTS[name](stdin, snap)
        if text:
            parts.append(text)
    return SEPARATOR.join(parts)


# ---------------------------------------------------------------------------- I/O


def record_sensor(session: str, stdin: dict[str, Any], now: float) -> None:
    """Keep what only the status line learns, for the watcher and the HUD."""
    sensor = {k: stdin[k] for k in SENSOR_KEYS if k in stdin}
    sensor["receivedAt"] = now
    sensor["sessionId"] = session
    directory = paths.session_dir(session)
    for d in (paths.home(), paths.sessions_dir(), directory):
        paths.ensure_dir(d)
    atomic_write(paths.statusline_sensor_path(session), json.dumps(sensor, separators=(",", ":")).encode(), durable=False)


def load_snapshot(session: str) -> dict[str, Any]:
    """The session's latest HUD snapshot, or an empty dict when there is none or it is unreadable."""
    try:
        with open(paths.hud_path(session), "rb") as handle:
            snap = json.loads(handle.read(1 << 20))
    except (OSError, ValueError):
        return {}
    return snap if isinstance(snap, dict) else {}


def main() -> int:
    """Status line entry point: always prints a row, always returns 0."""
    line = "ecc-hooks: no session data"
    try:
        data, problem = read_stdin(cap=STDIN_CAP, timeout=STDIN_TIMEOUT)
        stdin = json.loads(data) if data.strip() and problem is None else {}
        if not isinstance(stdin, dict):
            stdin = {}
        session = paths.sanitize_session_id(stdin.get("session_id"))
        snap: dict[str, Any] = {}
        if session:
            try:
                record_sensor(session, stdin, time.time())
            except OSError:
                pass
            snap = load_snapshot(session)
        if stdin:
            line = render(stdin, snap) or line
    except Exception:  # noqa: BLE001 - the status line must never fail
        pass
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
