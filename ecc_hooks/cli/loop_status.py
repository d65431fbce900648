"""``python -m ecc_hooks.loop_status``: find long-running loops that are stuck, from their transcripts.

Scans the most recently changed transcripts under ``${CLAUDE_CONFIG_DIR:-~/.claude}/projects/`` (or the
``--transcript`` files given) and reports per session (``ecc.loop-status.v1``), reading each line the way ECC's
``scripts/loop-status.js`` does (``tests/fixtures/ecc-parity/loop-status-deviations.json`` lists where we differ
on purpose, and why):

- ``schedule_wakeup_overdue``: the latest ScheduleWakeup is due at call time + delay (``delaySeconds``, or
  ``delay_seconds``/``seconds``/``delay``, numbers or numeric text, clamped to [60, 3600] as the runtime does; a
  ``stop: true`` call ends the loop). Once call time + delay x ``--wake-grace-multiplier`` (2) is reached with no
  assistant line at or after the due time, the wakeup never fired;
- ``pending_bash_tool_result``: a Bash ``tool_use`` with no ``tool_result`` for ``--bash-threshold-seconds``
  (30 minutes by default, whole seconds as ECC counts them): a hung command holding the loop;
- ``transcript_parse_errors``: lines that are not JSON (a torn or corrupted write). JSON that is not an object
  (``123``, ``"s"``) is an event that says nothing, as for ECC.

Times are read as JavaScript's ``new Date`` reads them (``core.jsvalues``): a time without a zone is local time,
numbers are epoch milliseconds, a line without a time takes the latest time seen before it.
``--exit-code`` exits 2 when a session needs attention, else 1 when a transcript could not be read.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson

from ecc_hooks.core import fsio, jsvalues, paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import dump_json, human, resume_command
from ecc_hooks.models.loop_status import (
    IndexEntry,
    LatestWake,
    LoopSession,
    LoopSource,
    LoopStatus,
    LoopStatusIndex,
    LoopStatusSession,
    PendingTool,
    ScanError,
    Signal,
)

BASH_THRESHOLD_SECONDS = 1800.0
WAKEUP_MIN, WAKEUP_MAX = 60.0, 3600.0  # the runtime clamps delaySeconds to this range (its ScheduleWakeup schema)
WAKE_GRACE = 2.0  # a wakeup is overdue once delay x this has passed since the call with no wake-up (ECC's default)
DEFAULT_LIMIT = 10  # ECC's
MAX_ERROR_LINES = 10
DELAY_KEYS = ("delaySeconds", "delay_seconds", "seconds", "delay")  # ECC's readDelaySeconds, in its order
RECOMMENDATIONS = (  # ECC's buildRecommendation, in its order of precedence
    ("pending_bash_tool_result", "Open the transcript or interrupt the parked session; the Bash result appears stale."),
    ("schedule_wakeup_overdue", "Open the transcript or interrupt the parked session; the scheduled wake is overdue."),
    ("transcript_parse_errors", "Inspect the transcript; some JSONL lines could not be parsed."),
)
NOTHING_TO_DO = "No stale ScheduleWakeup or Bash waits detected."
_LINE_BREAK = re.compile(r"\r?\n")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_COLLATION = {ord("+"): "."}  # ECC sorts times with localeCompare: ICU puts "-" (punctuation) before "+" (a symbol)


@dataclass
class ToolCall:
    """A ``tool_use`` without a result (yet); times are epoch milliseconds."""

    id: str
    name: str
    command: Optional[str]
    at: Optional[int]


@dataclass
class Wake:
    """The latest ScheduleWakeup that set a wake-up."""

    tool_use_id: str
    delay: float
    scheduled: int
    due: int
    reason: Optional[str]


@dataclass
class Scan:
    """What one transcript says, before any verdict."""

    calls: dict[str, ToolCall] = field(default_factory=dict)  # pending, tool_use_id -> call, in first-seen order
    wake: Optional[Wake] = None
    last_event_at: Optional[int] = None
    last_progress_at: Optional[int] = None  # the latest assistant line (or line with a tool_use)
    session_id: Optional[str] = None  # the last line's (None: the file's name)
    event_count: int = 0
    bad_lines: list[int] = field(default_factory=list)
    bad_count: int = 0


def _text(value: str) -> str:
    """A transcript string fit to print: a lone surrogate (``"\\ud800"`` in the JSON) becomes U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", value)


