"""Git: branch, dirty, ahead/behind, and the worktree's name when it is a linked worktree (``git worktree add``:
one of several checkouts of the repository, as parallel agents use), from the snapshot only (the watcher keeps
git state; we never run git)."""

from __future__ import annotations

from ecc_hooks.statusline.segments._util import clean, dig, number

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

    from ecc_hooks.statusline.segments import Context, Piece

# A snapshot older than ``stale_seconds`` is shown dimmed (gitstatus' habit: show the last value, never wait).
DEFAULTS = {
    "max": 30,
    "stale_seconds": 120,
    "dirty": "*",
    "ahead": "\u2191",
    "behind": "\u2193",
    "worktree": "\u229e ",  # before a linked worktree's folder name
}


def render(ctx: Context, cfg: dict[str, Any]) -> Piece:
    """``⎇ main* ↑2↓1``, ``⊞ wt-auth ⎇ feat/auth`` in a linked worktree; nothing without a snapshot or branch."""
    context = dig(ctx.snapshot, "context")
    branch = clean(dig(context, "branch"), int(cfg["max"]))
    if not branch:
        return None
    text = "\u2387 " + branch
    worktree = dig(context, "worktree")
    if dig(context, "linkedWorktree") is True and isinstance(worktree, str):
        name = clean(worktree.rstrip("/").rsplit("/", 1)[-1], int(cfg["max"]))
        if name:
            text = str(cfg["worktree"]) + name + " " + text
    level = "info"
    if dig(ctx.snapshot, "risk", "dirtyWorktree") is True or dig(context, "dirty") is True:
        text += str(cfg["dirty"])
        level = "warn"
    ahead = number(dig(context, "ahead"))
    behind = number(dig(context, "behind"))
    if ahead:
        text += f" {cfg['ahead']}{int(ahead)}"
    if behind:
        text += f"{'' if ahead else ' '}{cfg['behind']}{int(behind)}"
    conflicts = number(dig(ctx.snapshot, "risk", "conflicts"))
    if conflicts:
        text += f" !{int(conflicts)}"
        level = "bad"
    age = ctx.snapshot_age
    if age is not None and age > float(cfg["stale_seconds"]):
        level = "dim"
    return (text, level)
