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


def threshold(
    window: int,
    env: Mapping[str, str],
    reserved: int = RESERVED_OUTPUT_TOKENS,
    buffer: int = BUFFER_TOKENS,
) -> int | None:
    """Tokens at which Claude Code auto-compacts a ``window``-token context; None when it is disabled."""
    if env_flag(env, "DISABLE_AUTO_COMPACT") or env_flag(env, "DISABLE_COMPACT"):
        return None
    try:
        cap = int(str(env.get("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "")).strip())
    except ValueError:
        cap = 0
    if cap > 0:
        window = min(window, cap)
    effective = window - int(reserved)
    at = effective - int(buffer)
    try:
        pct = float(env.get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE") or "nan")
    except ValueError:
        pct = float("nan")
    if 0 < pct <= 100:
        at = min(int(effective * (pct / 100)), at)  # int() floors: effective is positive here
    return max(at, 0)
