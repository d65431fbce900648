"""``python -m ecc_hooks.loop_status``: find long-running loops that are stuck, from their transcripts.

Scans the most recently changed transcripts under ``${CLAUDE_CONFIG_DIR:-~/.claude}/projects/`` (or the
``--transcript`` files given) and reports per session (``ecc.loop-status.v1``):

- ``pending_bash_tool_result``: a Bash ``tool_use`` with no ``tool_result`` for ``--bash-threshold-seconds``
  (30 minutes by default): a hung command holding the loop;
- ``schedule_wakeup_overdue``: the latest ScheduleWakeup (``delaySeconds``, clamped to [60, 3600] as the
  runtime does) is due at call time + delay; once call time + delay x ``--wake-grace-multiplier`` (2) has
  passed with no assistant line at or after the due time, the wakeup never fired (a line written right after
  the call, such as the turn's closing words, is not the wake-up: ECC's rule);
- ``transcript_parse_errors``: lines that are not JSON objects (a torn or corrupted write).

``--exit-code`` exits 2 when a session needs attention, else 1 when a transcript could not be read.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import orjson

from ecc_hooks.core import fsio, paths
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import dump_json, human, resume_command
from ecc_hooks.core.timestamps import iso, parse_iso
from ecc_hooks.models.loop_status import (
    IndexEntry,
    LoopSession,
    LoopStatus,
    LoopStatusIndex,
    LoopStatusSession,
    PendingTool,
    ScanError,
    Signal,
)

BASH_THRESHOLD_SECONDS = 1800.0
WAKEUP_MIN, WAKEUP_MAX = 60.0, 3600.0  # the runtime clamps delaySeconds to this range
WAKE_GRACE = 2.0  # a wakeup is overdue once delay x this has passed since the call with no wake-up (ECC's default)
DEFAULT_LIMIT = 20
MAX_ERROR_LINES = 10


@dataclass
class ToolCall:
    """A ``tool_use`` block seen on an assistant line."""

    id: str
    name: Optional[str]
    input: dict[str, Any]
    at: Optional[datetime]
    message_id: Optional[str]


@dataclass
class Scan:
    """What one transcript says, before any verdict."""

    calls: dict[str, ToolCall] = field(default_factory=dict)  # tool_use_id -> call, in order
    results: set[str] = field(default_factory=set)
    assistant_times: list[tuple[datetime, Optional[str]]] = field(default_factory=list)
    last_event_at: Optional[datetime] = None
    session_id: Optional[str] = None
    bad_lines: list[int] = field(default_factory=list)
    bad_count: int = 0


def scan_bytes(data: bytes) -> Scan:
    """Scan a transcript's bytes: tool calls, tool results, assistant activity, unreadable lines."""
    scan = Scan()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            scan.bad_count += 1
            if len(scan.bad_lines) < MAX_ERROR_LINES:
                scan.bad_lines.append(number)
            continue
        at = parse_iso(record.get("timestamp"))
        if at is not None and (scan.last_event_at is None or at > scan.last_event_at):
            scan.last_event_at = at
        if isinstance(record.get("sessionId"), str) and not scan.session_id:
            scan.session_id = record["sessionId"]
        kind = record.get("type")
        message = record.get("message") if isinstance(record.get("message"), dict) else {}
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if kind == "assistant":
            message_id = message.get("id") if isinstance(message.get("id"), str) else None
            if at is not None:
                scan.assistant_times.append((at, message_id))
            for block in blocks:
                if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                    scan.calls.setdefault(
                        block["id"],
                        ToolCall(
                            id=block["id"],
                            name=block.get("name") if isinstance(block.get("name"), str) else None,
                            input=block.get("input") if isinstance(block.get("input"), dict) else {},
                            at=at,
                            message_id=message_id,
                        ),
                    )
        elif kind == "user":
            for block in blocks:
                if block.get("type") == "tool_result" and isinstance(block.get("tool_use_id"), str):
                    scan.results.add(block["tool_use_id"])
    return scan


