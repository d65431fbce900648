"""Session cost: what Claude Code reports, marked ``~`` when our computed figure disagrees with it."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, number, usd

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

# Reported and computed costs "disagree" past both tolerances (absolute USD and relative share).
DEFAULTS = {"tolerance_usd": 0.01, "tolerance_ratio": 0.05, "mark": "~", "show_budget": True}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``$0.26`` (``~$0.26`` when figures disagree, ``$0.26/$10.00`` with a budget); ``$--`` when unknown."""
    cost = dig(ctx.snapshot, "cost") or {}
    reported = number(dig(ctx.stdin, "cost", "total_cost_usd"))
    if reported is None and isinstance(cost, dict):
        reported = number(cost.get("reportedUsd"))
    computed = number(cost.get("computedUsd")) if isinstance(cost, dict) else None
    shown = reported if reported is not None else (number(cost.get("sessionUsd")) if isinstance(cost, dict) else None)
    if shown is None:
        return ("$--", "unknown")
    text = usd(shown)
    if reported is not None and computed is not None:
        gap = abs(reported - computed)
        if gap > float(cfg["tolerance_usd"]) and gap > float(cfg["tolerance_ratio"]) * max(
            abs(reported), abs(computed)
        ):
            text = str(cfg["mark"]) + text
    level = "info"
    budget = number(cost.get("budgetUsd")) if isinstance(cost, dict) else None
    if budget and cfg.get("show_budget"):
        text += "/" + usd(budget)
        trend = str(cost.get("trend"))
        level = {"over-budget": "bad", "approaching-budget": "warn", "within-budget": "ok"}.get(trend, "info")
    return (text, level)
