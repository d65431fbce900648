"""The runtime's merge queue from the snapshot: how many worker branches are ready to merge and how many wait."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS: dict[str, Any] = {}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``queue 2 ready 1 blocked``; nothing without a queue. A conflict makes it a warning."""
    entries = dig(ctx.snapshot, "queueState", "mergeQueue")
    if not isinstance(entries, list) or not entries:
        return None
    entries = [e for e in entries if isinstance(e, dict)]
    ready = sum(1 for e in entries if e.get("readyToMerge") is True)
    blocked = sum(1 for e in entries if e.get("readyToMerge") is not True and e.get("kind") not in ("empty",))
    if not ready and not blocked:
        return None
    conflicts = any(e.get("kind") in ("base-conflict", "pair-conflict") for e in entries)
    text = f"queue {ready} ready" + (f" {blocked} blocked" if blocked else "")
    return (text, "warn" if conflicts else "info")
