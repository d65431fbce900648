"""What a worker is doing, from the best source it has, in this order:

1. **Its hook journal** (Claude Code workers, started with ``--session-id`` we chose): working, waiting for a
   person (permission, a question), idle at the prompt, finished (its turn ended: completed, or failed when its
   last run of a check failed or the API call failed). A SessionEnd after the turn ended (every ``claude -p`` run
   ends so) keeps that verdict; one in the middle of a turn is a failure.
2. **Its process**: the pane's (or headless process's) pid with the start time recorded at launch, so a reused
   pid is not alive; the exit status the launch wrapper writes (``exit-<launch>``) says how it ended.
3. **Its screen** (agents without hooks of ours): a hash of ``capture-pane`` (a change is a heartbeat) and the
   agent's own patterns for waiting and working.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from ecc_hooks.core import fsio
from ecc_hooks.hud.state import IDLE_WAIT

# a worker whose call was rejected at its permission prompt waits for the person to say what to do instead
DENIED = "a call was denied at its permission prompt: it asks what to do instead (session send)"

# the main conversation's events that say where its turn is
TURN_EVENTS = frozenset({"SessionStart", "UserPromptSubmit", "Stop", "StopFailure", "SessionEnd"})


@dataclass
class JournalFollower:
    """One worker's hook journal, folded as it grows."""

    path: str
    state: Any = None  # hud.state.SessionState (the fold is imported with the first follower, not before)
    cursor: fsio.Cursor = field(default_factory=fsio.Cursor)
    last_turn_event: Optional[str] = None
    turn_end: Optional[str] = None  # how its last turn ended (Stop, StopFailure); None while one runs
    prompts: int = 0
    # a relaunch that continues the same session (``--resume <id>``): only its own events count, those written
    # from its launch on (epoch seconds; None: every event)
    since: Optional[float] = None

    def __post_init__(self) -> None:
        from ecc_hooks.hud.state import SessionState

        self.state = self.state or SessionState()

    def poll(self) -> bool:
        """Fold what was appended since the last poll; whether anything was."""
        import orjson

        from ecc_hooks.hud import aggregate
        from ecc_hooks.hud.state import SessionState

        block = fsio.read_new_block(self.path, self.cursor)
        if block.reset:
            self.state, self.last_turn_event, self.turn_end, self.prompts = SessionState(), None, None, 0
        self.cursor = block.cursor
        if not block.data:
            return block.reset
        for line in block.data.split(b"\n")[:-1]:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(record, dict) or not self._current(record):
                continue
            aggregate.fold(self.state, record)
            name = record.get("event")
            if name in TURN_EVENTS and not record.get("agentId"):
                self.last_turn_event = name
                self.prompts += name == "UserPromptSubmit"
                if name in ("Stop", "StopFailure", "UserPromptSubmit"):
                    self.turn_end = None if name == "UserPromptSubmit" else name
        return True

    def _current(self, record: dict[str, Any]) -> bool:
        """Whether the record belongs to this launch (written at or after ``since``, to the millisecond)."""
        if self.since is None:
            return True
        from ecc_hooks.core.timestamps import parse_iso

        at = parse_iso(record.get("ts"))
        return at is None or at.timestamp() >= int(self.since * 1000) / 1000

    @property
    def seen(self) -> bool:
        return self.state.events > 0

    def verdict(self) -> tuple[str, Optional[str]]:
        """(worker state, reason) from the journal."""
        state = self.state
        if state.turn_state == "waiting" and not self.idle_wait:
            return "waiting", state.waiting_for
        ended = self.last_turn_event
        if ended == "SessionEnd":  # the client exited: a finished worker when its turn had ended (``claude -p``)
            if state.ended_mid_turn or self.turn_end is None:
                return "failed", f"the session ended ({state.ended_reason or 'other'}) before its turn did"
            ended = self.turn_end
        if ended == "StopFailure":
            errors = state.stop_failures
            return "failed", f"the API call failed: {errors[-1] if errors else 'unknown error'}"
        if ended == "Stop":
            failing = [command for command, run in state.checks.items() if run.status == "fail"]
            if failing:
                return "failed", f"check failed: {failing[-1]}"
            return "completed", None
        if self.prompts and self.turn_end is None and not state.in_turn and state.turn_state == "idle":
            # a call rejected at its permission prompt (``session deny``, or Esc): the client ends the turn and asks
            # "What should Claude do instead?" (no hook fires: the watcher reads it from the transcript)
            return "waiting", DENIED
        if state.turn_state == "running" or self.prompts:
            return "running", None
        return "idle", "at its prompt"

    @property
    def idle_wait(self) -> bool:
        """It waits at the client's idle prompt ("Claude is waiting for your input"), outside any turn: a person's
        own session waits for their next prompt there, a worker whose turn ended has done its task."""
        state = self.state
        return state.waiting_for == IDLE_WAIT and state.waiting_agent is None and not state.in_turn

    def checks(self) -> list[tuple[str, str]]:
        return [(command, run.status) for command, run in self.state.checks.items()]

    def risks(self) -> list[str]:
        state = self.state
        out = [f"tool calls denied: {state.tool_denied}"] if state.tool_denied else []
        out += [f"failed command: {f.command}" for f in state.failed_commands[-5:]]
        return out


