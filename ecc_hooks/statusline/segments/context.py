"""Context window: one figure, the one Claude Code shows ("92% context used"), and a bar.

Claude Code's own figure is the last response's tokens (prompt, cached or not, and output) over the window less
the tokens it keeps for output (``core.compaction.shown_pct``); its status line stdin's ``used_percentage`` is
of the whole window, a different number for the same moment. The row shows Claude Code's, so the user can match
it to the client's screen; auto-compaction fires at about 93% on that scale (the README explains it), so the
segment turns red from ``bad`` and says ``compacting`` past that point. Environment: ``ctx.env``.
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
    "warn": 70,
    "bad": 85,
    "full": "\u2588",
    "empty": "\u2591",
    "reserved_output_tokens": compaction.RESERVED_OUTPUT_TOKENS,
    "buffer_tokens": compaction.BUFFER_TOKENS,
    "show_compact": False,
}


def autocompact_pct(window: float, cfg: dict[str, Any], env: Mapping[str, str]) -> float | None:
    """Where auto-compaction fires, as % of the window less the reserved output (the scale of the figure shown);
    None when it is disabled."""
    return compaction.shown_threshold_pct(int(window), env, cfg["reserved_output_tokens"], cfg["buffer_tokens"])


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``ctx █████████░ 92%`` (as Claude Code's "92% context used"); ``ctx --`` when unknown."""
    window = dig(ctx.stdin, "context_window")
    used: float | None = compaction.shown_from_stdin(window, ctx.env, int(cfg["reserved_output_tokens"]))
    size = number(dig(window, "context_window_size"))
    if used is None:  # before the first response: the snapshot may know it from the transcript
        used = number(dig(ctx.snapshot, "context", "contextWindow", "usedPct"))
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
    at = autocompact_pct(size, cfg, ctx.env) if size and size > 0 else None
    if at is not None and used >= at:
        text += " compacting"
        level = "bad"
    elif at is not None and cfg.get("show_compact"):
        text += f" \u21e3{at - used:.0f}%"  # points left before auto-compaction, on the same scale
    return (text, level)
