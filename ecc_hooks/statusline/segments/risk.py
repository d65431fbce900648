"""Risk marker: the snapshot's verdict, with its first reason when it needs a human."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"show_ok": True, "reason_max": 40}
_MARK = {"ok": ("\u2713 ok", "ok"), "attention": ("\u26a0", "warn"), "blocked": ("\u2716 blocked", "bad")}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``⚠ failing checks: pytest`` / ``✖ blocked`` / ``✓ ok``; ``risk ?`` when unknown; nothing without a snapshot."""
    if not ctx.has_snapshot:
        return None
    status = dig(ctx.snapshot, "risk", "status")
    if status not in _MARK:
        return ("risk ?", "unknown")
    if status == "ok" and not cfg.get("show_ok"):
        return None
    text, level = _MARK[status]
    reasons = dig(ctx.snapshot, "risk", "reasons")
    if status != "ok" and isinstance(reasons, list) and reasons:
        reason = clean(reasons[0], int(cfg["reason_max"]))
        if reason:
            text += " " + reason
    return (text, level)
