"""What a worker printed, for every runtime (``session logs``): read once, or followed until it finishes.

- ``headless``: its ``output.log`` (the relay wrote it redacted); the last ``TAIL_BYTES`` of it when read once.
- ``tmux``: the pane's whole scrollback while the pane is there (a finished pane stays: ``remain-on-exit``),
  else the scrollback saved when it was stopped or finished (``scrollback.txt``).
- ``claude-bg``: what Claude Code's background service keeps (``claude logs <id>``).

Everything is untrusted text from the agent: redacted and made inert for a terminal by the caller's printer
(``cli.session._say``). Following prints complete lines only (a secret is never cut in two across reads); a pane
or a background session's log, which is redrawn in place rather than appended to, is printed from where it
changed, once it holds still for a poll (a spinner does not flood the output).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Optional

from ecc_hooks.core import fsio, proc
from ecc_hooks.runtime import agents, launch
from ecc_hooks.runtime import store as st

TAIL_BYTES = 1 << 20  # of a headless log read once
POLL = 0.5  # seconds between two looks while following
BG_TIMEOUT = 30.0


def scrollback_path(session: str, slug: str) -> str:
    return os.path.join(launch.state_dir(session, slug), "scrollback.txt")


def _pane_alive(session: st.Session, worker: st.Worker) -> bool:
    return bool(worker.pane) and any(p.id == worker.pane for p in launch.panes(session.name, session.tmux_socket) or [])


def _background(worker: st.Worker) -> Optional[str]:
    if not worker.handle:
        return None
    binary = agents.get(worker.agent or "claude").binary
    cwd = worker.worktree if os.path.isdir(worker.worktree) else None
    done = proc.run([binary, "logs", worker.handle], cwd=cwd, timeout=BG_TIMEOUT)
    return done.out.decode("utf-8", "replace") if done.ok else None


def _read(path: str, size: int = TAIL_BYTES) -> Optional[str]:
    try:
        return fsio.read_tail(path, size).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def read(session: st.Session, worker: st.Worker) -> tuple[str, Optional[str]]:
    """(where it comes from, the text; None when nothing was kept)."""
    if worker.runtime == "headless":
        path = launch.log_path(session.name, worker.slug)
        return path, _read(path)
    if worker.runtime == "claude-bg":
        return f"claude logs {worker.handle or '(no id yet)'}", _background(worker)
    if _pane_alive(session, worker):
        return f"pane {worker.pane}", _tidy(launch.capture(worker.pane or "", session.tmux_socket, history=True))
    path = scrollback_path(session.name, worker.slug)
    return path, _tidy(_read(path))


def _tidy(screen: Optional[str]) -> Optional[str]:
    """A pane's text as the worker printed it: without the blank rows below its last line and tmux's own "Pane is
    dead (status N, ...)" line under an ended program (the exit status is in the worker's state)."""
    lines = _lines(screen)
    if lines and lines[-1].startswith("Pane is dead"):
        lines = _lines("\n".join(lines[:-1]))
    return "\n".join(lines) if screen is not None else None


def _lines(text: Optional[str]) -> list[str]:
    lines = (text or "").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _changed(old: list[str], new: list[str]) -> list[str]:
    """The lines of ``new`` from where it stops agreeing with ``old`` (appended lines, or a redrawn tail)."""
    same = 0
    for a, b in zip(old, new):
        if a != b:
            break
        same += 1
    return new[same:]


def follow(store: st.Store, name: str, slug: str, out: Callable[[str], None], poll: float = POLL) -> None:
    """Print the worker's output so far (as ``read`` has it), then what it prints as it does, until it is no
    longer running. KeyboardInterrupt ends it earlier."""
    session = store.require_session(name)
    worker = store.worker(name, slug)
    if worker.runtime == "headless":
        _follow_file(store, session, worker, out, poll)
        return
    shown: list[str] = []
    last: Optional[list[str]] = None
    while True:
        worker = store.worker(name, slug)
        running = worker.state in (*st.OCCUPYING, "pending")
        now = _lines(read(session, worker)[1])
        if last is None or now == last or not running:  # first, held still for a poll, or over: print the change
            for line in _changed(shown, now):
                out(line)
            shown = now
        if not running:
            return
        last = now
        time.sleep(poll)


def _start(path: str) -> fsio.Cursor:
    """Where following a log starts: its first complete line within its last ``TAIL_BYTES``."""
    try:
        fd = fsio.open_file(path, os.O_RDONLY)
    except OSError:
        return fsio.Cursor()
    try:
        info = os.fstat(fd)
        start = max(info.st_size - TAIL_BYTES, 0)
        if start:
            before = os.pread(fd, TAIL_BYTES, start - 1)
            cut = before.find(b"\n")
            start = start + cut if cut >= 0 else info.st_size
        return fsio.Cursor(info.st_dev, info.st_ino, start)
    finally:
        os.close(fd)


def _follow_file(
    store: st.Store, session: st.Session, worker: st.Worker, out: Callable[[str], None], poll: float
) -> None:
    path = launch.log_path(session.name, worker.slug)
    cursor = _start(path)
    while True:
        running = store.worker(session.name, worker.slug).state in (*st.OCCUPYING, "pending")
        block = fsio.read_new_block(path, cursor)
        cursor = block.cursor
        for line in block.data.decode("utf-8", "replace").splitlines():
            out(line)
        if block.data:
            continue  # more may be there already
        if not running:
            rest = _rest(path, cursor)
            if rest:
                out(rest)
            return
        time.sleep(poll)


def _rest(path: str, cursor: fsio.Cursor) -> str:
    """A last line without its newline (the worker ended mid-line)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return ""
    if size <= cursor.offset:
        return ""
    return (_read(path, size - cursor.offset) or "").rstrip("\n")
