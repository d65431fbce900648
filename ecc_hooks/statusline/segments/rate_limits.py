"""Rate limits (subscribers only): 5-hour and 7-day use, each against how much of its window has elapsed.

``5h 40%/62%`` reads "40 % used with 62 % of the window gone": using faster than time passes is the
warning sign (``ahead_margin`` points ahead of the clock), whatever the absolute figure.
"""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, duration, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"windows": ["five_hour", "seven_day"], "warn": 80, "bad": 95, "ahead_margin": 10, "show_reset": False}
_WINDOW = {"five_hour": ("5h", 5 * 3600), "seven_day": ("7d", 7 * 86400)}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``5h 40%/62% 7d 12%/30%``; nothing when Claude Code sends no rate limits."""
    limits = ctx.stdin.get("rate_limits")
    if not isinstance(limits, dict):
        return None
    parts = []
    level = "ok"
    rank = {"ok": 0, "warn": 1, "bad": 2}
    for key in cfg.get("windows") or ():
        label, length = _WINDOW.get(key, (str(key), 0))
        used = number(dig(limits, key, "used_percentage"))
        if used is None:
            continue
        text = f"{label} {used:.0f}%"
        this = "ok"
        resets = number(dig(limits, key, "resets_at"))
        if resets is not None and length:
            if resets > 1e11:  # milliseconds
                resets /= 1000
            left = resets - ctx.now
            elapsed = min(max(100 * (1 - left / length), 0.0), 100.0)
            text += f"/{elapsed:.0f}%"
            if used > elapsed + float(cfg["ahead_margin"]):
                this = "warn"
            if cfg.get("show_reset") and left > 0:
                text += f" \u21bb{duration(left)}"
        if used >= float(cfg["bad"]):
            this = "bad"
        elif used >= float(cfg["warn"]):
            this = max(this, "warn", key=rank.__getitem__)
        level = max(level, this, key=rank.__getitem__)
        parts.append(text)
    return (" ".join(parts), level) if parts else None
