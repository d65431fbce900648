"""Current directory, ``~`` for the home directory, last components only."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

DEFAULTS = {"components": 2, "max": 40}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``~/work/project`` shortened to its last ``components``; nothing when unknown."""
    path = dig(ctx.stdin, "workspace", "current_dir") or ctx.stdin.get("cwd")
    if not isinstance(path, str) or not path:
        return None
    home = ctx.env.get("HOME") or ""
    if home and home != "/" and (path == home or path.startswith(home.rstrip("/") + "/")):
        path = "~" + path[len(home.rstrip("/")) :]
    parts = [p for p in path.split("/") if p]
    keep = max(int(cfg["components"]), 1)
    if len(parts) > keep:
        path = "\u2026/" + "/".join(parts[-keep:])
    text = clean(path, int(cfg["max"]))
    return (text, "dim") if text else None
