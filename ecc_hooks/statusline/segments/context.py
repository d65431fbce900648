"""Context window: a bar, % used (Claude Code's ``used_percentage``) and the distance to auto-compaction.

Auto-compaction is ``ecc_hooks.compaction``'s rule (the usage engine uses the same one); the
environment is ``ctx.env``.
"""

from __future__ import annotations

from ecc_hooks.core import compaction
from ecc_hooks.statusline.segments._util import dig, level_for, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from collections.abc import Mapping
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {
    "bar": 10,
    "warn": 60,
    "bad": 80,
    "full": "\u2588",
    "empty": "\u2591",
    "reserved_output_tokens": compaction.RESERVED_OUTPUT_TOKENS,
    "buffer_tokens": compaction.BUFFER_TOKENS,
    "show_compact": True,
}


def autocompact_pct(window: float, cfg: dict[str, Any], env: Mapping[str, str]) -> float | None:
    """Where auto-compaction fires, as % of ``window``; None when it is disabled."""
    at = compaction.threshold(int(window), env, cfg["reserved_output_tokens"], cfg["buffer_tokens"])
    return None if at is None else at / window * 100


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``ctx ███░░░░░░░ 26% ⇣57%`` (57 points left before auto-compaction); ``ctx --`` when unknown."""
    window = dig(ctx.stdin, "context_window")
    used = number(dig(window, "used_percentage"))
    size = number(dig(window, "context_window_size"))
    if used is None:  # before the first response: the snapshot may know it from the transcript
        remaining = number(dig(ctx.snapshot, "context", "contextWindow", "remainingPct"))
        used = None if remaining is None else 100 - remaining
        size = size or number(dig(ctx.snapshot, "context", "contextWindow", "windowSize"))
    if used is None:
        return ("ctx --", "unknown")
    used = min(max(used, 0.0), 100.0)
    width = int(cfg["bar"])
    text = "ctx "
    if width > 0:
        filled = min(width, int(used * width / 100 + 0.5))
        text += str(cfg["full"]) * filled + str(cfg["empty"]) * (width - filled) + " "
    text += f"{used:.0f}%"
    level = level_for(used, cfg.get("warn"), cfg.get("bad"))
    if cfg.get("show_compact") and size and size > 0:
        at = autocompact_pct(size, cfg, ctx.env)
        if at is not None:
            left = at - used
            text += f" \u21e3{left:.0f}%" if left > 0 else " compact!"
            if left <= 0:
                level = "bad"
    return (text, level)
