"""Burn rate: USD per hour over the recent window, from the snapshot's usage engine figures."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, level_for, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"warn": 10.0, "bad": 30.0}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``$4.20/h``; nothing when the snapshot has no burn rate."""
    rate = number(dig(ctx.snapshot, "cost", "burnRateUsdPerHour"))
    if rate is None:
        return None
    return (f"${rate:.2f}/h", level_for(rate, cfg.get("warn"), cfg.get("bad")))