def _number(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _age(now: datetime, at: Optional[datetime]) -> Optional[float]:
    return None if at is None else round((now - at).total_seconds(), 3)


def verdict(
    scan: Scan,
    transcript_path: str,
    now: datetime,
    bash_threshold: float = BASH_THRESHOLD_SECONDS,
    wake_grace: float = WAKE_GRACE,
) -> LoopSession:
    """The session's signals, state and suggested actions at ``now``."""
    session_id = scan.session_id or os.path.splitext(os.path.basename(transcript_path))[0]
    pending = [call for tid, call in scan.calls.items() if tid not in scan.results]
    signals: list[Signal] = []
    actions: list[str] = []
    for call in pending:
        age = _age(now, call.at)
        if call.name == "Bash" and age is not None and age >= bash_threshold:
            command = call.input.get("command") if isinstance(call.input.get("command"), str) else None
            signals.append(
                Signal(
                    type="pending_bash_tool_result",
                    message=f"Bash call {call.id} has had no result for {age / 60:.0f} min",
                    toolUseId=call.id,
                    command=command,
                    startedAt=iso(call.at),
                    ageSeconds=age,
                    thresholdSeconds=bash_threshold,
                )
            )
            # redacted before it is cut: a cut can split a secret from what marks it as one (the "@" of a URL)
            actions.append(
                f"check the command of {call.id} ({redact(command or '?', limit=None)[:80]}): it may hang; "
                "interrupt it (Esc in Claude Code) or kill the process"
            )
    wakeups = [c for c in scan.calls.values() if c.name == "ScheduleWakeup"]
    if wakeups:
        last = wakeups[-1]
        delay = _number(last.input.get("delaySeconds"))
        if last.input.get("stop") is not True and delay is not None and last.at is not None:
            delay = min(max(delay, WAKEUP_MIN), WAKEUP_MAX)
            due = last.at + timedelta(seconds=delay)
            overdue_at = last.at + timedelta(seconds=delay * wake_grace)
            woke = any(at >= due and mid != last.message_id for at, mid in scan.assistant_times)
            if now > overdue_at and not woke:
                signals.append(
                    Signal(
                        type="schedule_wakeup_overdue",
                        message=f"ScheduleWakeup due {iso(due)} has not fired",
                        toolUseId=last.id,
                        scheduledAt=iso(last.at),
                        delaySeconds=delay,
                        dueAt=iso(due),
                        overdueSeconds=round((now - due).total_seconds(), 3),
                    )
                )
                actions.append(
                    f"the loop's wakeup was due at {iso(due)}: resume it ({resume_command(session_id)}) or stop it"
                )
    if scan.bad_count:
        signals.append(
            Signal(
                type="transcript_parse_errors",
                message=f"{scan.bad_count} line(s) are not JSON objects",
                count=scan.bad_count,
                lines=scan.bad_lines,
            )
        )
        actions.append(f"inspect {transcript_path} at line(s) {', '.join(map(str, scan.bad_lines))}")
    return LoopSession(
        sessionId=session_id,
        transcriptPath=transcript_path,
        state="attention" if signals else "ok",
        lastEventAt=iso(scan.last_event_at) if scan.last_event_at else None,
        pendingTools=[
            PendingTool(toolUseId=c.id, name=c.name, startedAt=iso(c.at) if c.at else None, ageSeconds=_age(now, c.at))
            for c in pending
        ],
        signals=signals,
        actions=actions,
    )


def recent_transcripts(limit: int, projects_dir: Optional[str] = None) -> list[str]:
    """The ``limit`` most recently changed transcripts under ``<config>/projects/``: the sessions' own and their
    subagents' (``<session>/subagents/agent-*.jsonl``: a subagent's loop can hang as well), as ECC scans."""
    root = projects_dir or paths.claude_projects_dir()
    found: list[tuple[float, str]] = []
    for folder, dirs, files in os.walk(root):
        depth = os.path.relpath(folder, root).count(os.sep)
        if depth >= 3:
            dirs[:] = []  # projects/<project>/<session>/subagents: nothing deeper is a transcript
        for name in files:
            if name.endswith(".jsonl"):
                path = os.path.join(folder, name)
                try:
                    found.append((os.stat(path).st_mtime, path))
                except OSError:
                    continue
    found.sort(reverse=True)
    return [path for _, path in found[:limit]]


TRANSCRIPT_CAP = 1 << 30  # bytes of one transcript scanned


def build_report(
    transcripts: Iterable[str],
    now: datetime,
    bash_threshold: float = BASH_THRESHOLD_SECONDS,
    wake_grace: float = WAKE_GRACE,
) -> LoopStatus:
    """Scan each transcript; unreadable ones become ``errors`` entries."""
    sessions, errors = [], []
    for path in transcripts:
        try:
            data = fsio.read_file(path, TRANSCRIPT_CAP)
        except OSError as exc:
            errors.append(ScanError(transcriptPath=path, error=f"{type(exc).__name__}: {exc.strerror or exc}"))
            continue
        sessions.append(verdict(scan_bytes(data), path, now, bash_threshold, wake_grace))
    return LoopStatus(generatedAt=iso(now), sessions=sessions, errors=errors)


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
            )
        )
    index = LoopStatusIndex(generatedAt=report.generatedAt, sessions=entries, errors=report.errors)
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


def run(args: argparse.Namespace, name: str = "loop-status", out: Callable[[str], None] = print) -> int:
    """Scan (once, or ``--watch``), print, write, and return the exit code."""
    fixed_now = None
    if args.now:
        if args.now.isdigit():  # ECC's tools take epoch milliseconds too
            fixed_now = datetime.fromtimestamp(int(args.now) / 1000, tz=timezone.utc)
        else:
            fixed_now = parse_iso(args.now)
        if fixed_now is None:
            raise UserError(
                f"--now {args.now!r} is neither an ISO-8601 time (2026-05-12T00:00:00Z) nor epoch milliseconds"
            )
    if args.wake_grace_multiplier <= 0 or args.bash_threshold_seconds <= 0:
        raise UserError("--wake-grace-multiplier and --bash-threshold-seconds must be positive")
    projects_dir = os.path.join(os.path.abspath(args.home), ".claude", "projects") if args.home else None
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    if args.watch_count is not None and args.watch_count < 1:
        raise UserError("--watch-count must be at least 1")
    rounds = (args.watch_count if args.watch_count is not None else None) if args.watch else 1
    code = 0
    done = 0
    while rounds is None or done < rounds:
        now = fixed_now or datetime.now(timezone.utc)
        transcripts = (
            [os.path.abspath(p) for p in args.transcript]
            if args.transcript
            else recent_transcripts(args.limit, projects_dir)
        )
        report = build_report(transcripts, now, args.bash_threshold_seconds, args.wake_grace_multiplier)
        if args.write_dir:
            write_dir(report, args.write_dir)
        if args.json:
            out(dump_json(report.model_dump(mode="json")).decode())
        else:
            out(render_text(report))
        code = exit_code(report)
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
