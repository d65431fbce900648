"""Our own sessions: ``$ECC_HOOKS_HOME/sessions/<id>/events.jsonl`` folded by ``aggregate``.

Targets: ``latest`` (the journal written last) and a session id. Kind ``claude-code``: the workers are the
main agent and its subagents, live states from the hooks.
"""

from __future__ import annotations

import os

from ecc_hooks.core import paths
from ecc_hooks.handoff.adapters import _claude
from ecc_hooks.handoff.adapters._common import Context, Inspection, Target, TargetError
from ecc_hooks.hud import inputs as collect
from ecc_hooks.models.session import SessionKind

ADAPTER_ID = "journal"
DESCRIPTION = "ecc-hooks journals ($ECC_HOOKS_HOME/sessions/<id>/events.jsonl)"
TARGET_TYPES = ("latest", "session-id")


def latest_session_id() -> str | None:
    """The session whose journal was written last."""
    sessions = collect.list_sessions()
    return sessions[0][0] if sessions else None


def journal_exists(session_id: str) -> bool:
    """Whether ``session_id`` names one of our journals (hostile ids never do)."""
    if paths.sanitize_session_id(session_id) != session_id:
        return False
    return os.path.isfile(paths.journal_path(session_id))


def inspect(target: Target, ctx: Context) -> Inspection:
    """Fold the journal, then describe the session (git, usage, HUD risk reasons)."""
    if target.type == "latest":
        session_id = latest_session_id()
        if session_id is None:
            raise TargetError(
                f"no session journals under {paths.sessions_dir()} (is ecc-hooks installed? run: ecc-hooks doctor)"
            )
    else:
        session_id = target.value
        if not journal_exists(session_id):
            raise TargetError(f"no journal for session {session_id!r} under {paths.sessions_dir()}")
    state, checkpoint, _ = collect.fold_session(session_id)  # the watcher's checkpoint when usable: no full fold
    return _claude.inspection(
        state,
        session_id=session_id,
        adapter_id=ADAPTER_ID,
        kind=SessionKind.claude_code,
        title=f"{_claude.AGENT_TITLES.get(state.harness or '', 'Claude Code')} session {session_id}",
        tools=dict(sorted(state.tool_names.items(), key=lambda kv: (-kv[1], kv[0]))),
        usage=_claude.usage_of(
            state.transcript_path, checkpoint.usage if checkpoint is not None else None, state.harness, session_id
        ),
        recorded=False,
        target=target,
        ctx=ctx,
    )
