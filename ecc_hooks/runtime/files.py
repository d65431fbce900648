"""A worker's coordination files in ECC's formats: ``task.md``, ``status.md``, ``handoff.md``.

ECC's tools (``orchestration-status.js``, ``session-inspect.js``) read ``- Key: value`` lines of ``status.md``
(State, Updated, Branch, Worktree, Task file, Handoff file), the ``Objective`` section of ``task.md``, and the
bullets under ``Summary``, ``Validation`` and ``Remaining Risks`` of ``handoff.md``; ours read the same files.
Every text that came from an agent or a repository is redacted and stripped of terminal escapes first, and
``write``, the one writer of these files, redacts each whole file again (a task given with a token in it never
reaches ``task.md``: the agent gets its task from its launch, not from this file).

Whose file it is. ``status.md`` and ``handoff.md`` are also written by others: ECC's own launcher
(``orchestrate-codex-worker.sh``) writes both around its agent, and a worker may write its own report. The runtime
replaces such a file only while it is still its own: missing, blank, its pending template, or byte for byte what
the runtime last wrote there (its digest, and the text of anyone else it was merged onto, kept in the worker's
private record ``launch.marks_path``: ``write_kept``). Anyone else's ``handoff.md`` is left whole (the runtime's
facts stay in ``session status`` and ``session diff``); anyone else's ``status.md`` keeps every line of its own,
with the runtime's state and time merged in (``merge_status``). Known limit: a worker writing in the instant
between the runtime's check and its rename loses that write (a file name has no compare-and-swap); the runtime
writes only on a state change or a minute's refresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Optional

from ecc_hooks.core import fsio
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import clean_block
from ecc_hooks.handoff.adapters._common import status_key

HANDOFF_SECTIONS = ("Summary", "Files Changed", "Validation", "Remaining Risks")
MESSAGE_LINES = 40  # lines of the final message kept in the summary


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def root_of(repo_root: str, coordination_dir: str) -> str:
    """The folder a session's coordination files are reached from without following a link: the repository when
    they are in it (a committed ``.orchestration`` link is refused, not followed), else the plan's own
    ``coordinationRoot`` (the user's setting)."""
    repo, where = os.path.normpath(repo_root), os.path.normpath(coordination_dir)
    return repo if where.startswith(repo + os.sep) else os.path.dirname(where)


def ensure_root(root: str) -> None:
    """Make a missing coordination root (``root_of``) as ECC's orchestrator does (``mkdir -p``), but only below a
    folder of the user's, each new level 0700 and reached without following a link; UserError naming the folder
    otherwise."""
    if os.path.isdir(root):  # there (a link there is the user's setting: ``fsio`` follows it only at the root)
        return
    parent = os.path.dirname(root)
    while parent != os.path.dirname(parent) and not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    try:
        fsio.ensure_state_dir(root, root=parent)
    except OSError as exc:
        reason = exc.strerror if isinstance(exc, fsio.MissingFolder) or not str(exc) else str(exc)
        raise UserError(
            f"the coordination folder {root} does not exist and cannot be made below {parent} ({reason}): create "
            "it, or set the plan's coordinationRoot to a folder of yours"
        ) from None


def _encoded(text: str) -> bytes:
    """The bytes ``write`` writes for ``text``."""
    text = redact(text, limit=None)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def write(path: str, text: str, root: str) -> bytes:
    """Replace ``path`` (below ``root``) atomically through ``fsio.atomic_write``: no link followed below ``root``,
    every folder ours (missing ones made at 0700), the file 0600, its temporary name unguessable and ``O_EXCL``;
    ``text`` redacted whole first (a secret in a task, a reason or a message never reaches the file). The bytes
    written (what ``write_kept`` recognises as ours later)."""
    data = _encoded(text)
    fsio.atomic_write(path, data, root=root)
    return data


# ---------------------------------------------------------------------------- whose file it is

MARKS_CAP = 1 << 20


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_marks(marks: str) -> dict[str, dict[str, object]]:
    """The record of what the runtime wrote (a state file of ours); empty when missing or unreadable, so a file
    then counts as someone else's: the safe side."""
    try:
        loaded = json.loads(fsio.read_file(marks, MARKS_CAP))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, dict)} if isinstance(loaded, dict) else {}


