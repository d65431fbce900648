"""Session duration, as Claude Code reports it."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, duration, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"prefix": ""}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``12m05s``; nothing when unknown."""
    ms = number(dig(ctx.stdin, "cost", "total_duration_ms"))
    if ms is None or ms < 0:
        return None
    return (str(cfg["prefix"]) + duration(ms / 1000), "dim")
