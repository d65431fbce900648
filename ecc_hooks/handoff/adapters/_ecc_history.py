"""ECC's own session history: the ``YYYY-MM-DD[-<id>]-session.tmp`` summaries ECC's hooks write.

They live in ``<agent data home>/session-data`` (and the legacy ``sessions``; ``paths.ecc_session_dirs``),
named by ``session-aliases.json``. This module reads them rule for rule as ECC's ``lib/session-manager.js``
(file names, lookup by id, latest, the markdown metadata) and ``lib/session-adapters/claude-history.js`` /
``canonical-session.js`` (the snapshot) do, so ECC's tools and ours describe the same file the same way. ECC's
parsers are JavaScript regular expressions; the patterns below are their exact Python twins: JavaScript's
white space set (``jsvalues.JS_WHITESPACE``), its ``.`` (not a line terminator: ``\\n``, ``\\r``, U+2028,
U+2029), its multi-line ``^``/``$``, its ASCII ``\\d``.
"""

from __future__ import annotations

import calendar
import os
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson

from ecc_hooks.core import fsio, paths
from ecc_hooks.core.jsvalues import JS_DOT, JS_S, truthy
from ecc_hooks.core.jsvalues import trim as js_trim
from ecc_hooks.handoff.adapters import _common
from ecc_hooks.handoff.adapters._common import Details, Inspection, TargetError
from ecc_hooks.models.session import (
    Artifacts,
    Health,
    Intent,
    Outputs,
    Runtime,
    Session,
    SessionKind,
    SessionSnapshot,
    SessionState,
    SourceTarget,
    Worker,
    WorkerState,
)

ADAPTER_ID = "claude-history"
_EOL = "(?=[\n\r\u2028\u2029]|\\Z)"  # JavaScript's $ with the m flag
_BOL = "(?<![^\n\r\u2028\u2029])"  # JavaScript's ^ with the m flag
_FILENAME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:-([a-zA-Z0-9_][a-zA-Z0-9_-]*))?-session\.tmp")
_TITLE = re.compile(f"{_BOL}#{JS_S}+({JS_DOT}+){_EOL}")
_DATE = re.compile(rf"\*\*Date:\*\*{JS_S}*([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})")
_CLOCK = {key: re.compile(rf"\*\*{key}:\*\*{JS_S}*([0-9:]+)") for key in ("Started", "Last Updated")}
_LINE_FIELDS = {
    key: re.compile(rf"\*\*{key}:\*\*{JS_S}*({JS_DOT}+){_EOL}") for key in ("Project", "Branch", "Worktree")
}
_SECTION_END = r"(?=###|\n\n|\Z)"
_SECTIONS = {
    key: re.compile(rf"### {key}{JS_S}*\n([\s\S]*?){_SECTION_END}")
    for key in ("Completed", "In Progress", "Notes for Next Session")
}
_CONTEXT = re.compile(rf"### Context to Load{JS_S}*\n```\n([\s\S]*?)```")
_CHECKED = {"Completed": r"- \[x\]", "In Progress": r"- \[ \]"}
_ALIAS_NAME = re.compile(r"[a-zA-Z0-9_-]+")


@dataclass
class SessionFile:
    """One session summary: ECC's ``parseSessionFilename`` fields, where it is, and what it says."""

    filename: str
    short_id: str  # "no-id" for the old ``YYYY-MM-DD-session.tmp`` names
    date: str
    path: str
    mtime_ms: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


def parse_filename(filename: str) -> Optional[tuple[str, str]]:
    """``(date, short id)`` of a session file name, or None (ECC's ``parseSessionFilename``: a calendar date as
    JavaScript's ``new Date(y, m - 1, d)`` sees it, so years 0-99 are 1900-1999)."""
    match = _FILENAME.fullmatch(filename)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.group(1).split("-"))
    calendar_year = year + 1900 if year < 100 else year
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(calendar_year, month)[1]:
        return None
    return match.group(1), match.group(2) or "no-id"


def _items(section: Optional[re.Match[str]], key: str) -> list[str]:
    if section is None:
        return []
    marker = _CHECKED[key]
    found = re.findall(f"{marker}{JS_S}*{JS_DOT}+", section.group(1))
    return [js_trim(re.sub(f"{marker}{JS_S}*", "", item, count=1)) for item in found]


