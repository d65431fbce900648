"""Running agents (subagents, background tasks) from the snapshot."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"max_types": 2, "states": ["running", "waiting"]}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``agents 2 Explore,general``, ``agents 5 claude×2,script×3``; nothing when no agent is running."""
    agents = dig(ctx.snapshot, "activeAgents")
    if not isinstance(agents, list):
        return None
    states = set(cfg.get("states") or ())
    live = [a for a in agents if isinstance(a, dict) and a.get("state") in states]
    stale = sum(1 for a in agents if isinstance(a, dict) and a.get("state") == "stale")
    if not live and not stale:
        return None
    text = f"agents {len(live)}"
    counts: dict[str, int] = {}  # by kind, in order of appearance (a runtime worker's kind: its agent, or script)
    for agent in live:
        kind = clean(agent.get("agentType"), 20)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    if counts:
        shown = list(counts.items())[: int(cfg["max_types"])]
        # with one kind the total says how many; with several, each kind's count
        text += " " + ",".join(kind if n == 1 or len(counts) == 1 else f"{kind}\u00d7{n}" for kind, n in shown)
    if stale:
        text += f" stale {stale}"
        return (text, "warn")
    return (text, "info")
