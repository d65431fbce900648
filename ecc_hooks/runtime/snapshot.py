"""The HUD's view of the runtime: ``$ECC_HOOKS_HOME/runtime/workers.json`` (every session's workers, and the merge
and conflict queues the supervisor computes off its reconcile loop)."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from typing import Any, Optional

from ecc_hooks.core import errorlog, fsio, paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import merge
from ecc_hooks.runtime import store as st
from ecc_hooks.runtime.figures import real_agent
from ecc_hooks.sources import git as gitstate

QUEUE_TTL = 30.0  # seconds a session's merge queue is reused while its workers' states stay as they were
_QUEUES: dict[str, tuple[float, tuple[Any, ...], dict[str, Any]]] = {}


def queue_snapshot(
    store: st.Store, session: st.Session, workers: list[st.Worker], background: bool = False
) -> Optional[dict[str, Any]]:
    """The session's merge and conflict queues for the HUD, recomputed when a worker's state or a branch (the
    base's too) changed, else after ``QUEUE_TTL`` (never on the status line's path: the supervisor writes it,
    the HUD reads it); None while no worker has finished. ``background`` (the supervisor): the recompute runs in
    the queue thread and the last queue is returned meanwhile, so no session's reconcile waits on another's
    queue."""
    if not any(w.state in st.FINISHED for w in workers):
        return None
    done = gitstate.run(session.repo_root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/",
                        timeout=10)  # fmt: skip
    refs = done[1] if done is not None and done[0] == 0 else b""  # a branch or the base moved: compute again
    signature = (tuple((w.slug, w.state) for w in workers), refs)
    cached = _QUEUES.get(session.name)
    if cached and cached[1] == signature and time.monotonic() - cached[0] < QUEUE_TTL:
        return cached[2]
    if background:
        _QUEUE_THREAD.want(session.name, signature)
        return cached[2] if cached else None
    return _compute_queue(store, session, signature)


def _compute_queue(store: st.Store, session: st.Session, signature: tuple[Any, ...]) -> dict[str, Any]:
    try:
        entries = merge.queue(store, session)
        merge.record_hand_merges(store, session, entries)  # a branch merged by hand: its worker is merged
        data: dict[str, Any] = {
            "mergeQueue": [e.as_json() for e in entries],
            "conflictQueue": merge.conflicts(entries),
        }
    except UserError as exc:
        data = {"mergeQueue": [], "conflictQueue": [], "error": str(exc)}
    data["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    _QUEUES[session.name] = (time.monotonic(), signature, data)
    return data


class _QueueThread:
    """The supervisor's queue worker: computes the sessions' queues one at a time, off the reconcile loop (its
    own store connection), then exports ``workers.json`` with them. A daemon thread: it never holds up exit."""

    def __init__(self) -> None:
        self.wanted: dict[str, tuple[Any, ...]] = {}
        self.cond = threading.Condition()
        self.thread: Optional[threading.Thread] = None

    def want(self, name: str, signature: tuple[Any, ...]) -> None:
        with self.cond:
            self.wanted[name] = signature
            if self.thread is None:
                self.thread = threading.Thread(target=self._work, name="ecc-hooks-queues", daemon=True)
                self.thread.start()
            self.cond.notify()

    def _work(self) -> None:
        store: Optional[st.Store] = None
        while True:
            with self.cond:
                while not self.wanted:
                    self.cond.wait()
                name, signature = next(iter(self.wanted.items()))
                del self.wanted[name]
            try:
                store = store or st.Store()
                session = store.session(name)
                if session is not None:
                    _compute_queue(store, session, signature)
                    export(store, background=True)  # another session's changed queue is asked for, not computed
            except Exception as exc:  # the next pass asks again
                errorlog.log_error("runtime.queue", str(exc))


_QUEUE_THREAD = _QueueThread()
_EXPORT_LOCK = threading.Lock()


def export(store: st.Store, queues: bool = True, background: bool = False) -> None:
    """``$ECC_HOOKS_HOME/runtime/workers.json``: every session's workers as the HUD shows them (its
    ``activeAgents``, risk reasons and session controls) and, from the supervisor (``queues``), its merge and
    conflict queues (``background``: computed by the queue thread); rewritten only when it changed."""
    with _EXPORT_LOCK:  # the supervisor's loop and its queue thread
        _export(store, queues, background)


def _utc(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _export(store: st.Store, queues: bool, background: bool) -> None:
    sessions = []
    old_queues = _previous_queues() if not queues else {}
    for session in store.sessions():
        workers = []
        entered = store.state_since(session.name)
        for w in store.workers(session.name):
            if w.removed:
                continue
            workers.append(
                {
                    "id": f"{session.name}/{w.slug}",
                    "state": w.state,
                    "reason": w.reason,
                    "branch": w.branch,
                    "worktree": w.worktree,
                    "objective": w.task,
                    "handoffPath": w.handoff_file,
                    "agent": real_agent(w),  # what runs: a launcherCommand is a script, whatever agent it names
                    "agentSession": w.agent_session,  # its Claude Code session: the HUD joins on it
                    "updatedAt": _utc(w.updated_at),
                    "stateSince": _utc(entered.get(w.slug, w.updated_at)),  # the HUD's age of the state
                    "pullRequest": merge_pr(session.name, w.slug),
                }
            )
        item: dict[str, Any] = {"session": session.name, "repoRoot": session.repo_root, "workers": workers}
        rows = [w for w in store.workers(session.name) if not w.removed]
        queue = queue_snapshot(store, session, rows, background) if queues else old_queues.get(session.name)
        if queue is not None:
            item["queue"] = queue
        sessions.append(item)
    from ecc_hooks.core.text import dump_json  # a file others read: every string redacted, inert in a terminal

    data = dump_json({"sessions": sessions}, indent=True)
    path = os.path.join(paths.home(), "runtime", "workers.json")
    try:
        if fsio.read_file(path, 1 << 24) == data:
            return
    except (OSError, ValueError):
        pass
    fsio.atomic_write(path, data, durable=False)


def merge_pr(session: str, slug: str) -> Optional[str]:
    return merge.pull_request_url(session, slug)


def _previous_queues() -> dict[str, Any]:
    """The queues the supervisor last wrote (the CLI's own exports keep them rather than compute them)."""
    try:
        data = json.loads(fsio.read_file(os.path.join(paths.home(), "runtime", "workers.json"), 1 << 24))
    except (OSError, ValueError):
        return {}
    return {s["session"]: s["queue"] for s in data.get("sessions", []) if isinstance(s, dict) and "queue" in s}
