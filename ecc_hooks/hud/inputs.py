"""Gather one session's ``PayloadInputs`` (journal, status line sensor, transcripts, git, gh) and build its payload.

All the I/O of the HUD lives here; ``aggregate`` stays pure. Everything is read-only: no file under
``ECC_HOOKS_HOME`` is created, rewritten or touched (the status CLI promises that), and every source
degrades to "unknown" on its own (a missing transcript, no git, no gh) instead of failing the payload.
Used by ``python -m ecc_hooks.status`` (``gather_inputs``) and by the watcher (``inputs_from_parts``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, Optional

import orjson

from ecc_hooks.core import fsio, paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.hud import aggregate
from ecc_hooks.hud.state import SessionState
from ecc_hooks.models.hud import HandoffSync, HudStatus, LinearSync
from ecc_hooks.sources import git as gitstate
from ecc_hooks.sources.facts import GitHubFacts
from ecc_hooks.sources.github import github_facts

LINEAR_ENV = {
    "project": "ECC_HOOKS_LINEAR_PROJECT",
    "health": "ECC_HOOKS_LINEAR_HEALTH",
    "issueCapacityBlocked": "ECC_HOOKS_LINEAR_CAPACITY_BLOCKED",
    "latestStatusUpdateId": "ECC_HOOKS_LINEAR_STATUS_UPDATE_ID",
}


# ---------------------------------------------------------------------------- sessions


def list_sessions() -> list[tuple[str, int]]:
    """(session id, journal mtime in ns) of every session with a journal, most recently changed first."""
    try:
        entries = list(os.scandir(paths.sessions_dir()))
    except OSError:
        return []
    found = []
    for entry in entries:
        if paths.sanitize_session_id(entry.name) != entry.name:
            continue
        try:
            found.append((entry.name, os.stat(paths.journal_path(entry.name)).st_mtime_ns))
        except OSError:
            continue
    found.sort(key=lambda item: (item[1], item[0]), reverse=True)
    return found


def resolve_session(session_id: str) -> str:
    """Check a session id given by a user: safe as a path component and with a journal, else UserError."""
    if paths.sanitize_session_id(session_id) != session_id:
        raise UserError(
            f"not a valid session id: {session_id!r} (ids are the session_id Claude Code reports; list them with --all)"
        )
    if not os.path.isfile(paths.journal_path(session_id)):
        raise UserError(
            f"no journal for session {session_id!r} under {paths.sessions_dir()} "
            "(is ECC_HOOKS_HOME right? list sessions with --all)"
        )
    return session_id


# ---------------------------------------------------------------------------- readers


def iter_journal(session_id: str, block: int = 1 << 22) -> Iterator[dict[str, Any]]:
    """Every complete, parseable record of the session's journal, streamed a block at a time (memory stays
    bounded whatever the journal's size); a torn or bad line is skipped, the part after the last newline
    (maybe half-written) is left out."""
    cursor = fsio.Cursor()
    path = paths.journal_path(session_id)
    while True:
        chunk = fsio.read_new_block(path, cursor, block)
        if not chunk.data or chunk.reset and cursor != fsio.Cursor():
            return  # the end, or the journal was replaced while we read it
        cursor = chunk.cursor
        for line in chunk.data.split(b"\n")[:-1]:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def read_journal(session_id: str) -> list[dict[str, Any]]:
    """``iter_journal`` as a list (small journals: inspect's adapters)."""
    return list(iter_journal(session_id))


def read_json_file(path: str) -> Optional[dict[str, Any]]:
    """A JSON object file, or None when it is missing or unreadable."""
    try:
        data = orjson.loads(fsio.read_file(path, 1 << 22))
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def handoff_info(session_id: str) -> HandoffSync:
    """The last handoff from ``sessions/<id>/handoff.json``: written means the document exists now."""
    record = read_json_file(paths.handoff_record_path(session_id)) or {}
    path = record.get("path") if isinstance(record.get("path"), str) and record.get("path") else None
    return HandoffSync(path=path, written=bool(path and os.path.isfile(os.path.expanduser(path))))


def linear_from_env(env: Mapping[str, str]) -> Optional[LinearSync]:
    """The Linear sync block from ``ECC_HOOKS_LINEAR_*`` (null without a project)."""
    project = env.get(LINEAR_ENV["project"], "").strip()
    if not project:
        return None
    blocked = env.get(LINEAR_ENV["issueCapacityBlocked"], "").strip().lower()
    return LinearSync(
        project=project,
        health=env.get(LINEAR_ENV["health"], "").strip() or None,
        issueCapacityBlocked={"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
            blocked
        ),
        latestStatusUpdateId=env.get(LINEAR_ENV["latestStatusUpdateId"], "").strip() or None,
    )


def usage_for(transcript_path: Optional[str], sensor: dict[str, Any], env: Mapping[str, str]) -> Any:
    """The usage engine's ``SessionUsage`` of a transcript (None when there is none to read)."""
    if not transcript_path or not os.path.isfile(transcript_path):
        return None
    from ecc_hooks.sources.usage import UsageTracker

    tracker = UsageTracker(transcript_path, env=env)
    return tracker.update(statusline=sensor or None)


# ---------------------------------------------------------------------------- payload


def gather_inputs(
    session_id: str,
    state: SessionState,
    *,
    now: datetime,
    env: Optional[Mapping[str, str]] = None,
    git_timeout: float = gitstate.DEFAULT_TIMEOUT,
    use_gh: bool = True,
) -> aggregate.PayloadInputs:
    """Everything besides the journal that the payload of ``session_id`` needs, read from disk, git and gh.

    It reads the sensor, the transcripts, git and gh, then derives the rest in ``inputs_from_parts``
    (the one place for budget, controls, Linear and handoff, shared with the watcher).
    """
    env = os.environ if env is None else env
    sensor = read_json_file(paths.statusline_sensor_path(session_id)) or {}
    usage = usage_for(_transcript_of(state, sensor), sensor, env)
    cwd = state.cwd or (sensor.get("cwd") if isinstance(sensor.get("cwd"), str) else None)
    git = gitstate.read_git_state(cwd, timeout=git_timeout)
    gh = github_facts(cwd, git) if use_gh else None
    return inputs_from_parts(session_id, state, now=now, sensor=sensor, usage=usage, git=git, env=env, gh=gh)


def _transcript_of(state: SessionState, sensor: Mapping[str, Any]) -> Optional[str]:
    """The main transcript: from the journal, else from the status line sensor."""
    path = sensor.get("transcript_path")
    return state.transcript_path or (path if isinstance(path, str) else None)


def session_payload(session_id: str, now: Optional[datetime] = None, **kwargs: Any) -> HudStatus:
    """The ``ecc.hud-status.v1`` payload of one session, rebuilt from its journal and the other sources."""
    resolve_session(session_id)
    now = now or datetime.now(timezone.utc)
    state = aggregate.fold_all(iter_journal(session_id))
    state.session_id = state.session_id or session_id
    return aggregate.build_payload(state, gather_inputs(session_id, state, now=now, **kwargs))


def inputs_from_parts(
    session_id: str,
    state: SessionState,
    *,
    now: datetime,
    sensor: dict[str, Any],
    usage: Any,
    git: gitstate.GitState,
    env: Optional[Mapping[str, str]] = None,
    gh: Optional[GitHubFacts] = None,
) -> aggregate.PayloadInputs:
    """``gather_inputs`` for a caller that already holds the sensor, the usage and git (the watcher's seam).

    The watcher keeps an incremental ``UsageTracker`` and cached git/gh facts, so it hands them in
    instead of having them re-read; budget, controls, Linear and handoff are derived here for both.
    ``gh`` is what ``github_facts`` returned, or None when gh was not consulted.
    """
    env = os.environ if env is None else env
    transcript = _transcript_of(state, sensor)
    from ecc_hooks.sources.usage import budget_from_env, default_price_table

    budget, configured = budget_from_env(env)
    try:
        policy = dict(default_price_table().budget)
    except Exception:
        policy = {}
    controls = aggregate.session_controls(
        transcript=bool(transcript and os.path.isfile(transcript)),
        claude=shutil.which("claude") is not None,
        git_worktree=git.worktree is not None,
        gh_ready=gh is not None and gh.ready,
        remote_repo=git.repo is not None,
    )
    return aggregate.PayloadInputs(
        now=now,
        sensor=sensor,
        usage=usage,
        git=git,
        github=gh,
        budget_usd=None if budget is None else float(budget),
        budget_configured=configured,
        budget_policy=policy,
        linear=linear_from_env(env),
        handoff=handoff_info(session_id),
        controls=controls,
    )
