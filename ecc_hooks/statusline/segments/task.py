"""Current task: the in-progress todo item from the snapshot, with done/total."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"max": 40, "show_counts": True}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``▸ Fix the parser 2/5``; nothing when no task is in progress or there is no snapshot."""
    text = clean(dig(ctx.snapshot, "todos", "inProgress"), int(cfg["max"]))
    if not text:
        return None
    counts = dig(ctx.snapshot, "todos", "counts")
    if cfg.get("show_counts") and isinstance(counts, dict):
        done = number(counts.get("completed")) or 0
        total = done + (number(counts.get("pending")) or 0) + (number(counts.get("inProgress")) or 0)
        if total:
            text += f" {int(done)}/{int(total)}"
    return ("\u25b8 " + text, "info")