def parse_metadata(content: Optional[str]) -> dict[str, Any]:
    """ECC's ``parseSessionMetadata``: title, date, times, project, branch, worktree, checked items, notes,
    context (``None``/empty where the file does not say)."""
    meta: dict[str, Any] = {
        "title": None,
        "date": None,
        "started": None,
        "lastUpdated": None,
        "project": None,
        "branch": None,
        "worktree": None,
        "completed": [],
        "inProgress": [],
        "notes": "",
        "context": "",
    }
    if not content:
        return meta
    if title := _TITLE.search(content):
        meta["title"] = js_trim(title.group(1))
    if date := _DATE.search(content):
        meta["date"] = date.group(1)
    for key, name in (("Started", "started"), ("Last Updated", "lastUpdated")):
        if clock := _CLOCK[key].search(content):
            meta[name] = clock.group(1)
    for key, pattern in _LINE_FIELDS.items():
        if value := pattern.search(content):
            meta[key.lower()] = js_trim(value.group(1))
    meta["completed"] = _items(_SECTIONS["Completed"].search(content), "Completed")
    meta["inProgress"] = _items(_SECTIONS["In Progress"].search(content), "In Progress")
    if notes := _SECTIONS["Notes for Next Session"].search(content):
        meta["notes"] = js_trim(notes.group(1))
    if context := _CONTEXT.search(content):
        meta["context"] = js_trim(context.group(1))
    return meta


def read_content(path: str) -> Optional[str]:
    """The file as UTF-8 text, bad bytes as U+FFFD (Node's ``readFileSync(p, 'utf8')``); None when unreadable."""
    try:
        return fsio.read_file(path).decode("utf-8", errors="replace")
    except OSError:
        return None


def _mtime_ms(path: str) -> Optional[int]:
    try:
        return os.stat(path).st_mtime_ns // 1_000_000
    except OSError:
        return None


def _listed() -> list[SessionFile]:
    """Every session file, canonical folder first, each file name once, newest first (ECC's candidates:
    regular files only, a link is not listed; a stable sort, so files of the same age keep the order Node's readdir
    lists them in, the names' byte order: the first by name is the latest of a ``cp -p`` or an untar)."""
    found: dict[str, SessionFile] = {}
    for folder in paths.ecc_session_dirs():
        try:
            entries = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))  # Node's readdir: byte order
        except OSError:
            continue
        for entry in entries:
            if entry.name in found or not entry.name.endswith(".tmp") or not entry.is_file(follow_symlinks=False):
                continue
            parsed = parse_filename(entry.name)
            mtime = _mtime_ms(entry.path) if parsed else None
            if parsed is None or mtime is None:
                continue
            found[entry.name] = SessionFile(entry.name, parsed[1], parsed[0], entry.path, mtime)
    return sorted(found.values(), key=lambda f: -f.mtime_ms)


def _matches(session: SessionFile, ref: str) -> bool:
    """ECC's ``sessionMatchesId``: a short id starting with ``ref``, the file name, or an old name's date."""
    if session.short_id != "no-id" and session.short_id.startswith(ref):
        return True
    if session.filename in (ref, f"{ref}.tmp"):
        return True
    return session.short_id == "no-id" and session.filename == f"{ref}-session.tmp"


def _loaded(session: SessionFile) -> SessionFile:
    session.metadata = parse_metadata(read_content(session.path))
    return session


def latest() -> Optional[SessionFile]:
    """The session file written last (ECC's ``getAllSessions({limit: 1})``)."""
    listed = _listed()
    return _loaded(listed[0]) if listed else None


def by_id(ref: str) -> Optional[SessionFile]:
    """ECC's ``getSessionById``: the newest file ``ref`` names, or None."""
    ref = js_trim(ref)
    if not ref:
        return None
    for session in _listed():
        if _matches(session, ref):
            return _loaded(session)
    return None


def alias_path(name: str) -> Optional[str]:
    """The session path an ECC alias names (ECC's ``resolveAlias``), None when it names none; TargetError when
    the alias exists but holds no path (ECC throws there too)."""
    if not _ALIAS_NAME.fullmatch(name):
        return None
    try:
        data = orjson.loads(fsio.read_file(paths.ecc_aliases_path()))
    except (OSError, orjson.JSONDecodeError):
        return None
    entry = _member(data.get("aliases") if isinstance(data, dict) else None, name)
    if not truthy(entry):  # JavaScript's: {} and [] are aliases (without a path)
        return None
    path = entry.get("sessionPath") if isinstance(entry, dict) else None
    if not isinstance(path, str):
        raise TargetError(f"ECC alias {name!r} names no session file")
    return path


