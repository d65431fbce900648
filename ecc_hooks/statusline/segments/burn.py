"""Burn rate: USD per hour over the recent window, from the snapshot's usage engine figures."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, level_for, number

DEFAULTS = {"warn": 10.0, "bad": 30.0}


def render(ctx, cfg):  # type: ignore[no-untyped-def]
    """``$4.20/h``; nothing when the snapshot has no burn rate."""
    rate = number(dig(ctx.snapshot, "cost", "burnRateUsdPerHour"))
    if rate is None:
        return None
    return (f"${rate:.2f}/h", level_for(rate, cfg.get("warn"), cfg.get("bad")))
