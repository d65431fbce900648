"""Tool calls: total, failures and the tool(s) running now, from the snapshot."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"label": "tools", "max_running": 2}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``tools 12 ✗2 ▶Bash``; ``tools --`` without a snapshot (the count comes from hook events only)."""
    calls = dig(ctx.snapshot, "toolCalls")
    total = number(calls.get("total")) if isinstance(calls, dict) else None
    if total is None:
        return (f"{cfg['label']} --", "unknown")
    text = f"{cfg['label']} {int(total)}"
    level = "info"
    failures = number(calls.get("failures"))
    if failures:
        text += f" \u2717{int(failures)}"
        level = "warn"
    stale = number(calls.get("stale"))
    if stale:
        text += f" stale {int(stale)}"
        level = "bad"
    running = calls.get("running")
    if isinstance(running, list):
        names = [clean(n, 20) for n in running if isinstance(n, str)]
        names = [n for n in names if n][: int(cfg["max_running"])]
        if names:
            text += " \u25b6" + ",".join(names)
    return (text, level)
