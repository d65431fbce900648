"""The preview pane's tabs for the selected row, with no Textual (Rich text only): what the snapshot already holds
(todos, checks, subagents, risk reasons) at once, and what needs a file or a process (the live screen, the
journal's recent events, the handoff, the diff) on a worker thread.

Everything shown is untrusted (a pane's screen, a tool's input, a handoff an agent wrote): made inert for the
terminal (``core.text.clean``/``clean_block``) and bounded before it reaches a widget.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, Optional

from rich.text import Text

from ecc_hooks.core.text import clean, clean_block
from ecc_hooks.tui.model import Row

TAIL_BYTES = 1 << 16  # the journal's last 64 KiB: its recent events
EVENTS_SHOWN = 40
LINES = 400
HANDOFF_CAP = 1 << 20


def _lines(text: str, limit: int = LINES) -> str:
    lines = clean_block(text).splitlines()
    return "\n".join(line[:400] for line in lines[-limit:])


def from_payload(tab: str, row: Row) -> Text:
    """Todos, checks, subagents or risk, from the row's snapshot (``model.Snap``)."""
    snap = row.payload
    if snap is None:
        return Text(f"{row.name} has no Claude Code snapshot (no hooks seen from it)", style="dim")
    if tab == "todos":
        counts = ("todos", "counts")
        out = Text(
            f"{snap.count(*counts, 'pending')} pending, {snap.count(*counts, 'inProgress')} in progress, "
            f"{snap.count(*counts, 'completed')} done\n"
        )
        now = snap.text("todos", "inProgress")
        if now:
            out.append("now: ", style="bold").append(clean(now, 300))
        return out
    if tab == "checks":
        out = Text()
        for c in snap.items("checks", "local"):
            status = clean(c.get("status") or "unknown", 12)
            out.append(f"{status:8} ", style={"fail": "red", "pass": "green"}.get(status, ""))
            out.append(clean(c.get("command"), 200) + "\n")
        for r in snap.items("checks", "remote"):
            out.append(f"{clean(r.get('status') or 'unknown', 12):8} ").append(clean(f"CI {r.get('name')}", 200) + "\n")
        return out if out.plain else Text("no checks seen (test, lint or build commands it ran)", style="dim")
    if tab == "agents":
        out = Text()
        for a in snap.items("activeAgents"):
            what = f"{a.get('agentType') or a.get('id')}: {a.get('objective') or ''}"
            out.append(f"{clean(a.get('state') or 'unknown', 12):10} ").append(clean(what, 300) + "\n")
        return out if out.plain else Text("no subagents", style="dim")
    reasons = snap.strings("risk", "reasons")
    out = Text(f"risk: {clean(snap.text('risk', 'status') or 'unknown', 20)}\n", style="bold")
    for reason in reasons:
        out.append("- " + clean(reason, 300) + "\n")
    if row.reason and row.reason not in reasons:
        out.append("- " + row.reason + "\n")
    return out


def slow(tab: str, row: Row, run: Callable[[Any], Any]) -> tuple[Any, Optional[str]]:
    """The screen, events, handoff or diff tab's content, and the screen's fingerprint when one was read (``run``:
    the runtime client's ``run``)."""
    try:
        if tab == "screen":
            return _screen(row, run)
        if tab == "events":
            return events(row.session_id), None
        if tab == "handoff":
            return handoff(row), None
        if tab == "diff":
            return diff(row, run), None
    except Exception as exc:  # shown in the tab: a preview never takes the HUD down
        return Text(clean(f"cannot show it: {exc}", 300), style="red"), None
    return Text(""), None


