"""Gather one session's ``PayloadInputs`` (journal, status line sensor, transcripts, git, gh) and build its payload.

All the I/O of the HUD lives here; ``aggregate`` stays pure. Everything is read-only: no file under
``ECC_HOOKS_HOME`` is created, rewritten or touched (the status CLI promises that), and every source
degrades to "unknown" on its own (a missing transcript, no git, no gh) instead of failing the payload.
Used by ``python -m ecc_hooks.status`` (``gather_inputs``) and by the watcher (``inputs_from_parts``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

import orjson

from ecc_hooks.core import fsio, paths, terminal
from ecc_hooks.core.errors import UserError
from ecc_hooks.hud import aggregate
from ecc_hooks.hud.state import GUARD_BYTES, STATE_SCHEMA, SessionState
from ecc_hooks.models.hud import HandoffSync, HudStatus, LinearSync, SnapshotOrigin
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
    """A session id given by a user (the whole id or any unique prefix of one) as the full id of a session with a
    journal; else UserError naming the candidates."""
    if not session_id or paths.sanitize_session_id(session_id) != session_id:
        raise UserError(
            f"not a valid session id: {session_id!r} (ids are the session_id Claude Code reports; list them with "
            "`ecc-hooks status --all`)"
        )
    if os.path.isfile(paths.journal_path(session_id)):
        return session_id
    matches = [sid for sid, _ in list_sessions() if sid.startswith(session_id)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(m[: max(len(session_id) + 4, 12)] for m in matches[:5])
        raise UserError(
            f"{session_id!r} matches {len(matches)} sessions ({shown}{', ...' if len(matches) > 5 else ''}); give more of the id"
        )
    raise UserError(
        f"no session {session_id!r} under {paths.sessions_dir()} (is ECC_HOOKS_HOME right? list sessions with "
        "`ecc-hooks status --all`)"
    )


TERMINAL_SCAN = 4 << 20  # bytes read from each end of a journal for its SessionStart events
SUCCESSORS_SCANNED = 64  # sessions changed since, looked at for one that started in the same pane
SUCCESSOR_SCAN = 1 << 18  # bytes read at each end of such a session's journal


@dataclass(frozen=True)
class SessionTerminal:
    """Where a Claude Code session runs in tmux: its server's socket and its pane, as its latest SessionStart
    recorded them (``core.terminal``), when (that event's ``ts``), and whether a SessionEnd followed it."""

    session_id: str
    socket: str
    pane: str
    since: str
    ended: bool = False


def _last_terminal(session_id: str, block: bytes, ended: bool = False) -> tuple[Optional[SessionTerminal], bool]:
    """The last SessionStart of ``block`` (complete journal lines; a cut one is skipped) with a valid ``tmux``, and
    whether a SessionEnd of the session itself (not a subagent's) came after it (``ended``: one came after the
    block)."""
    for line in reversed(block.split(b"\n")):
        start = b'"SessionStart"' in line and b'"tmux"' in line
        if not start and b'"SessionEnd"' not in line:
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(record, dict) or record.get("agentId"):
            continue
        if record.get("event") == "SessionEnd":
            ended = True
            continue
        where = terminal.checked(record.get("tmux")) if record.get("event") == "SessionStart" else None
        if where is not None:
            return SessionTerminal(session_id, where[0], where[1], str(record.get("ts") or ""), ended), ended
    return None, ended


def session_terminal(session_id: str, scan: Optional[int] = None) -> Optional[SessionTerminal]:
    """Where session ``session_id`` runs in tmux: its latest SessionStart that recorded a pane (a session resumed
    in another pane is where it started last); None when none did, the id is not a session's, or its journal
    cannot be read. Bounded: the journal's last ``TERMINAL_SCAN`` bytes, and its first as many when it is longer
    (where the session started); ``scan`` bytes instead when given. Textual-free: the HUD calls it for a plain
    session's screen and permission prompt (the runtime checks the pane again before it presses a key)."""
    if not session_id or paths.sanitize_session_id(session_id) != session_id:
        return None
    path = paths.journal_path(session_id)
    scan = scan or TERMINAL_SCAN
    try:
        tail = fsio.read_tail(path, scan)
        found, ended = _last_terminal(session_id, tail)
        if found is None and len(tail) >= scan:
            found, _ = _last_terminal(session_id, fsio.read_file(path, scan), ended)
    except OSError:
        return None
    return found


def pane_successor(where: SessionTerminal) -> Optional[str]:
    """Another session that started in the same pane after ``where`` (its id): that pane no longer runs
    ``where``'s session. Bounded: only journals written since ``where`` started, at most ``SUCCESSORS_SCANNED`` of
    them, each read ``SUCCESSOR_SCAN`` bytes at either end (a later session's SessionStart is near its start)."""
    from ecc_hooks.core.timestamps import parse_iso

    started = parse_iso(where.since)
    since_ns = int(started.timestamp() * 1e9) if started else 0
    for other, changed_ns in list_sessions()[:SUCCESSORS_SCANNED]:
        if changed_ns < since_ns:
            break  # newest first: no journal older than that SessionStart holds a later one
        if other == where.session_id:
            continue
        found = session_terminal(other, SUCCESSOR_SCAN)
        if found and (found.socket, found.pane) == (where.socket, where.pane) and found.since > where.since:
            return other
    return None


# ---------------------------------------------------------------------------- readers


def fold_journal(
    session_id: str, state: SessionState, cursor: fsio.Cursor = fsio.Cursor(), guard: bytes = b""
) -> tuple[SessionState, fsio.Cursor, bytes, int, bool]:
    """Fold the journal's complete records after ``cursor`` into ``state``, a block at a time (memory stays
    bounded whatever the journal's size; a torn or bad line is skipped, a half-written last line is left for
    the next read). A journal replaced or rewritten under the cursor is folded again from its first byte, into
    a fresh state. Returns the state, the new cursor and guard, how many records were folded and whether it
    started over. The one journal reader: the watcher (incremental), status and inspect (from a checkpoint or
    from the start)."""
    path = paths.journal_path(session_id)
    folded, restarted = 0, False
    while True:
        chunk = fsio.read_new_block(path, cursor, guard=guard)
        if chunk.reset:
            state, guard, folded, restarted = SessionState(), b"", 0, True
        cursor = chunk.cursor
        if not chunk.data:
            return state, cursor, guard, folded, restarted
        folded += aggregate.fold_lines(state, chunk.data)
        guard = (guard + chunk.data)[-GUARD_BYTES:]


# ---------------------------------------------------------------------------- the watcher's checkpoint


@dataclass
class Checkpoint:
    """``watch-state.json``: how far the watcher folded the journal, what it folded, and its usage tracker."""

    cursor: fsio.Cursor
    guard: bytes
    state: SessionState
    usage: Optional[dict[str, Any]]  # UsageTracker.to_state(), None before the transcript was known

    def dumps(self, session_id: str) -> bytes:
        """The document ``load_checkpoint`` reads: cursor, folded state and tracker state together."""
        return orjson.dumps(
            {
                "schema": STATE_SCHEMA,
                "sessionId": session_id,
                "journal": {
                    "dev": self.cursor.dev,
                    "ino": self.cursor.ino,
                    "offset": self.cursor.offset,
                    "guard": self.guard.hex(),
                },
                "state": self.state,  # orjson writes dataclasses natively (as to_dict would, much faster)
                "usage": self.usage,
            }
        )


def load_checkpoint(session_id: str) -> Checkpoint:
    """The session's checkpoint; FileNotFoundError when there is none, ValueError (or another error) when it
    cannot be used."""
    doc = orjson.loads(fsio.read_file(paths.watch_state_path(session_id)))
    if not isinstance(doc, dict) or doc.get("schema") != STATE_SCHEMA:
        raise ValueError("not an ecc.watch-state.v1 document")
    journal = doc["journal"]
    state = doc["state"]
    if not isinstance(state, dict):
        raise ValueError("no folded state in the checkpoint")
    usage = doc.get("usage")
    return Checkpoint(
        fsio.Cursor(int(journal["dev"]), int(journal["ino"]), int(journal["offset"])),
        bytes.fromhex(journal.get("guard") or ""),
        SessionState.from_dict(state),
        usage if isinstance(usage, dict) else None,
    )


def fold_session(session_id: str) -> tuple[SessionState, Optional[Checkpoint], SnapshotOrigin]:
    """The session's folded state: the watcher's checkpoint plus the events after it when there is a usable one
    (a session of 100k events is then a few reads, not a fold from the first event), else the whole journal,
    streamed. Read-only: the checkpoint is never written here."""
    try:
        checkpoint: Optional[Checkpoint] = load_checkpoint(session_id)
    except Exception:  # none, or from a version we cannot read: the journal alone is the truth
        checkpoint = None
    if checkpoint is not None:
        state, _, _, newer, restarted = fold_journal(session_id, checkpoint.state, checkpoint.cursor, checkpoint.guard)
        origin = (
            SnapshotOrigin(source="journal") if restarted else SnapshotOrigin(source="checkpoint", newerEvents=newer)
        )
        checkpoint = None if restarted else checkpoint
    else:
        state = fold_journal(session_id, SessionState())[0]
        origin = SnapshotOrigin(source="journal")
    state.session_id = state.session_id or session_id
    return state, checkpoint, origin


def read_json_file(path: str) -> Optional[dict[str, Any]]:
    """A JSON object file, or None when it is missing or unreadable."""
    try:
        data = orjson.loads(fsio.read_file(path, 1 << 22))
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def runtime_view(git: gitstate.GitState) -> tuple[list[dict[str, Any]], list[Any], list[Any]]:
    """The runtime workers of the session's repository and their merge and conflict queues, from
    ``runtime/workers.json`` (the supervisor keeps it current): sessions whose ``repoRoot`` is this work tree
    or shares its git common dir."""
    if not git.worktree:
        return [], [], []
    data = read_json_file(os.path.join(paths.home(), "runtime", "workers.json")) or {}
    mine = {os.path.realpath(git.worktree)}
    if git.common_dir and os.path.basename(git.common_dir.rstrip("/")) == ".git":
        mine.add(os.path.realpath(os.path.dirname(git.common_dir.rstrip("/"))))
    out: list[dict[str, Any]] = []
    merges: list[Any] = []
    conflicts: list[Any] = []
    for session in data.get("sessions") if isinstance(data.get("sessions"), list) else []:
        if not isinstance(session, dict) or not isinstance(session.get("repoRoot"), str):
            continue
        if os.path.realpath(session["repoRoot"]) in mine and isinstance(session.get("workers"), list):
            out += [w for w in session["workers"] if isinstance(w, dict)]
            queue = session.get("queue") if isinstance(session.get("queue"), dict) else {}
            for key, into in (("mergeQueue", merges), ("conflictQueue", conflicts)):
                items = queue.get(key)
                into += [dict(e, session=session.get("session")) for e in items or [] if isinstance(e, dict)]
    return out, merges, conflicts


@functools.lru_cache(maxsize=1)
def merge_tree_git() -> bool:
    """Whether git has ``merge-tree --write-tree`` (2.38 or newer): the merge and conflict queues need it."""
    from ecc_hooks.core import proc

    done = proc.run(["git", "version"], timeout=5)
    found = re.search(rb"(\d+)\.(\d+)", done.out) if done.ok else None
    return bool(found) and (int(found.group(1)), int(found.group(2))) >= (2, 38)


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


def usage_for(
    transcript_path: Optional[str],
    sensor: dict[str, Any],
    env: Mapping[str, str],
    saved: Optional[dict[str, Any]] = None,
    harness: Optional[str] = None,
    session_id: str = "",
) -> Any:
    """The usage engine's ``SessionUsage`` of a transcript (None when there is none to read). ``saved``: a
    tracker state of the same transcript (the watcher's checkpoint), so only what was appended since is read.
    Another agent's session (``harness``) is read by its own reader (``harness.<name>.read_usage``)."""
    if harness:
        return harness_usage(harness, session_id, transcript_path, env)
    if not transcript_path or not os.path.isfile(transcript_path):
        return None
    from ecc_hooks.sources.usage import UsageTracker

    tracker = None
    if saved is not None and saved.get("transcriptPath") == os.path.abspath(transcript_path):
        try:
            tracker = UsageTracker.from_state(saved, env=env)
        except Exception:  # an older or damaged tracker state: read the transcripts from their start
            tracker = None
    tracker = tracker or UsageTracker(transcript_path, env=env)
    return tracker.update(statusline=sensor or None)


def harness_usage(harness: str, session_id: str, transcript_path: Optional[str], env: Mapping[str, str]) -> Any:
    """Another agent's ``SessionUsage`` from its own transcript, database or log; None when it cannot say (its
    figures then unknown, never guessed)."""
    from ecc_hooks import harness as agents

    try:
        return agents.module(harness).read_usage(session_id, transcript_path, env)
    except (OSError, ValueError, LookupError):  # a file vanishing mid-read, a damaged one, an unknown agent
        return None


# ---------------------------------------------------------------------------- payload


def gather_inputs(
    session_id: str,
    state: SessionState,
    *,
    now: datetime,
    env: Optional[Mapping[str, str]] = None,
    git_timeout: float = gitstate.DEFAULT_TIMEOUT,
    use_gh: bool = True,
    saved_usage: Optional[dict[str, Any]] = None,
    origin: Optional[SnapshotOrigin] = None,
) -> aggregate.PayloadInputs:
    """Everything besides the journal that the payload of ``session_id`` needs, read from disk, git and gh.

    It reads the sensor, the transcripts, git and gh, then derives the rest in ``inputs_from_parts``
    (the one place for budget, controls, Linear and handoff, shared with the watcher).
    """
    env = os.environ if env is None else env
    sensor = read_json_file(paths.statusline_sensor_path(session_id)) or {}
    usage = usage_for(_transcript_of(state, sensor), sensor, env, saved_usage, state.harness, session_id)
    cwd = state.cwd or (sensor.get("cwd") if isinstance(sensor.get("cwd"), str) else None)
    git = gitstate.read_git_state(cwd, timeout=git_timeout)
    gh = github_facts(cwd, git) if use_gh else None
    return inputs_from_parts(
        session_id, state, now=now, sensor=sensor, usage=usage, git=git, env=env, gh=gh, origin=origin
    )


def _transcript_of(state: SessionState, sensor: Mapping[str, Any]) -> Optional[str]:
    """The main transcript: from the journal, else from the status line sensor."""
    path = sensor.get("transcript_path")
    return state.transcript_path or (path if isinstance(path, str) else None)


def session_payload(session_id: str, now: Optional[datetime] = None, **kwargs: Any) -> HudStatus:
    """The ``ecc.hud-status.v1`` payload of one session, rebuilt from its journal and the other sources."""
    resolve_session(session_id)
    now = now or datetime.now(timezone.utc)
    state, checkpoint, origin = fold_session(session_id)
    saved = checkpoint.usage if checkpoint is not None else None
    inputs = gather_inputs(session_id, state, now=now, saved_usage=saved, origin=origin, **kwargs)
    return aggregate.build_payload(state, inputs)


COMPACTION_ENV = (
    "CLAUDE_CODE_AUTO_COMPACT_WINDOW",
    "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE",
    "DISABLE_AUTO_COMPACT",
    "DISABLE_COMPACT",
)


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
    origin: Optional[SnapshotOrigin] = None,
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
    workers, merges, conflicts = runtime_view(git)
    controls = aggregate.session_controls(
        transcript=bool(transcript and os.path.isfile(transcript)),
        claude=shutil.which("claude") is not None,
        git_worktree=git.worktree is not None,
        gh_ready=gh is not None and gh.ready,
        remote_repo=git.repo is not None,
        tmux=shutil.which("tmux") is not None,
        runtime_workers=workers,
        merge_tree=merge_tree_git(),
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
        runtime_workers=workers,
        merge_queue=merges,
        conflict_queue=conflicts,
        origin=origin,
        env={k: v for k, v in env.items() if k.startswith(COMPACTION_ENV)},
    )