def write_ours(path: str, text: str, root: str, marks: str) -> None:
    """Write ``path`` as the runtime's own (``write``) and record it so in ``marks``: the pending templates of a
    new session, written whatever was there (ECC's orchestrator writes them the same way)."""
    _record(marks, path, write(path, text, root), None)


def _record(marks: str, path: str, data: bytes, base: Optional[str]) -> None:
    record = _read_marks(marks)
    record[os.path.basename(path)] = {"sha256": _digest(data), "base": base}
    fsio.atomic_write(marks, json.dumps(record).encode("utf-8"))


def write_kept(
    path: str,
    text: str,
    root: str,
    marks: str,
    merge: Optional[Callable[[str, str], str]] = None,
    template: Optional[str] = None,
) -> bool:
    """Write ``text`` to ``path`` where nothing is (missing or blank) or where the file is still the runtime's:
    its bytes are those ``marks`` records (ours, or ours merged onto someone else's text), or ``template``'s as
    ``write`` writes it (the pending handoff of a session made before the record existed). A file anyone else
    wrote is theirs: left alone, or with ``merge``, written as ``merge(theirs, text)`` (their text kept; the
    next write merges onto the same text again, not onto our merge). Whether ``text`` reached the file; OSError
    when the file cannot be read or written safely (a link, a folder swapped)."""
    try:
        current = fsio.read_file(path, MARKS_CAP, root=root)
    except FileNotFoundError:
        current = b""
    mark = _read_marks(marks).get(os.path.basename(path), {})
    base: Optional[str] = None
    if current.strip():
        kept = mark.get("base")
        ours = mark.get("sha256") == _digest(current) or (template is not None and current == _encoded(template))
        theirs = redact(current.decode("utf-8", "replace"), limit=None)  # kept in our record: no secret of theirs
        base = (kept if isinstance(kept, str) else None) if ours else theirs
    if base is not None:
        if merge is None:
            return False
        text = merge(base, text)
    _record(marks, path, write(path, text, root), base)
    return True


VERDICT_KEYS = frozenset({"state", "updated"})  # the runtime's, whoever wrote the file


def merge_status(theirs: str, ours: str) -> str:
    """``theirs`` (a status.md the worker or its launcher wrote) with the runtime's verdict merged in, every line
    of theirs kept: each of its ``State`` and ``Updated`` lines becomes ours (what the process did, and the time
    ECC judges staleness by: one value, so a reader taking the first and one taking the last agree), and the
    fields of ours it lacks are added at its end (branch, worktree, files, reason). Its own fields stay (an
    ``Error`` line of ECC's launcher, its branch), so nothing it reported is lost."""
    mine: dict[str, str] = {}
    for line in ours.splitlines():
        key = status_key(line)
        if key and key not in mine:
            mine[key] = line
    lines, present = [], set()
    for line in theirs.splitlines():
        key = status_key(line)
        present.add(key)
        lines.append(mine[key] if key in VERDICT_KEYS and key in mine else line)
    added = [line for key, line in mine.items() if key not in present]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines + ([""] + added if added else []))


def read(path: str, root: str, cap: int = 1 << 20) -> str:
    """A coordination file below ``root`` read as ``write`` writes it (no link followed, ours); OSError if not."""
    return fsio.read_file(path, cap, root=root).decode("utf-8", "replace")


