"""Model: Claude Code's display name for the model (its id when there is no name; the snapshot's as a fallback)."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"max": 32, "show_effort": True}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``Sonnet 4.5`` (plus ``·high`` effort when Claude Code reports one); ``model --`` when unknown. Another
    agent's session (the snapshot's ``context.harness``) is named first: ``codex gpt-5.1-codex``."""
    model = ctx.stdin.get("model")
    name = ""
    if isinstance(model, dict):
        name = clean(model.get("display_name") or model.get("id"), int(cfg["max"]))
    elif isinstance(model, str):
        name = clean(model, int(cfg["max"]))
    if not name:
        name = clean(dig(ctx.snapshot, "context", "model"), int(cfg["max"]))
    harness = dig(ctx.snapshot, "context", "harness")
    agent = clean(harness, 12) if isinstance(harness, str) and harness not in ("", "claude-code") else ""
    if not name:
        return (f"{agent} model --" if agent else "model --", "unknown")
    if agent:
        name = f"{agent} {name}"
    effort = dig(ctx.stdin, "effort", "level")
    if cfg.get("show_effort") and isinstance(effort, str) and effort:
        name += "\u00b7" + clean(effort, 10)
    return (name, "info")
