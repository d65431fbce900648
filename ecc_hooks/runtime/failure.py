"""Why a worker failed, in the agent's own words: the last error lines of its log and where the whole log is.

"exited with status 1" says nothing a person can act on; the line before it does ("--dangerously-skip-permissions
cannot be used with root", "Author identity unknown", "boom"). A failure reason is the supervisor's words, then the
last lines of the worker's output that look like an error (else its last lines), then the log's path: a headless
worker's ``output.log``; a tmux worker's scrollback, saved (redacted) to ``scrollback.txt`` in its state folder when
it fails, since its pane goes with its tmux session. The lines are untrusted: redacted, made inert for a terminal,
one line each, bounded, so the reason fits ``status.md``'s reason line (300 characters) with the path whole.
"""

from __future__ import annotations

import os
import re
from typing import Optional

from ecc_hooks.core import fsio
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import clean
from ecc_hooks.runtime import launch, logs
from ecc_hooks.runtime import store as st

REASON_MAX = 300  # what status.md's reason line keeps
WORDS_MAX = 160  # the agent's words in it
LINES = 2  # error lines kept (the last ones)
SCAN_LINES = 40  # of the output's last non-empty lines
TAIL_BYTES = 16384
ERROR_WORDS = re.compile(
    r"error|fatal|fail|cannot|can't|could not|couldn't|unable|denied|not found|unknown|invalid|refus|exception"
    r"|traceback|panic|abort|no such|missing|not allowed|permission|forbidden|unauthori[sz]ed|killed|not logged in",
    re.IGNORECASE,
)
# a warning the tool went on after (Codex: "WARNING: proceeding, even though we could not create PATH aliases"):
# never why it stopped, though its words look like an error's
WARNING = re.compile(r"warning:", re.IGNORECASE)
NOISE = ("Pane is dead",)


def _texts(line: str) -> Optional[str]:
    """A line as a person would read it: a JSON line (Claude Code's stream-json) is its error result's text or
    nothing (its messages are the conversation, not errors)."""
    stripped = line.strip()
    if not stripped.startswith("{"):
        return stripped
    import json

    try:
        record = json.loads(stripped)
    except ValueError:
        return stripped
    if not isinstance(record, dict) or record.get("type") != "result" or not record.get("is_error"):
        return None
    said = record.get("result") or record.get("errors") or record.get("subtype")
    return "; ".join(str(e) for e in said) if isinstance(said, list) else str(said) if said else None


def error_lines(output: str, limit: int = LINES) -> list[str]:
    """The last ``limit`` lines of ``output`` that look like an error (else its last non-empty lines), warnings left
    out when anything else was said, redacted, each a clean single line; joined they stay within ``WORDS_MAX``."""
    lines = []
    for raw in output.splitlines()[-SCAN_LINES * 4 :]:
        text = _texts(raw)
        if text and not text.startswith(NOISE):
            lines.append(text)
    lines = lines[-SCAN_LINES:]
    said = [line for line in lines if not WARNING.match(line)] or lines
    picked = [line for line in said if ERROR_WORDS.search(line)][-limit:] or said[-limit:]
    out: list[str] = []
    room = WORDS_MAX
    for line in reversed(picked):  # the last line is the one that matters most: it keeps its room
        text = clean(" ".join(redact(line, None).split()), max(room, 0))
        if not text or room <= 0:
            break
        out.insert(0, text)
        room -= len(text) + 3
    return out


def log_file(session: st.Session, worker: st.Worker) -> Optional[str]:
    """Where the worker's whole output is: ``output.log`` (headless), the pane's scrollback saved now (tmux), the
    scrollback a stop saved before; None when there is none."""
    if worker.runtime == "headless":
        path = launch.log_path(session.name, worker.slug)
        return path if os.path.exists(path) else None
    saved = logs.scrollback_path(session.name, worker.slug)  # where ``session logs`` reads a gone pane
    if worker.runtime == "tmux" and worker.pane:
        text = launch.capture(worker.pane, session.tmux_socket, history=True)
        if text:
            fsio.atomic_write(saved, redact(text, None).encode("utf-8"))
    return saved if os.path.exists(saved) else None


def output_text(path: Optional[str]) -> str:
    if not path:
        return ""
    try:
        return fsio.read_tail(path, TAIL_BYTES).decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


def reason(what: str, session: st.Session, worker: st.Worker) -> str:
    """``what`` (the supervisor's words: "exited with status 1"), the agent's last error lines, the log's path."""
    path = log_file(session, worker)
    words = error_lines(output_text(path))
    text = what + (": " + " | ".join(words) if words else "")
    if path is None:
        return clean(text, REASON_MAX)
    tail = f" (log: {clean(path, 1000)})"
    return clean(text, max(REASON_MAX - len(tail), 40)) + tail