def task_md(
    *,
    name: str,
    session: str,
    repo_root: str,
    worktree: str,
    branch: str,
    status_file: str,
    handoff_file: str,
    task: str,
    seed_paths: list[str],
) -> str:
    seeded = ["", "## Seeded Local Overlays", *(f"- `{p}`" for p in seed_paths)] if seed_paths else []
    return "\n".join(
        [
            f"# Worker Task: {name}",
            "",
            f"- Session: `{session}`",
            f"- Repo root: `{repo_root}`",
            f"- Worktree: `{worktree}`",
            f"- Branch: `{branch}`",
            f"- Launcher status file: `{status_file}`",
            f"- Launcher handoff file: `{handoff_file}`",
            *seeded,
            "",
            "## Objective",
            task,
            "",
            "## Completion",
            "Do not spawn subagents or external agents for this task.",
            "Report results in your final response.",
            f"The worker launcher captures your response in `{handoff_file}` automatically.",
            f"The worker launcher updates `{status_file}` automatically.",
        ]
    )


def status_md(
    *,
    name: str,
    state: str,
    worktree: str,
    branch: str,
    task_file: Optional[str] = None,
    handoff_file: Optional[str] = None,
    reason: Optional[str] = None,
    agent: Optional[str] = None,
    agent_session: Optional[str] = None,
    updated: Optional[str] = None,
) -> str:
    """ECC's status.md. A ``merged`` worker is written ``State: completed`` with a ``Merged`` line: ECC's readers
    know no ``merged`` (one would count it neither finished nor healthy); ours read the line back as merged."""
    merged = state == "merged"
    if merged:
        state = "completed"
    lines = [
        f"# Status: {name}",
        "",
        f"- State: {state}",
        f"- Updated: {updated or _now()}",
        f"- Branch: `{branch}`",
        f"- Worktree: `{worktree}`",
    ]
    lines += [f"- Task file: `{task_file}`"] if task_file else []
    lines += [f"- Handoff file: `{handoff_file}`"] if handoff_file else []
    lines += [f"- Agent: {agent}"] if agent else []
    lines += [f"- Agent session: `{agent_session}`"] if agent_session else []
    if merged:
        lines.append(f"- Merged: {_line((reason or 'merged').removeprefix('merged').strip() or 'yes')}")
    elif reason:
        lines.append(f"- Reason: {_line(reason)}")
    return "\n".join(lines)


def pending_handoff_md(name: str) -> str:
    lines = [f"# Handoff: {name}"]
    for title in HANDOFF_SECTIONS:
        lines += ["", f"## {title}", "- Pending"]
    return "\n".join(lines)


def _line(text: object) -> str:
    return " ".join(clean_block(redact(str(text))).split())[:300]


def handoff_md(
    *,
    name: str,
    state: str,
    reason: Optional[str],
    final_message: Optional[str],
    commits: list[str],
    files: list[str],
    uncommitted: list[str],
    checks: list[tuple[str, str]],
    risks: list[str],
) -> str:
    """The worker's handoff under ECC's headings, from its final message and its worktree's git."""
    summary = [f"- State: {state}" + (f" ({_line(reason)})" if reason else "")]
    message = clean_block(redact(final_message or "")).strip()
    for raw in message.splitlines()[:MESSAGE_LINES]:
        text = raw.strip().lstrip("-*• ").strip()
        if text:
            summary.append(f"- {text[:500]}")
    if not message:
        summary.append("- The agent left no final message.")
    summary += [f"- Commit: {_line(c)}" for c in commits[:20]]
    changed = [f"- `{_line(f)}`" for f in files[:200]] or ["- None"]
    changed += [f"- `{_line(f)}` (uncommitted)" for f in uncommitted[:200]]
    validation = [f"- {status}: `{_line(command)}`" for command, status in checks] or ["- No checks were run."]
    remaining = [f"- {text}" for text in map(_line, risks) if text] or ["- None known."]  # no empty bullet
    lines = [f"# Handoff: {name}"]
    for title, body in zip(HANDOFF_SECTIONS, (summary, changed, validation, remaining)):
        lines += ["", f"## {title}", *body]
    return "\n".join(lines)