def _screen(row: Row, run: Callable[[Any], Any]) -> tuple[Any, Optional[str]]:
    from ecc_hooks.runtime import records as rec
    from ecc_hooks.tui import controls

    if row.runtime is None and row.session_id is None:
        return Text("nothing to show", style="dim"), None
    refused = controls.why_not("screen", row)
    if refused is not None:
        return Text(clean(refused, 400), style="dim"), None
    try:
        shown = run(controls.request("screen", row))
    except rec.Refused as refused:
        if row.runtime is not None:  # headless, or its pane is gone: what it printed (a pane's saved scrollback)
            try:
                return _log_tail(row, run), None
            except rec.Refused:
                pass
        return Text(clean(str(refused), 400), style="dim"), None
    out = Text(no_wrap=True, overflow="crop")  # a pane as wide as the terminal is cut, not wrapped
    if shown.prompt:
        out.append("waiting at: " + clean(shown.prompt, 300) + "  (a approves, r denies)\n\n", style="bold yellow")
    out.append(_lines(shown.screen.rstrip("\n"), 200))
    return out, shown.fingerprint


def _log_tail(row: Row, run: Callable[[Any], Any]) -> Text:
    from ecc_hooks.runtime import records as rec

    assert row.runtime is not None
    logs = run(rec.Logs(*row.runtime))
    text = "\n".join(log.text or "" for log in logs.logs)
    return Text(_lines(text, 200) or "(no output yet)", no_wrap=True, overflow="crop")


def events(session_id: Optional[str]) -> Text:
    """The journal's last events, one line each: time, event, tool, what."""
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import open_file

    if not session_id:
        return Text("no Claude Code session", style="dim")
    try:
        fd = open_file(paths.journal_path(session_id), os.O_RDONLY)
    except OSError:
        return Text("no journal", style="dim")
    try:
        size = os.fstat(fd).st_size
        os.lseek(fd, max(size - TAIL_BYTES, 0), os.SEEK_SET)
        data = os.read(fd, TAIL_BYTES)
    finally:
        os.close(fd)
    lines = data.split(b"\n")[1:] if size > TAIL_BYTES else data.split(b"\n")
    out = Text()
    for line in lines[-EVENTS_SHOWN - 1 :]:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        when = str(event.get("ts", ""))[11:19]
        what = event.get("toolName") or event.get("notificationType") or event.get("source") or ""
        detail = _detail(event)
        style = "red" if event.get("event") in ("PostToolUseFailure", "StopFailure") else ""
        out.append(f"{when} ", style="dim").append(clean(f"{event.get('event', '?')}", 24) + " ", style=style or "bold")
        out.append(clean(f"{what} {detail}".strip(), 160) + "\n")
    return out if out.plain else Text("no events yet", style="dim")


def _detail(event: dict[str, Any]) -> str:
    data = event.get("input")
    if isinstance(data, dict):
        for key in ("command", "file_path", "pattern", "url", "description", "prompt"):
            if isinstance(data.get(key), str):
                return data[key]
    for key in ("message", "prompt", "lastMessage", "error", "reason"):
        if isinstance(event.get(key), str):
            return event[key]
    return ""


def handoff(row: Row) -> Text:
    """The worker's handoff file, else the session's handoff document (the ``inspect --markdown`` text)."""
    from ecc_hooks.core.fsio import read_file

    if row.handoff_path:
        try:
            return Text(_lines(read_file(row.handoff_path, HANDOFF_CAP).decode("utf-8", "replace")))
        except OSError:
            pass
    if not row.session_id:
        return Text("no handoff yet", style="dim")
    from datetime import datetime, timezone

    from ecc_hooks.handoff import document
    from ecc_hooks.handoff.adapters import Context, Target, adapter_for

    adapter = adapter_for("session-id")
    if adapter is None:
        return Text("no handoff adapter", style="dim")
    ctx = Context(now=datetime.now(timezone.utc), cwd=os.getcwd(), coordination_root=None, tmux_socket=None)
    inspection = adapter.inspect(Target(type="session-id", value=row.session_id), ctx)
    return Text(_lines(document.render(inspection)))


def diff(row: Row, run: Callable[[Any], Any]) -> Any:
    """The worker's diff against its base (the runtime's ``DiffData``), or a line saying why there is none."""
    from ecc_hooks.tui import controls

    if row.runtime is None:
        return Text("a diff is shown for runtime workers (their branch against the base)", style="dim")
    return run(controls.request("diff", row))
