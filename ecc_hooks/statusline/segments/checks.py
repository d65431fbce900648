"""Checks: local (tests, linters seen in Bash calls) and remote (CI) results from the snapshot."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import dig

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"pass": "\u2713", "fail": "\u2717", "pending": "\u2026"}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``checks ✓3 ✗1 …1``; nothing when no check was seen."""
    counts = {"pass": 0, "fail": 0, "pending": 0, "other": 0}
    seen = 0
    for side in ("local", "remote"):
        items = dig(ctx.snapshot, "checks", side)
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict):
                seen += 1
                status = item.get("status")
                counts[status if status in counts else "other"] += 1
    if not seen:
        return None
    parts = [f"{cfg[k]}{counts[k]}" for k in ("pass", "fail", "pending") if counts[k]]
    if counts["other"]:
        parts.append(f"?{counts['other']}")
    level = "bad" if counts["fail"] else ("warn" if counts["pending"] or counts["other"] else "ok")
    return ("checks " + " ".join(parts), level)
