"""Where a Claude Code session runs: its tmux server's socket and its pane, from the environment tmux gives.

tmux sets ``$TMUX`` (``socket_path,server_pid,session_idx``) and ``$TMUX_PANE`` (``%N``) in every pane; Claude Code
and the hooks it starts inherit them. The hook records them at SessionStart (``"tmux": {"socket", "pane"}`` in the
journal event), so the HUD can answer a plain session's permission prompt, not only a runtime worker's. The values
come from an environment, and are read back from a journal: both ends check them here the same way (an absolute
socket path of bounded length without control characters, a pane ``%<digits>``) and drop what does not pass.

Hot path: no imports at all (no ``re``); the hook loads this module on SessionStart only. ``socket_problem`` (for
whoever points tmux at a recorded socket: the runtime, the HUD's attach) imports ``os`` when called.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Optional

SOCKET_MAX = 1024  # characters of a socket path kept (sockaddr_un takes 107; tmux reaches deeper ones by chdir)
PANE_DIGITS = 9  # digits of a pane id kept


def valid_pane(pane: object) -> bool:
    """``%<digits>``: a tmux pane id (what ``-t`` takes as exactly one pane, never a session or a format)."""
    return (
        isinstance(pane, str)
        and 2 <= len(pane) <= PANE_DIGITS + 1
        and pane[0] == "%"
        and all("0" <= c <= "9" for c in pane[1:])
    )


def valid_socket(path: object) -> bool:
    """An absolute path of bounded length, every character printable (no control character, no undecodable byte:
    it becomes a ``tmux -S`` argument and a journal string)."""
    return isinstance(path, str) and 1 < len(path) <= SOCKET_MAX and path[0] == "/" and path.isprintable()


def socket_of(tmux_env: "Optional[str]") -> "Optional[str]":
    """The socket path ``$TMUX`` names, or None when it is not ``path,pid,index`` with a valid path (the path may
    itself hold commas: the last two fields are cut off)."""
    if not tmux_env:
        return None
    parts = tmux_env.rsplit(",", 2)
    if len(parts) != 3:
        return None
    path, pid, index = parts
    if not pid.isdigit() or not pid.isascii() or not index.lstrip("-").isdigit() or not index.isascii():
        return None
    return path if valid_socket(path) else None


def terminal(tmux_env: "Optional[str]", pane_env: "Optional[str]") -> "Optional[dict[str, str]]":
    """The journal's ``tmux`` field (``{"socket": ..., "pane": ...}``) from ``$TMUX`` and ``$TMUX_PANE``, or None
    when either is missing or malformed."""
    socket = socket_of(tmux_env)
    if socket is None or not valid_pane(pane_env):
        return None
    return {"socket": socket, "pane": str(pane_env)}


def socket_problem(path: str) -> "Optional[str]":
    """Why the recorded socket ``path`` must not be handed to tmux (None: a socket, not a link, owned by this
    user). Checked with ``lstat`` right before use: the journal is private, but the path is a shared folder's."""
    import os
    import stat

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "gone"
    except OSError as exc:
        return f"cannot be checked ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "a link"
    if not stat.S_ISSOCK(info.st_mode):
        return "not a socket"
    if info.st_uid != os.getuid():
        return "another user's"
    return None


def checked(value: object) -> "Optional[tuple[str, str]]":
    """A recorded ``tmux`` field read back: (socket, pane) when both are still valid, else None."""
    if not isinstance(value, dict):
        return None
    socket, pane = value.get("socket"), value.get("pane")
    if not valid_socket(socket) or not valid_pane(pane):
        return None
    return str(socket), str(pane)