FIND_TAIL = 1 << 20  # bytes of a journal read when looking for a worker's SessionStart


def find_session(
    session: str, worker: str, since: Optional[float], read: Optional[dict[str, fsio.Cursor]] = None
) -> Optional[str]:
    """The agent session of a runtime worker whose id we could not choose (Codex, OpenCode, Aider choose their
    own): the one whose SessionStart names the worker (the ``runtime`` field the hook records from
    ``$ECC_SESSION`` and ``$ECC_WORKER``) and came at or after ``since`` (this launch: an earlier launch's session
    is not this one's). Cheap: only journals written to since ``since`` are read, at first only their last MB, then
    (``read``: where each was read up to, kept by the caller between passes) only what they gained. The earliest
    such SessionStart wins (a subagent's session starts later). None: none yet."""
    from ecc_hooks.core import paths

    read = {} if read is None else read
    floor = int((since or 0) * 1000) / 1000
    best: Optional[tuple[float, str]] = None
    try:
        entries = list(os.scandir(paths.sessions_dir()))
    except OSError:
        return None
    for entry in entries:
        journal = os.path.join(entry.path, "events.jsonl")
        try:
            info = os.lstat(journal)
        except OSError:
            continue
        if info.st_mtime < floor - 1:
            continue
        start = read.get(journal) or fsio.Cursor(info.st_dev, info.st_ino, max(info.st_size - FIND_TAIL, 0))
        block = fsio.read_new_block(journal, start)
        read[journal] = block.cursor
        at = _start_naming(block.data, {"session": session, "worker": worker}, floor)
        if at is not None and (best is None or at < best[0]):
            best = (at, entry.name)  # the folder whose journal the follower reads
    return best[1] if best else None


def _start_naming(data: bytes, wanted: dict[str, str], floor: float) -> Optional[float]:
    """When the earliest SessionStart in ``data`` naming the runtime worker ``wanted`` came (at or after
    ``floor``), or None."""
    import orjson

    from ecc_hooks.core.timestamps import parse_iso

    found: Optional[float] = None
    for line in data.split(b"\n"):
        if b'"SessionStart"' not in line or b'"runtime"' not in line:
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # the cut first line of a tail, or a torn one
        if not isinstance(record, dict) or record.get("event") != "SessionStart" or record.get("runtime") != wanted:
            continue
        at = parse_iso(record.get("ts"))
        if at is not None and at.timestamp() >= floor and (found is None or at.timestamp() < found):
            found = at.timestamp()
    return found


def fingerprint(screen: str) -> str:
    """A short hash of what a pane shows (its change is a heartbeat)."""
    return hashlib.blake2b(screen.encode("utf-8", "replace"), digest_size=8).hexdigest()
