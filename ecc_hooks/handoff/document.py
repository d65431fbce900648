"""The handoff document (markdown) of an inspected session, and the record the HUD's ``sync.handoff`` reads.

``render(inspection)`` is pure; ``write(path, text, session_id, now)`` writes the document atomically and,
for a Claude Code session, ``sessions/<id>/handoff.json`` = ``{"path", "written", "writtenAt"}``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Optional

from ecc_hooks.core import paths
from ecc_hooks.core.fsio import atomic_write
from ecc_hooks.core.text import human
from ecc_hooks.core.timestamps import iso
from ecc_hooks.handoff.adapters import Inspection


def _line(text: object) -> str:
    """One markdown line: newlines folded, so a multi-line value never breaks the list."""
    return " ".join(str(text).split()) or "(empty)"


def _code(text: object) -> str:
    """``text`` as one CommonMark code span, whatever backticks it holds: the fence is one backtick longer than
    its longest run of them, and a value starting or ending with one is padded with a space (which the reader
    strips), so a name like ``a``b`` or ```x`` can neither close the span early nor run into the next line's."""
    value = _line(text)
    longest = run = 0
    for char in value:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _once(items: list[str]) -> list[str]:
    """Each item once, in first-seen order (workers that changed the same file list it each)."""
    return list(dict.fromkeys(items))


def render(inspection: Inspection) -> str:
    """The handoff as markdown: objective, what was done, checks, open todos, risks, cost, how to resume."""
    d = inspection.details
    snap = inspection.snapshot
    out = [
        f"# Handoff: {d.title}",
        "",
        f"- Session: {_code(snap.session.id)} ({snap.session.kind.value}, {snap.session.state.value})",
        f"- Adapter: {_code(snap.adapterId)}",
    ]
    if d.worktree:
        out.append(f"- Worktree: {_code(d.worktree)}")
    if d.branch:
        out.append(f"- Branch: {_code(d.branch)}")
    if d.started_at:
        out.append(f"- Started: {d.started_at}")
    out += ["", "## Objective", _line(d.objective) if d.objective else "Unknown (no prompt recorded).", ""]

    out += ["## What was done"]
    if d.tool_total is not None:
        names = ", ".join(f"{name} x{count}" for name, count in d.tools.items())
        out.append(f"- Tool calls: {d.tool_total}" + (f" ({names})" if names else ""))
    files = _once(d.files_changed)
    out.append("- Files changed:" if files else "- Files changed: none recorded")
    out += [f"  - {_code(path)}" for path in files]
    if d.commits is None:
        if d.session_id and d.tool_total is not None:
            out.append("- Commits since the session began: unknown (git unavailable here)")
    elif d.commits:
        out.append("- Commits since the session began:")
        out += [f"  - {c['sha'][:12]} {_line(c['subject'])}" for c in d.commits]
    else:
        out.append("- Commits since the session began: none")
    for worker in d.workers:
        out.append(
            f"- Worker {_code(worker['id'])}: {worker['state']} ({worker['health']}), branch "
            f"{_code(worker['branch']) if worker['branch'] else 'unknown'}"
        )
        if worker["objective"]:
            out.append(f"  - Objective: {_line(worker['objective'])}")
        out += [f"  - {_line(item)}" for item in worker["summary"]]
    out.append("")

    out += ["## Checks"]
    errors = {c["command"]: c.get("error") for c in d.failed_commands}  # the last error of each command

    def error_of(command: str) -> str:
        error = errors.get(command)
        return f" ({_line(error.splitlines()[0])})" if error and error.strip() else ""

    checks = [
        f"- {c['status']}: {_code(c['command'])}" + (error_of(c["command"]) if c["status"] == "fail" else "")
        for c in d.checks
    ]
    checks += [f"- {v}: validation by {_code(w['id'])}" for w in d.workers for v in w["validation"]]
    checked = {c["command"] for c in d.checks}  # a failing check is listed once, with its error
    checks += [f"- failed: {_code(command)}{error_of(command)}" for command in errors if command not in checked]
    out += checks or ["- none recorded"]
    out.append("")

    out += ["## Open todos"]
    out += [f"- [ ] {_line(t['text'])} ({t['status']})" for t in d.open_todos] or ["- none"]
    out.append("")

    out += ["## Risks"]
    out += [f"- {_line(r)}" for r in d.risks] or ["- none known"]
    out.append("")

    if d.tool_total is not None:
        out += ["## Cost"]
        out.append(f"- ${d.cost_usd:.4f} ({d.cost_source})" if d.cost_usd is not None else "- unknown")
        out.append("")

    out += ["## How to resume"]
    out += [f"- {_code(command)}" for command in d.resume] or ["- nothing to resume from here"]
    return human("\n".join(out) + "\n")


def write(path: str, text: str, session_id: Optional[str], now: datetime) -> dict[str, object]:
    """Write the document atomically; record it for the HUD when it belongs to a Claude Code session."""
    target = os.path.abspath(os.path.expanduser(path))
    atomic_write(target, text.encode("utf-8"))
    record: dict[str, object] = {"path": target, "written": True, "writtenAt": iso(now)}
    if session_id and paths.sanitize_session_id(session_id) == session_id:
        record_path = paths.handoff_record_path(session_id)
        atomic_write(record_path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
    return record
