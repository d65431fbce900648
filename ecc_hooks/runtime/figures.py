"""A runtime worker's own figures for ``session status``: cost, context used, tool calls, elapsed.

A Claude Code worker starts with a session id the runtime chose (``worker.agent_session``; a background session's
is the service's, learned at launch), so its hook journal, its transcript and its status line sensor are found by
that id, and its figures are the ``ecc.hud-status.v1`` payload ``ecc-hooks status`` builds for it: the same usage
engine the status line uses (cost from the sensor when Claude Code reported one, else computed from the transcript
by Claude Code's rules; context as its screen shows it). What runs is said as it is: the agent's name when the
runtime launched the agent itself, ``script`` for a ``launcherCommand``.
"""

from __future__ import annotations

import os
import time
from typing import Any, Optional

from ecc_hooks.core import errorlog, paths
from ecc_hooks.runtime import store as st


def real_agent(worker: st.Worker) -> str:
    """What the worker runs: its agent, when the runtime launched it; ``script`` for a ``launcherCommand``."""
    return worker.agent if worker.agent and worker.agent_launch else "script"


def elapsed(worker: st.Worker, now: Optional[float] = None) -> Optional[float]:
    """Seconds since its (last) launch, until it finished; None before it started."""
    if worker.started_at is None:
        return None
    end = worker.finished_at if worker.finished_at and worker.state not in (*st.OCCUPYING,) else None
    return max((end or (now if now is not None else time.time())) - worker.started_at, 0.0)


def of(worker: st.Worker, now: Optional[float] = None) -> dict[str, Any]:
    """The worker's figures (``models.session.WorkerFigures``'s fields): null where not known."""
    figures: dict[str, Any] = {
        "agent": real_agent(worker),
        "sessionId": worker.agent_session,
        "costUsd": None,
        "contextUsedPct": None,
        "toolCalls": None,
        "elapsedSeconds": elapsed(worker, now),
    }
    if worker.agent_session and os.path.isfile(paths.journal_path(worker.agent_session)):
        try:
            figures.update(_from_session(worker.agent_session))
        except Exception as exc:  # a damaged journal or transcript: the figures stay unknown, the status shows
            errorlog.log_error("runtime.figures", f"{worker.session}/{worker.slug}: {exc}")
    return figures


def _from_session(session_id: str) -> dict[str, Any]:
    from ecc_hooks.hud import inputs

    payload = inputs.session_payload(session_id, use_gh=False)
    window = payload.context.contextWindow
    return {
        "costUsd": payload.cost.sessionUsd,
        "contextUsedPct": window.usedPct if window is not None else None,
        "toolCalls": payload.toolCalls.total,
    }
