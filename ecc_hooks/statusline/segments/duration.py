"""Session duration, as Claude Code reports it."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig, duration, number

DEFAULTS = {"prefix": ""}


def render(ctx, cfg):  # type: ignore[no-untyped-def]
    """``12m05s``; nothing when unknown."""
    ms = number(dig(ctx.stdin, "cost", "total_duration_ms"))
    if ms is None or ms < 0:
        return None
    return (str(cfg["prefix"]) + duration(ms / 1000), "dim")
