"""One journal line per event, however many hooks of ours Claude Code ran for it.

A runtime worker starts with our settings layer (``claude --settings``) over the user's settings; when the user
installed our hooks too with another command (the plugin's, another interpreter's, the http transport's tool
events), Claude Code runs both for each event, with the same payload bytes (measured with the pinned client).
Only a runtime worker's events are checked: its hook's environment names its runtime session (``$ECC_SESSION``,
relayed to the watcher as a field), and the http transport's events (no environment) always are.
Identical commands it runs once itself. The journal's writer keeps, per session, the identities of the events
recorded in the last ``WINDOW`` seconds (``paths.seen_path``, under a ``flock``) and records an identity it
already holds no second time.

The identity is the event's name, the payload's length and a fingerprint of its first and last ``EDGE`` bytes
(a polynomial hash by ``int.from_bytes``: no import on the hot path): tool events carry their unique
``tool_use_id`` at the end, the others their session, cwd and text. Two different events with the same bytes in
one window (two identical notifications of one session) are recorded once: nothing that follows depends on the
second. Costs one small file read and write per event (``benchmarks/bench_hook.py``).
"""

from __future__ import annotations

import os

from ecc_hooks.core import paths
from ecc_hooks.core.fsio import open_file

WINDOW = 10.0  # seconds: hooks of one event start together; a loaded machine may start one seconds late
EDGE = 4096  # bytes of each end of the payload in its fingerprint (a tool event's id is in its last ones)
KEEP_MAX = 4096  # bytes of identities kept: the newest lines when more arrived within the window
_PRIME = (1 << 61) - 1


def identity(event: str, data: bytes) -> str:
    """The event's identity: its name, its payload's length and a fingerprint of the payload's two ends, without
    the whitespace around it (a command hook's stdin ends in a newline, the http hook's body of the same event
    does not: otherwise the same bytes, measured with the pinned client)."""
    data = data.strip()
    edges = data if len(data) <= 2 * EDGE else data[:EDGE] + data[-EDGE:]
    return f"{event}:{len(data):x}:{int.from_bytes(edges, 'little') % _PRIME:x}"


def first_sighting(session: str, key: str, now: float) -> bool:
    """Whether ``key`` was not recorded for ``session`` within ``WINDOW`` seconds of ``now`` (and note it now).

    Read, check and write under an exclusive ``flock`` of the session's ``seen`` file, so of two hooks racing
    exactly one sees it first. Any failure answers True: a duplicate line is better than a lost event."""
    try:
        import fcntl

        fd = open_file(paths.seen_path(session), os.O_RDWR | os.O_CREAT, create_dirs=True)
    except (OSError, ValueError):
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        kept = []
        for line in os.pread(fd, 2 * KEEP_MAX, 0).decode("ascii", "replace").splitlines():
            stamp, _, seen = line.partition(" ")
            try:
                recent = abs(now - float(stamp)) < WINDOW
            except ValueError:
                continue
            if recent:
                if seen == key:
                    return False
                kept.append(line)
        kept.append(f"{now:.3f} {key}")
        data = ("\n".join(kept) + "\n").encode("ascii", "replace")
        if len(data) > KEEP_MAX:  # the newest whole lines
            data = data[-KEEP_MAX:]
            data = data[data.find(b"\n") + 1 :]
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        return True
    except OSError:
        return True
    finally:
        os.close(fd)  # the lock goes with it