def _js_text(value: Any) -> Optional[str]:
    """``String(value)``, or None where JavaScript would throw."""
    try:
        return _text(jsvalues.to_string(value))
    except jsvalues.JsTypeError:
        return None


def _parse_line(line: str) -> tuple[bool, Any]:
    """``JSON.parse``: (True, value) or (False, None). orjson first; the standard library for what orjson refuses
    and JSON allows (integers past 64 bits, lone surrogate escapes, deep nesting)."""
    try:
        return True, orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        return True, json.loads(line, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return False, None


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _blocks(entry: dict[str, Any]) -> list[Any]:
    """``message.content`` and ``content`` blocks, as ECC's getContentBlocks."""
    message = entry.get("message")
    blocks = list(message["content"]) if isinstance(message, dict) and isinstance(message.get("content"), list) else []
    return blocks + (entry["content"] if isinstance(entry.get("content"), list) else [])


def _tool_uses(entry: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """(id, name, input) of every tool_use a line holds: content blocks, ``tool_use``/``toolUse``, or the line
    itself (ECC's extractToolUses); ids as written, any JSON type."""
    found = [
        b
        for b in _blocks(entry)
        if isinstance(b, dict) and b.get("type") == "tool_use" and jsvalues.truthy(b.get("id"))
    ]
    top = jsvalues.first_truthy(entry, "tool_use", "toolUse")
    if isinstance(top, dict) and jsvalues.truthy(top.get("id")):
        found.append(top)
    if entry.get("type") == "tool_use" and jsvalues.truthy(entry.get("id")):
        found.append(entry)
    return [
        (use["id"], use["name"] if jsvalues.truthy(use.get("name")) else "unknown", use.get("input") or {})
        for use in found
    ]


def _result_ids(entry: dict[str, Any]) -> list[Any]:
    """The tool_use ids a line answers (ECC's extractToolResultIds: ``tool_use_id``, ``toolUseId`` or ``id``)."""
    keys = ("tool_use_id", "toolUseId", "id")
    holders = [b for b in _blocks(entry) if isinstance(b, dict) and b.get("type") == "tool_result"]
    top = jsvalues.first_truthy(entry, "tool_result", "toolResult", "toolUseResult")
    if isinstance(top, dict):
        holders.append(top)
    if entry.get("type") == "tool_result":
        holders.append(entry)
    return [rid for rid in (jsvalues.first_truthy(h, *keys) for h in holders) if rid is not None]


def _entry_time(entry: dict[str, Any]) -> Optional[int]:
    """``timestamp``, ``createdAt``, ``created_at`` or ``message.timestamp``: the first that is a date."""
    message = entry.get("message")
    candidates = [entry.get("timestamp"), entry.get("createdAt"), entry.get("created_at")]
    candidates.append(message.get("timestamp") if isinstance(message, dict) else None)
    for value in candidates:
        at = jsvalues.parse_date(value)
        if at is not None:
            return at
    return None


def _session_id(entry: Any) -> Optional[str]:
    """``sessionId``, ``session_id``, ``session.id`` or ``message.sessionId`` (ECC's getSessionId); None: the file's."""
    if not isinstance(entry, dict):
        return None
    value = jsvalues.first_truthy(entry, "sessionId", "session_id")
    for holder, key in ((entry.get("session"), "id"), (entry.get("message"), "sessionId")):
        if value is None:
            value = jsvalues.first_truthy(holder, key)
    return None if value is None else _js_text(value)


def wake_delay(tool_input: Any) -> Optional[float]:
    """The delay a ScheduleWakeup call sets, clamped to the runtime's [60, 3600]; None when it sets none.

    ECC's reading (the first truthy of ``delaySeconds``, ``delay_seconds``, ``seconds``, ``delay``, through
    ``Number()``), but every finite delay is clamped as the runtime clamps it: 0 or 30 is a wake-up at 60 s."""
    if not isinstance(tool_input, dict):
        return None
    raw = jsvalues.first_truthy(tool_input, *DELAY_KEYS)
    if raw is None:
        zero = tool_input.get("delaySeconds")
        raw = zero if isinstance(zero, (int, float)) and not isinstance(zero, bool) else None
    try:
        delay = jsvalues.to_number(raw) if raw is not None else math.nan
    except jsvalues.JsTypeError:
        return None
    return min(max(delay, WAKEUP_MIN), WAKEUP_MAX) if math.isfinite(delay) else None


def _schedule(scan: Scan, tool_use_id: str, tool_input: Any, at: Optional[int]) -> None:
    """A ScheduleWakeup call: the new latest wake-up, or none after ``stop: true`` (the runtime ends the loop)."""
    if isinstance(tool_input, dict) and tool_input.get("stop") is True:
        scan.wake = None
        return
    delay = wake_delay(tool_input)
    due = None if delay is None or at is None else jsvalues.time_clip(at + delay * 1000)
    if delay is None or at is None or due is None:
        return
    reason = tool_input.get("reason") if isinstance(tool_input, dict) else None
    scan.wake = Wake(tool_use_id, delay, at, due, _js_text(reason) if jsvalues.truthy(reason) else None)


def _scan_entry(scan: Scan, entry: Any) -> None:
    """One parsed line, in ECC's order: session id, times, tool uses, then the results it carries."""
    scan.event_count += 1
    scan.session_id = _session_id(entry)
    if not isinstance(entry, dict):
        return
    at = _entry_time(entry)
    if at is not None and (scan.last_event_at is None or at > scan.last_event_at):
        scan.last_event_at = at
    uses = _tool_uses(entry)
    message = entry.get("message")
    progress = entry.get("type") == "assistant" or (isinstance(message, dict) and message.get("role") == "assistant")
    if at is not None and (progress or uses) and (scan.last_progress_at is None or at > scan.last_progress_at):
        scan.last_progress_at = at
    started = at if at is not None else scan.last_event_at
    for use_id, name, tool_input in uses:
        if not isinstance(use_id, str):
            continue  # listed: a tool id that is not text is no call of Claude Code's
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        scan.calls[use_id] = ToolCall(
            id=_text(use_id),
            name=name if isinstance(name, str) else "unknown",
            command=_js_text(command) if jsvalues.truthy(command) else None,
            at=started,
        )
        if name == "ScheduleWakeup":
            _schedule(scan, _text(use_id), tool_input, started)
    for result_id in _result_ids(entry):
        if isinstance(result_id, str):
            scan.calls.pop(result_id, None)


def scan_bytes(data: bytes) -> Scan:
    """Scan a transcript's bytes: tool calls, tool results, wake-ups, assistant activity, unreadable lines."""
    scan = Scan()
    text = data.decode("utf-8", "replace")
    text = text[1:] if text.startswith("\ufeff") else text  # listed: ECC reads a BOM-first line as corrupt
    for number, line in enumerate(_LINE_BREAK.split(text), 1):
        if not jsvalues.trim(line):
            continue
        ok, entry = _parse_line(line)
        if not ok:
            scan.bad_count += 1
            if len(scan.bad_lines) < MAX_ERROR_LINES:
                scan.bad_lines.append(number)
            continue
        _scan_entry(scan, entry)
    return scan


def _seconds_since(now: int, at: Optional[int]) -> Optional[int]:
    """Whole seconds from ``at`` to ``now``, never negative (ECC floors)."""
    return None if at is None else max(0, (now - at) // 1000)


def transcript_name(path: str) -> str:
    """``path.basename(path, '.jsonl')``: the session id of a transcript whose lines name none."""
    name = os.path.basename(path)
    return name[: -len(".jsonl")] if name.endswith(".jsonl") and name != ".jsonl" else name


def _wake_signal(scan: Scan, now: int, wake_grace: float) -> Optional[Signal]:
    """``schedule_wakeup_overdue`` once call + delay x grace is reached with no assistant line since the due time."""
    wake = scan.wake
    if wake is None:
        return None
    threshold = wake.scheduled + wake.delay * wake_grace * 1000
    woke = scan.last_progress_at is not None and scan.last_progress_at >= wake.due
    if not threshold or now < threshold or woke:
        return None
    return Signal(
        type="schedule_wakeup_overdue",
        message=f"ScheduleWakeup due {jsvalues.iso(wake.due)} has not fired",
        toolUseId=wake.tool_use_id,
        scheduledAt=jsvalues.iso(wake.scheduled),
        delaySeconds=jsvalues.json_number(wake.delay),
        dueAt=jsvalues.iso(wake.due),
        overdueSeconds=_seconds_since(now, wake.due),
    )


def _bash_signal(call: ToolCall, now: int, bash_threshold: float) -> Optional[Signal]:
    age = _seconds_since(now, call.at)
    if call.name != "Bash" or age is None or age < bash_threshold:
        return None
    return Signal(
        type="pending_bash_tool_result",
        message=f"Bash call {call.id} has had no result for {age // 60} min",
        toolUseId=call.id,
        command=call.command,
        startedAt=jsvalues.iso(call.at) if call.at is not None else None,
        ageSeconds=age,
        thresholdSeconds=jsvalues.json_number(bash_threshold),
    )


def _actions(signals: list[Signal], session_id: str, transcript_path: str) -> list[str]:
    """What to do, one line a signal (secrets redacted before a command is cut)."""
    actions = []
    for signal in signals:
        extra = signal.model_extra or {}
        if signal.type == "pending_bash_tool_result":
            command = redact(extra.get("command") or "?", limit=None)[:80]
            actions.append(
                f"check the command of {extra['toolUseId']} ({command}): it may hang; "
                "interrupt it (Esc in Claude Code) or kill the process"
            )
        elif signal.type == "schedule_wakeup_overdue":
            actions.append(
                f"the loop's wakeup was due at {extra['dueAt']}: resume it ({resume_command(session_id)}) or stop it"
            )
        else:
            actions.append(f"inspect {transcript_path} at line(s) {', '.join(map(str, extra['lines']))}")
    return actions


def verdict(
    scan: Scan,
    transcript_path: str,
    now: int,
    bash_threshold: float = BASH_THRESHOLD_SECONDS,
    wake_grace: float = WAKE_GRACE,
) -> LoopSession:
    """The session's signals (ECC's order: wake-up, Bash calls, parse errors), state and actions at ``now``
    (epoch milliseconds)."""
    session_id = scan.session_id or transcript_name(transcript_path)
    pending = list(scan.calls.values())
    wake = _wake_signal(scan, now, wake_grace)
    signals = [wake] if wake else []
    signals += [s for s in (_bash_signal(call, now, bash_threshold) for call in pending) if s]
    if scan.bad_count:
        signals.append(
            Signal(
                type="transcript_parse_errors",
                message=f"{scan.bad_count} line(s) are not JSON",
                count=scan.bad_count,
                lines=scan.bad_lines,
            )
        )
    kinds = {s.type for s in signals}
    return LoopSession(
        sessionId=session_id,
        transcriptPath=transcript_path,
        state="attention" if signals else "ok",
        lastEventAt=jsvalues.iso(scan.last_event_at) if scan.last_event_at is not None else None,
        eventCount=scan.event_count,
        parseErrors=scan.bad_count,
        projectSlug=os.path.basename(os.path.dirname(transcript_path)),
        latestWake=LatestWake(
            delaySeconds=scan.wake.delay,
            dueAt=jsvalues.iso(scan.wake.due),
            reason=scan.wake.reason,
            scheduledAt=jsvalues.iso(scan.wake.scheduled),
            toolUseId=scan.wake.tool_use_id,
        )
        if scan.wake
        else None,
        pendingTools=[
            PendingTool(
                toolUseId=c.id,
                name=c.name,
                command=c.command,
                startedAt=jsvalues.iso(c.at) if c.at is not None else None,
                ageSeconds=_seconds_since(now, c.at),
            )
            for c in pending
        ],
        signals=signals,
        recommendedAction=next((text for kind, text in RECOMMENDATIONS if kind in kinds), NOTHING_TO_DO),
        actions=_actions(signals, session_id, transcript_path),
    )


# libuv's wording of the errors a scan meets, so an error reads as ECC's (node's) does
_UV_MESSAGES = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EISDIR: "illegal operation on a directory",
    errno.ENOTDIR: "not a directory",
    errno.ELOOP: "too many symbolic links encountered",
    errno.ENAMETOOLONG: "name too long",
    errno.EMFILE: "too many open files",
    errno.EIO: "i/o error",
    errno.ENXIO: "no such device or address",
}


def scan_error(exc: OSError, syscall: str, path: str) -> ScanError:
    """An error entry as ECC writes it (``code``, node's ``message``), with our ``error`` beside it."""
    code = errno.errorcode.get(exc.errno) if exc.errno else None
    wording = _UV_MESSAGES.get(exc.errno or 0, (exc.strerror or str(exc)).lower())
    where = "read" if code == "EISDIR" else f"{syscall} '{path}'"
    return ScanError(
        transcriptPath=path,
        code=code,
        message=f"{code}: {wording}, {where}" if code else str(exc),
        error=f"{type(exc).__name__}: {exc.strerror or exc}",
    )


def _listing(folder: str, errors: list[ScanError]) -> list[os.DirEntry[str]]:
    """A folder's entries in name order (node's readdir sorts them), or none with an error entry."""
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        errors.append(scan_error(exc, "scandir", folder))
        return []


def _jsonl_files(root: str, errors: list[ScanError]) -> list[str]:
    """Every ``*.jsonl`` regular file below ``root``, depth first in name order, at any depth (ECC's
    walkJsonlFiles: links, to files or folders, are not followed)."""
    found: list[str] = []
    stack = [iter(_listing(root, errors))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif entry.is_dir(follow_symlinks=False):
            stack.append(iter(_listing(entry.path, errors)))
        elif entry.is_file(follow_symlinks=False) and entry.name.endswith(".jsonl"):
            found.append(entry.path)
    return found


def recent_transcripts(limit: int, projects_dir: Optional[str] = None) -> tuple[list[str], list[ScanError]]:
    """The ``limit`` most recently changed transcripts under ``<config>/projects/`` (sessions' and subagents'),
    newest first, ties in the walk's order (ECC's findTranscriptPaths), and the folders or files it could not
    read."""
    root = projects_dir or paths.claude_projects_dir()
    errors: list[ScanError] = []
    if not os.path.exists(root):
        return [], errors
    stamped: list[tuple[int, str]] = []
    for path in _jsonl_files(root, errors):
        try:
            stamped.append((os.stat(path).st_mtime_ns, path))
        except OSError as exc:
            errors.append(scan_error(exc, "stat", path))
    stamped.sort(key=lambda item: -item[0])  # stable: equal times keep the walk's order
    return [path for _, path in stamped[:limit]], errors


TRANSCRIPT_CAP = 1 << 30  # bytes of one transcript scanned


def build_report(
    transcripts: Iterable[str],
    now: int,
    bash_threshold: float = BASH_THRESHOLD_SECONDS,
    wake_grace: float = WAKE_GRACE,
    errors: Optional[list[ScanError]] = None,
    source: Optional[LoopSource] = None,
) -> LoopStatus:
    """Scan each transcript (``now`` in epoch milliseconds); unreadable ones become ``errors`` entries. Sessions
    needing attention come first, then the latest event first (ECC's order)."""
    sessions, errors = [], list(errors or [])
    for path in transcripts:
        try:
            data = fsio.read_file(path, TRANSCRIPT_CAP)
        except OSError as exc:
            folder = IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)) if os.path.isdir(path) else None
            errors.append(scan_error(folder or exc, "open", path))
            continue
        sessions.append(verdict(scan_bytes(data), path, now, bash_threshold, wake_grace))
    sessions.sort(key=lambda s: (s.lastEventAt or "").translate(_COLLATION), reverse=True)
    sessions.sort(key=lambda s: s.state != "attention")
    return LoopStatus(generatedAt=jsvalues.iso(now), sessions=sessions, errors=errors, source=source)


def session_file_name(session_id: str) -> str:
    """``sessions/<safe id>.json``: a subfolder, so no session id can collide with ``index.json``."""
    return os.path.join("sessions", (paths.sanitize_session_id(session_id) or "unknown") + ".json")


def write_dir(report: LoopStatus, directory: str) -> None:
    """Write ``index.json`` and one file per session, each atomically (sessions first, then the index)."""
    directory = os.path.abspath(directory)
    os.makedirs(os.path.join(directory, "sessions"), mode=0o700, exist_ok=True)
    entries = []
    for session in report.sessions:
        name = session_file_name(session.sessionId)
        doc = LoopStatusSession(generatedAt=report.generatedAt, session=session)
        fsio.atomic_write(os.path.join(directory, name), dump_json(doc.model_dump(mode="json"), indent=True) + b"\n")
        entries.append(
            IndexEntry(
                sessionId=session.sessionId,
                state=session.state,
                file=name,
                transcriptPath=session.transcriptPath,
                lastEventAt=session.lastEventAt,
                signals=[s.type for s in session.signals],
                signalTypes=[s.type for s in session.signals],
                snapshotPath=os.path.join(directory, name),
            )
        )
    index = LoopStatusIndex(
        generatedAt=report.generatedAt,
        sessions=entries,
        sessionCount=len(entries),
        errors=report.errors,
        source=report.source,
    )
    fsio.atomic_write(
        os.path.join(directory, "index.json"), dump_json(index.model_dump(mode="json"), indent=True) + b"\n"
    )


def exit_code(report: LoopStatus) -> int:
    """2 when any session needs attention, else 1 when a transcript could not be read, else 0."""
    if any(s.state == "attention" for s in report.sessions):
        return 2
    return 1 if report.errors else 0


def render_text(report: LoopStatus) -> str:
    """One line per session (and per error) for people."""
    lines = []
    for s in report.sessions:
        kinds = ", ".join(sig.type for sig in s.signals) or "-"
        lines.append(f"{s.state:<9} {s.sessionId}  last {s.lastEventAt or '?'}  pending {len(s.pendingTools)}  {kinds}")
        lines.extend(f"          -> {action}" for action in s.actions)
    lines.extend(f"error     {e.transcriptPath}: {e.error}" for e in report.errors)
    return human("\n".join(lines)) if lines else "no transcripts found"


def add_arguments(parser: argparse.ArgumentParser, name: str = "loop-status") -> None:
    """Options of ``loop-status``."""
    parser.add_argument("--json", action="store_true", help="print ecc.loop-status.v1 JSON")
    parser.add_argument("--write-dir", metavar="DIR", help="write index.json and sessions/<id>.json there (atomically)")
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 2 on attention, 1 when a transcript is unreadable"
    )
    parser.add_argument("--watch", action="store_true", help="scan repeatedly")
    parser.add_argument("--watch-count", type=int, default=None, metavar="N", help="with --watch: stop after N scans")
    parser.add_argument("--watch-interval-seconds", type=float, default=60.0, metavar="S", help="with --watch: pause")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="most recent transcripts to scan")
    parser.add_argument("--transcript", action="append", metavar="PATH", help="scan this transcript (repeatable)")
    parser.add_argument(
        "--now", metavar="TIME", help="evaluate as of this time: ISO 8601 or epoch milliseconds (tests, replays)"
    )
    parser.add_argument(
        "--bash-threshold-seconds",
        "--bash-timeout-seconds",  # ECC's name for it
        dest="bash_threshold_seconds",
        type=float,
        default=BASH_THRESHOLD_SECONDS,
        help="a Bash call without a result for this long is stuck (default 1800)",
    )
    parser.add_argument(
        "--wake-grace-multiplier",
        type=float,
        default=WAKE_GRACE,
        help="a ScheduleWakeup is overdue after delay x this with no wake-up (default 2)",
    )
    parser.add_argument("--home", metavar="DIR", help="scan DIR/.claude/projects (ECC's option; default: this user's)")


