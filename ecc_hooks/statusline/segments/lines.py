"""Lines added and removed in the session, as Claude Code reports them."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"hide_zero": True}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``+120 -8``; nothing when unknown (or both zero, unless ``hide_zero = false``)."""
    added = number(dig(ctx.stdin, "cost", "total_lines_added"))
    removed = number(dig(ctx.stdin, "cost", "total_lines_removed"))
    if added is None and removed is None:
        return None
    if cfg.get("hide_zero") and not added and not removed:
        return None
    return (f"+{int(added or 0)} -{int(removed or 0)}", "info")
