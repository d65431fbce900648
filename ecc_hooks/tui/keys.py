"""Every control of the full-screen HUD and its default keys, with no Textual import: the app binds them, the
configuration checks ``[hud.keymap]`` against them, the help screen and the README's key table list them.

An id is what ``[hud.keymap]`` in ``$ECC_HOOKS_HOME/config.toml`` rebinds (``"hud.approve" = "y"``: Textual's
``App.set_keymap``, comma-separated keys). The defaults are single keys, arrows and Enter: no Ctrl or Alt chord, so
none of Claude Code's own (Ctrl+B, Ctrl+C, Ctrl+O, Ctrl+R, Ctrl+T, Ctrl+V, Shift+Tab, Esc, ...) and none that tmux or
a terminal over SSH swallows (Ctrl+Enter, Ctrl+J); no destructive control is on Esc.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """One control: its id, its default keys (Textual's names, comma-separated), what the help says, the group it
    is listed under, and its footer label (empty: not in the footer, which has room for the most used only)."""

    id: str
    keys: str
    help: str
    group: str
    label: str = ""


KEYS: tuple[Key, ...] = (
    # moving around
    Key("hud.down", "j,down", "next row", "move"),
    Key("hud.up", "k,up", "previous row", "move"),
    Key("hud.top", "g,home", "first row", "move"),
    Key("hud.bottom", "G,end", "last row", "move"),
    Key("hud.next_tab", "right_square_bracket,l", "next preview tab", "move"),
    Key("hud.prev_tab", "left_square_bracket,h", "previous preview tab", "move"),
    Key("hud.preview", "space", "show or hide the preview pane", "move"),
    Key("hud.filter", "slash", "filter the rows (by name, state, branch, objective)", "move", "filter"),
    # what a worker or session needs
    Key("hud.approve", "a", "approve the permission prompt it waits at (once)", "act", "approve"),
    Key("hud.deny", "r", "deny the permission prompt it waits at", "act", "deny"),
    Key("hud.send", "i", "send text to its pane (pasted, then Enter)", "act", "send"),
    Key("hud.attach", "enter,o", "attach to its tmux pane (detach to come back)", "act", "attach"),
    Key("hud.stop", "s", "stop the worker (its scrollback is kept)", "act", "stop"),
    Key("hud.resume", "u", "resume a stopped or finished worker", "act"),
    Key("hud.retry", "t", "retry a failed, stopped or stale worker", "act"),
    Key("hud.logs", "L", "show what the worker printed", "act"),
    # its work
    Key("hud.diff", "d", "the worker's diff (committed and uncommitted)", "work", "diff"),
    Key("hud.pr", "p", "push its branch and open a pull request", "work"),
    Key("hud.queues", "m", "the merge and conflict queues", "work", "queues"),
    Key("hud.apply", "A", "apply the merge queue (confirm, pick the strategy)", "work"),
    Key("hud.resolve", "R", "resolve the worker's conflicts with an agent", "work"),
    Key("hud.cleanup", "C", "remove the worker's worktree and branch (refused if work would be lost)", "work"),
    Key("hud.create", "n", "create a session (a plan file or the quick form)", "work"),
    # the HUD itself
    Key("hud.daemons", "w", "start the watcher and the runtime's supervisor", "hud"),
    Key("hud.help", "question_mark", "this help", "hud", "help"),
    Key("hud.quit", "q", "quit", "hud", "quit"),
)
BY_ID = {k.id: k for k in KEYS}

# Claude Code's own chords, as Textual names them (its default keybindings and its prompt's readline editing): a
# person's habit there must not act here, so ``[hud.keymap]`` refuses them (``hud.notify.parse``)
_CLAUDE_CTRL = "abcdefgjklorstuvwxyz"
_CLAUDE_ALT = "bfmoptvy"
CLAUDE_CODE_CHORDS = frozenset(
    {f"ctrl+{c}" for c in _CLAUDE_CTRL}
    | {f"{m}+{c}" for m in ("alt", "meta") for c in _CLAUDE_ALT}
    | {"ctrl+underscore", "shift+tab", "shift+enter", "escape"}
)


def display(keys: str) -> str:
    """``right_square_bracket,l`` as a person reads it: ``],l``."""
    names = {
        "right_square_bracket": "]",
        "left_square_bracket": "[",
        "slash": "/",
        "question_mark": "?",
        "space": "Space",
        "enter": "Enter",
        "down": "↓",
        "up": "↑",
        "home": "Home",
        "end": "End",
    }
    return ",".join(names.get(k, k) for k in keys.split(","))