def now_ms() -> int:
    """The current time in epoch milliseconds, as ``Date.now()``."""
    return time.time_ns() // 1_000_000


def parse_now(text: str) -> int:
    """``--now`` as ECC reads it: ``now``, epoch milliseconds (digits), or a date as ``new Date`` reads it (a time
    without a zone is local time)."""
    if text == "now":
        return now_ms()
    try:
        at = jsvalues.time_clip(float(int(text))) if re.fullmatch(r"[0-9]+", text) else jsvalues.parse_date(text)
    except OverflowError:
        at = None
    if at is None:
        raise UserError(f"--now {text!r} is neither an ISO-8601 time (2026-05-12T00:00:00Z) nor epoch milliseconds")
    return at


def home_dir(home: Optional[str]) -> str:
    """``--home`` made absolute, else ``$HOME`` (ECC's getHomeDir)."""
    return os.path.abspath(home) if home else os.environ.get("HOME") or os.path.expanduser("~")


def build_status(
    transcripts: Optional[list[str]],
    now: int,
    home: Optional[str] = None,
    limit: int = DEFAULT_LIMIT,
    bash_threshold: float = BASH_THRESHOLD_SECONDS,
    wake_grace: float = WAKE_GRACE,
) -> LoopStatus:
    """One scan, as ECC's ``buildStatus``: the ``transcripts`` given, else the ``limit`` most recent under
    ``<home>/.claude/projects`` (without ``--home``: ``${CLAUDE_CONFIG_DIR:-~/.claude}/projects``)."""
    folder = home_dir(home)
    root = os.path.join(folder, ".claude", "projects") if home else paths.claude_projects_dir()
    errors: list[ScanError] = []
    if transcripts:
        found = [os.path.abspath(p) for p in transcripts]
    else:
        found, errors = recent_transcripts(limit, root)
    source = LoopSource(
        bashTimeoutSeconds=bash_threshold,
        homeDir=folder,
        limit=limit,
        transcriptCount=len(found),
        transcriptRoot=root,
        wakeGraceMultiplier=wake_grace,
    )
    return build_report(found, now, bash_threshold, wake_grace, errors, source)