def _member(aliases: object, name: str) -> object:
    """``aliases[name]`` as JavaScript reads it from parsed JSON: an object's own key, or an array's index."""
    if isinstance(aliases, dict):
        return aliases.get(name)
    if isinstance(aliases, list) and name.isdigit() and (name == "0" or not name.startswith("0")):
        return aliases[int(name)] if int(name) < len(aliases) else None
    return None


def _basename(path: str) -> str:
    """Node's ``path.basename``: trailing slashes do not count."""
    return os.path.basename(path.rstrip("/")) or ("/" if path.startswith("/") else "")


def hydrate(path: str) -> SessionFile:
    """The session file at ``path`` (a path target or an alias's): TargetError when its name is not a session
    file's or it is gone."""
    filename = _basename(path)
    parsed = parse_filename(filename)
    if parsed is None:
        raise TargetError(f"Unsupported session file: {path}")
    mtime = _mtime_ms(path)
    if mtime is None:
        raise TargetError(f"session file not found: {path}")
    return _loaded(SessionFile(filename, parsed[1], parsed[0], path, mtime))


def resolve_path(value: str, cwd: str) -> str:
    """Node's ``path.resolve(cwd, value)``: absolute, normalised, one leading slash."""
    resolved = os.path.normpath(os.path.join(cwd, value))
    return "/" + resolved.lstrip("/") if resolved.startswith("/") else resolved


def _seed_paths(context: str) -> list[str]:
    return [line for line in (js_trim(part) for part in context.split("\n")) if line]


def inspection(session: SessionFile, source_type: str, source_value: str) -> Inspection:
    """ECC's ``normalizeClaudeHistorySession``: one recorded worker that is the summary, field for field."""
    meta = session.metadata
    worker_id = session.short_id if session.short_id != "no-id" else session.filename[: -len(".tmp")]
    in_progress = meta["inProgress"]
    objective = in_progress[0] if in_progress else (meta["title"] or "")
    worker = Worker(
        id=worker_id,
        label=meta["title"] or session.filename or worker_id,
        state=WorkerState.recorded,
        health=Health.healthy,
        branch=meta["branch"] or None,
        worktree=meta["worktree"] or None,
        runtime=Runtime(kind="claude-session", command="claude", pid=None, active=False, dead=True),
        intent=Intent(objective=objective, seedPaths=_seed_paths(meta["context"])),
        outputs=Outputs(summary=list(meta["completed"]), validation=[], remainingRisks=_notes(meta)),
        artifacts=Artifacts(sessionFile=session.path, context=meta["context"] or None),
    )
    snapshot = SessionSnapshot(
        adapterId=ADAPTER_ID,
        session=Session(
            id=worker_id,
            kind=SessionKind.history,
            state=SessionState.recorded,
            repoRoot=meta["worktree"] or None,
            sourceTarget=SourceTarget(type=source_type, value=source_value),
        ),
        workers=[worker],
        aggregates=_common.aggregates([worker]),
    )
    return Inspection(snapshot=snapshot, details=_details(session, worker))


def _notes(meta: dict[str, Any]) -> list[str]:
    return [meta["notes"]] if meta["notes"] else []


def _details(session: SessionFile, worker: Worker) -> Details:
    """The handoff document's facts: what the summary says, as one worker."""
    meta = session.metadata
    return Details(
        title=f"ECC session {worker.id} ({session.filename})",
        objective=worker.intent.objective or None,
        session_id=worker.id,
        worktree=worker.worktree,
        branch=worker.branch,
        started_at=" ".join(part for part in (meta["date"] or session.date, meta["started"]) if part),
        risks=list(worker.outputs.remainingRisks),
        open_todos=[{"text": item, "status": "in progress"} for item in meta["inProgress"]],
        workers=[
            {
                "id": worker.id,
                "state": worker.state.value,
                "health": worker.health.value,
                "branch": worker.branch,
                "objective": worker.intent.objective,
                "summary": worker.outputs.summary,
                "validation": [],
            }
        ],
    )
