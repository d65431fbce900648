"""Risk marker: the snapshot's verdict, with its first reason when it needs a human."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig, duration, epoch

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"show_ok": True, "reason_max": 40}
_MARK = {"ok": ("\u2713 ok", "ok"), "attention": ("\u26a0", "warn"), "blocked": ("\u2716 blocked", "bad")}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``⏸ needs you: permission to use Bash 2m05s`` / ``⚠ failing checks: pytest`` / ``✖ blocked`` / ``✓ ok``;
    ``risk ?`` when unknown; nothing without a snapshot."""
    if not ctx.has_snapshot:
        return None
    status = dig(ctx.snapshot, "risk", "status")
    if status not in _MARK:
        return ("risk ?", "unknown")
    if status == "ok" and not cfg.get("show_ok"):
        return None
    waiting = dig(ctx.snapshot, "context", "waitingFor")
    if isinstance(waiting, str) and waiting:  # a person is needed: that outranks every other reason
        since = epoch(dig(ctx.snapshot, "context", "waitingSince"))
        age = f" {duration(ctx.now - since)}" if since is not None and ctx.now else ""
        return ("\u23f8 needs you: " + clean(waiting, int(cfg["reason_max"])) + age, "warn")
    text, level = _MARK[status]
    reasons = dig(ctx.snapshot, "risk", "reasons")
    if status != "ok" and isinstance(reasons, list):
        # A context reason is the snapshot's moment; the context segment shows the live figure and colours it
        # itself: the row never puts a warning beside a figure from a different moment.
        shown = [r for r in reasons if isinstance(r, str) and not r.startswith("context ")]
        reason = clean(shown[0], int(cfg["reason_max"])) if shown else ""
        if reason:
            text += " " + reason
        elif not shown and reasons:
            return None  # only the context was wrong, and the context segment says so
    return (text, level)