def run(args: argparse.Namespace, name: str = "loop-status", out: Callable[[str], None] = print) -> int:
    """Scan (once, or ``--watch``), print, write, and return the exit code."""
    fixed_now = parse_now(args.now) if args.now else None
    if args.wake_grace_multiplier <= 0 or args.bash_threshold_seconds <= 0:
        raise UserError("--wake-grace-multiplier and --bash-threshold-seconds must be positive")
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    if args.watch_count is not None and args.watch_count < 1:
        raise UserError("--watch-count must be at least 1")
    if args.watch and args.exit_code and args.watch_count is None:  # as ECC: a code needs an end
        raise UserError("--exit-code with --watch requires --watch-count so the process can exit")
    rounds = (args.watch_count if args.watch_count is not None else None) if args.watch else 1
    code = 0
    done = 0
    while rounds is None or done < rounds:
        report = build_status(
            args.transcript,
            fixed_now if fixed_now is not None else now_ms(),
            args.home,
            args.limit,
            args.bash_threshold_seconds,
            args.wake_grace_multiplier,
        )
        if args.write_dir:
            write_dir(report, args.write_dir)
        if args.json:
            out(dump_json(report.model_dump(mode="json")).decode())
        else:
            out(render_text(report))
        code = max(code, exit_code(report))  # the worst frame, as ECC's runWatch: attention seen is not lost
        done += 1
        if rounds is None or done < rounds:
            time.sleep(max(0.0, args.watch_interval_seconds))
    return code if args.exit_code else 0


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m ecc_hooks.loop_status``: the same as ``ecc-hooks loop-status`` (same exit codes)."""
    from ecc_hooks.cli import main as cli_main

    return cli_main(["loop-status", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
