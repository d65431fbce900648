"""Where Claude Code auto-compacts: the one rule, shared by the usage engine and the status line.

Claude Code does not document it; the assumption (checked against the context figures of the real
client in ``tests/e2e/test_context_conformance.py``): it fires ``buffer_tokens`` before the window
minus ``reserved_output_tokens``, i.e. at 167k of 200k (83.5 %). ``CLAUDE_AUTOCOMPACT_PCT_OVERRIDE``
can only move it earlier, ``CLAUDE_CODE_AUTO_COMPACT_WINDOW`` caps the window, ``DISABLE_AUTO_COMPACT``
/ ``DISABLE_COMPACT`` turn it off. Hot path (the status line's context segment): no imports at all.
"""

from __future__ import annotations

RESERVED_OUTPUT_TOKENS = 20_000
BUFFER_TOKENS = 13_000
_TRUE = ("1", "true", "yes", "on")

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing import at run time (hot path)
    from collections.abc import Mapping


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """A boolean environment setting, the way Claude Code reads them ("1", "true", "yes", "on")."""
    return str(env.get(name, "")).strip().lower() in _TRUE


def capped(window: int, env: Mapping[str, str]) -> int:
    """The window auto-compaction works with (``CLAUDE_CODE_AUTO_COMPACT_WINDOW`` can only lower it)."""
    try:
        cap = int(str(env.get("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "")).strip())
    except ValueError:
        cap = 0
    return min(window, cap) if cap > 0 else window


def shown_pct(tokens: float, window: int, env: Mapping[str, str], reserved: int = RESERVED_OUTPUT_TOKENS) -> int | None:
    """Claude Code's own "N% context used": the last response's tokens (its prompt, cached or not, and its
    output) over the window less the tokens kept for output, rounded half up. Checked against the real client's
    screen (tests/e2e/test_context_figure.py); None without a usable window."""
    effective = capped(window, env) - int(reserved)
    if effective <= 0 or tokens < 0:
        return None
    return min(int(tokens * 100 / effective + 0.5), 100)


def _count(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def shown_from_stdin(
    context_window: object, env: Mapping[str, str], reserved: int = RESERVED_OUTPUT_TOKENS
) -> int | None:
    """``shown_pct`` from the status line stdin's ``context_window``: its ``current_usage`` tokens, else its
    whole-window ``used_percentage`` converted. None when unknown."""
    if not isinstance(context_window, dict):
        return None
    size = _count(context_window.get("context_window_size"))
    if not size:
        return None
    usage = context_window.get("current_usage")
    usage = usage if isinstance(usage, dict) else {}
    parts = [_count(usage.get(k)) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
    if any(p is not None for p in parts):
        tokens = sum(p or 0.0 for p in parts) + (_count(usage.get("output_tokens")) or 0.0)
    else:
        used = _count(context_window.get("used_percentage"))
        if used is None:
            return None
        tokens = used * size / 100
    return shown_pct(tokens, int(size), env, reserved)


def shown_threshold_pct(
    window: int, env: Mapping[str, str], reserved: int = RESERVED_OUTPUT_TOKENS, buffer: int = BUFFER_TOKENS
) -> float | None:
    """Where auto-compaction fires on ``shown_pct``'s scale (None when disabled)."""
    at = threshold(window, env, reserved, buffer)
    effective = capped(window, env) - int(reserved)
    return None if at is None or effective <= 0 else at * 100 / effective


def threshold(
    window: int,
    env: Mapping[str, str],
    reserved: int = RESERVED_OUTPUT_TOKENS,
    buffer: int = BUFFER_TOKENS,
) -> int | None:
    """Tokens at which Claude Code auto-compacts a ``window``-token context; None when it is disabled."""
    if env_flag(env, "DISABLE_AUTO_COMPACT") or env_flag(env, "DISABLE_COMPACT"):
        return None
    effective = capped(window, env) - int(reserved)
    at = effective - int(buffer)
    try:
        pct = float(env.get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE") or "nan")
    except ValueError:
        pct = float("nan")
    if 0 < pct <= 100:
        at = min(int(effective * (pct / 100)), at)  # int() floors: effective is positive here
    return max(at, 0)
