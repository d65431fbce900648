"""The HUD's controls as runtime requests, with no Textual: which control applies to a row, and the request that
runs it. The app sends each through ``runtime.client`` on a worker thread, exactly as the CLI does, so the HUD
and ``ecc-hooks session ...`` can never disagree about what a control does (the supervisor runs mutations, the
engine refuses what would lose work, and the refusal's message is what the person reads).

A runtime worker is controlled by its session and slug. A Claude Code session that runs outside the runtime can
only be looked at and answered (approve, deny, send) through the tmux pane its hooks recorded.
"""

from __future__ import annotations

from typing import Any, Optional

from ecc_hooks.runtime import records as rec
from ecc_hooks.tui.model import FAILED, FINISHED, NEEDS, Row

WORKER_ONLY = ("stop", "resume", "retry", "logs", "diff", "pr", "resolve", "cleanup")
RUNNING = ("running", "waiting", "idle", "starting", "pending")


# what reaches a plain session's tmux pane (``runtime.interact``'s checks are Claude Code's: its screen, its keys)
PANE_CONTROLS = frozenset({"send", "approve", "deny", "attach", "screen"})


def why_not(control: str, row: Optional[Row]) -> Optional[str]:
    """Why ``control`` does not apply to ``row`` now (None: it does). Said in the footer's place when pressed."""
    if control in ("queues", "apply", "create", "daemons", "help", "quit", "filter"):
        return None
    if row is None:
        return "no row selected"
    if control in WORKER_ONLY and row.runtime is None:
        return f"{row.name} is not a runtime worker (start workers with `ecc-hooks session create`)"
    if control in ("approve", "deny") and row.group != NEEDS:
        return f"{row.name} is not waiting for a person"
    if control == "stop" and row.state not in RUNNING:
        return f"{row.name} is {row.state}: nothing runs to stop"
    if control == "retry" and row.group != FAILED and row.state != "stopped":
        return f"{row.name} is {row.state}: only a failed, stopped or stale worker is retried"
    if control == "resume" and row.group not in (FINISHED, FAILED):
        return f"{row.name} is {row.state}: resume a finished or stopped worker"
    if control in ("send", "approve", "deny", "attach") and row.runtime is None and row.session_id is None:
        return f"{row.name} has no session to reach"
    if control in PANE_CONTROLS and row.runtime is None and row.agent != "claude":
        return (
            f"{row.name} is a {row.agent} session started outside the runtime: answer it in its own terminal "
            "(only Claude Code sessions and runtime workers are answered from here)"
        )
    return None


def request(control: str, row: Row, **extra: Any) -> Any:
    """The runtime request for ``control`` on ``row`` (``why_not`` said it applies)."""
    if row.runtime is not None:
        session, worker = row.runtime
        made = {
            "approve": lambda: rec.Approve(session, worker, extra.get("screen")),
            "deny": lambda: rec.Deny(session, worker, extra.get("screen")),
            "send": lambda: rec.Send(session, worker, extra["text"], extra.get("screen")),
            "stop": lambda: rec.Stop(session, worker),
            "resume": lambda: rec.Resume(session, worker),
            "retry": lambda: rec.Retry(session, worker),
            "logs": lambda: rec.Logs(session, worker),
            "diff": lambda: rec.Diff(session, worker, patch=True),
            "pr": lambda: rec.PullRequest(session, worker),
            "resolve": lambda: rec.Resolve(session, worker),
            "cleanup": lambda: rec.Cleanup(session, worker, force=bool(extra.get("force"))),
            "attach": lambda: rec.Attach(session, worker),
            "screen": lambda: rec.Screen(session, worker),
        }
        return made[control]()
    sid = row.session_id or ""
    made = {
        "approve": lambda: rec.PaneApprove(sid, extra.get("screen")),
        "deny": lambda: rec.PaneDeny(sid, extra.get("screen")),
        "send": lambda: rec.PaneSend(sid, extra["text"], extra.get("screen")),
        "screen": lambda: rec.PaneScreen(sid),
    }
    if control not in made:
        raise ValueError(f"{control} does not apply to a session outside the runtime")
    return made[control]()


def outcome(control: str, data: Any) -> str:
    """One line saying what a control did, from its reply's data."""
    if isinstance(data, rec.InputData):
        return f"{data.worker}: {data.what}"
    if isinstance(data, rec.StopData):
        return "; ".join(f"{o.worker}: {o.what}" for o in data.stopped) or "nothing to stop"
    if isinstance(data, rec.ResumeData):
        return "resumed " + (", ".join(data.resumed) or "nothing")
    if isinstance(data, rec.RetryData):
        return "retrying " + (", ".join(data.retried) or "nothing")
    if isinstance(data, rec.CleanupData):
        return "cleanup queued: " + (", ".join(data.queued) or "nothing")
    if isinstance(data, rec.QueueData):
        merged = "; ".join(f"{o.worker}: {o.what}" for o in data.merged)
        return merged or "nothing to merge"
    if isinstance(data, rec.PullRequestData):
        return f"pull request: {data.url}"
    if isinstance(data, rec.ResolveData):
        return f"{data.agent} started on {data.worker}'s conflicts"
    if isinstance(data, rec.CreateData):
        return f"created {data.session}: {len(data.workers)} worker(s)"
    return f"{control}: done"
