"""Who is at the other end of the supervisor's socket, and whether a request runs the same there as here.

A request handed to the supervisor's helper (``runtime.server``) must do exactly what the caller would have
done itself: the same namespaces (net, mnt, user, pid, uts, ipc, cgroup), the same root folder, the same
credentials (uids, gids, groups, capabilities, no_new_privs, seccomp); what cannot be verified counts as
different. Both sides check it (the client before it sends, the helper when a request arrives), from the peer's
pid the kernel gives (``SO_PEERCRED``).
"""

from __future__ import annotations

import os
from typing import Optional

SOCKET = b"supervisor.sock"
NAMESPACES = ("net", "mnt", "user", "pid", "uts", "ipc", "cgroup")
CREDENTIALS = (b"Uid:", b"Gid:", b"Groups:", b"CapEff:", b"CapBnd:", b"NoNewPrivs:", b"Seccomp:")


def context(pid: str) -> Optional[tuple[object, ...]]:
    """What a request's outcome depends on besides the request: process ``pid``'s namespaces, root folder and
    credentials (None when any of it cannot be read)."""
    if pid != "self" and (not pid.isdigit() or int(pid) <= 0):
        return None  # not visible from here (another pid namespace)
    try:
        links = tuple(os.readlink(f"/proc/{pid}/ns/{name}") for name in NAMESPACES)
        root = os.stat(f"/proc/{pid}/root")
        with open(f"/proc/{pid}/status", "rb") as handle:
            status = handle.read(1 << 16).splitlines()
    except (OSError, ValueError):
        return None
    creds = tuple(line for line in status if line.startswith(CREDENTIALS))
    if len(creds) != len(CREDENTIALS):
        return None
    return links, (root.st_dev, root.st_ino), creds


def same_context(peer: int) -> bool:
    """Whether process ``peer`` (a socket's other end) runs in this process's context: a request run by one
    does what the other would."""
    mine = context("self")
    return mine is not None and mine == context(str(peer))


def current_umask() -> int:
    """This process's umask (from ``/proc``, else set and restored: the client runs no thread here)."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle.read(1 << 16).splitlines():
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
