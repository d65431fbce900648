"""Tell the user when a session or a worker needs them, finished or failed: ``[notify]`` and ``[hud]`` in
``$ECC_HOOKS_HOME/config.toml``.

    [notify]
    command = 'notify-send "Claude Code: $ECC_NOTIFY_NAME" "$ECC_NOTIFY_REASON"'   # run with sh -c
    on = ["waiting", "finished", "failed"]                                        # the default

    [hud]
    bell = true      # the HUD rings the terminal bell on a notifiable transition (the default)
    notify = false   # the HUD runs [notify].command too (off: the watcher and the supervisor run it already)

    [hud.keymap]     # a control's keys, Textual's names, comma-separated (the ids: ecc_hooks.tui.keys)
    "hud.approve" = "y"

The watcher runs the command once per transition it sees live: a session starts waiting for a person
(a permission prompt, the idle prompt, an MCP server's question), a turn ends (``finished``) or ends in an
API error (``failed``: StopFailure). The runtime's supervisor does the same for its workers: ``waiting`` at a
dialog only their screen shows, ``finished`` when one becomes ``completed``, ``failed`` when one fails (with
why), except what a worker's own hooks already told the watcher. What either folds to catch up (at its start,
after a restart) notifies nothing: a transition older than ``RECENT`` when first seen is history. One rule
decides every notifiable change (``row_event``, over the HUD's row states), so the HUD rings for the same ones.

The command gets the session in its environment: ``ECC_NOTIFY_EVENT`` (waiting | finished | failed),
``ECC_NOTIFY_SESSION`` (the id; a worker's agent session, or session/worker), ``ECC_NOTIFY_NAME`` (a short
name: the worktree's folder and the id's first 8 characters; session/worker for a worker),
``ECC_NOTIFY_REASON`` (what it waits for, the turn's last message, or why it failed), ``ECC_NOTIFY_CWD``.
Every value is redacted and cleaned of control characters first: a payload's text never reaches a shell as
code (values travel in the environment, never in the command line), and never carries an escape sequence to
a terminal. The command runs on a thread of its own, bounded to 10 s, its process group killed after; a
failure is logged.

The file is the user's own (in the private state folder, read with the one opener); nothing in a repository
can set it. ``parse`` checks all of it, so ``ecc-hooks doctor`` lists every problem; what is valid is kept.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

from ecc_hooks.core import paths, proc
from ecc_hooks.core.errorlog import log_error
from ecc_hooks.core.fsio import read_file
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import clean
from ecc_hooks.tui import keys

EVENTS = ("waiting", "finished", "failed")
CONFIG_CAP = 1 << 20
TIME_LIMIT = 10.0
RECENT = 60.0  # seconds: a transition older than this when first seen is history (folded to catch up)
KNOWN = {"notify": {"command", "on"}, "github": {"ttl_seconds"}, "hud": {"bell", "notify", "keymap"}}
# a key as Textual names it: lower-case modifiers, then one printable character or a lower-case name (f1, space)
KEY_NAME = re.compile(r"(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[a-z][a-z0-9_]*|\S)")


@dataclass(frozen=True)
class Settings:
    """``config.toml`` as far as it is valid, and what is wrong with it."""

    notify_command: Optional[str] = None
    notify_on: tuple[str, ...] = EVENTS
    github_ttl: float = 60.0
    hud_bell: bool = True
    hud_notify: bool = False
    hud_keymap: dict[str, str] = field(default_factory=dict)  # control id -> its keys (``tui.keys.BY_ID``)
    problems: list[str] = field(default_factory=list)


def config_path() -> str:
    return os.path.join(paths.home(), "config.toml")


def parse(text: str) -> Settings:
    """Validate ``config.toml``'s text: unknown tables and keys, wrong types and values are problems, not ignored."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except ValueError as exc:
        return Settings(problems=[f"config.toml: {exc}"])
    problems = _unknown(raw)
    command, on = _notify_table(_table(raw, "notify"), problems)
    ttl = _github_table(_table(raw, "github"), problems)
    hud = _table(raw, "hud")
    bell = _flag(hud, "bell", True, problems)
    notify = _flag(hud, "notify", False, problems)
    keymap = _keymap(hud.get("keymap", {}), problems)
    problems = [f"config.toml: {p}" for p in problems]
    return Settings(command, on, ttl, bell, notify, keymap, problems)


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    return value if isinstance(value, dict) else {}


def _unknown(raw: dict[str, Any]) -> list[str]:
    """Tables and keys this version does not know (a typo would otherwise be ignored silently)."""
    problems = []
    for table, value in raw.items():
        if table not in KNOWN:
            problems.append(f"unknown table [{table}] (known: {', '.join(sorted(KNOWN))})")
        elif not isinstance(value, dict):
            problems.append(f"{table} must be a table")
        else:
            problems += [
                f"unknown key {table}.{key} (known: {', '.join(sorted(KNOWN[table]))})"
                for key in value
                if key not in KNOWN[table]
            ]
    return problems


def _notify_table(notify: dict[str, Any], problems: list[str]) -> tuple[Optional[str], tuple[str, ...]]:
    command = notify.get("command")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        problems.append("notify.command must be a non-empty string (run with sh -c)")
        command = None
    on = notify.get("on", list(EVENTS))
    if not isinstance(on, list) or any(e not in EVENTS for e in on):
        problems.append(f"notify.on must be a list of {', '.join(EVENTS)}")
        on = list(EVENTS)
    return command, tuple(on)


def _github_table(github: dict[str, Any], problems: list[str]) -> float:
    ttl = github.get("ttl_seconds", 60)
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 5 <= ttl <= 86400:
        problems.append("github.ttl_seconds must be a number of seconds from 5 to 86400")
        ttl = 60
    return float(ttl)


def _flag(table: dict[str, Any], key: str, default: bool, problems: list[str]) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"hud.{key} must be true or false")
        return default
    return value


def _keymap(table: object, problems: list[str]) -> dict[str, str]:
    """``[hud.keymap]``: each entry kept when its id is a control's, its keys well formed, none of Claude Code's
    chords (a person's habit there would act here) and none bound to another control; the rest are problems."""
    if not isinstance(table, dict):
        problems.append("hud.keymap must be a table of control ids to keys")
        return {}
    kept: dict[str, str] = {}
    for control, value in table.items():
        problem = _binding_problem(control, value)
        if problem:
            problems.append(f"hud.keymap.{control}: {problem}")
        else:
            kept[control] = ",".join(k.strip() for k in value.split(","))
    return _without_clashes(kept, problems)


def _binding_problem(control: str, value: object) -> Optional[str]:
    if control not in keys.BY_ID:
        return f"unknown control (known: {', '.join(sorted(keys.BY_ID))})"
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string of keys, comma-separated (Textual's names: a, G, f2, question_mark)"
    names = [k.strip() for k in value.split(",")]
    bad = [k for k in names if not KEY_NAME.fullmatch(k)]
    if bad:
        return f"not a key name: {', '.join(repr(k) for k in bad)} (Textual's names: a, G, f2, question_mark)"
    taken = [k for k in names if k in keys.CLAUDE_CODE_CHORDS]
    if taken:
        return f"{', '.join(taken)} is Claude Code's own"
    return None


def _without_clashes(kept: dict[str, str], problems: list[str]) -> dict[str, str]:
    """Drop the entries that bind a key another control has too (the defaults count for the controls not
    rebound); dropping one restores its default keys, so repeat until no key has two controls."""
    while True:
        owners: dict[str, list[str]] = {}
        for control, key in keys.BY_ID.items():
            for name in dict.fromkeys(kept.get(control, key.keys).split(",")):
                owners.setdefault(name, []).append(control)
        clashing = {name: ids for name, ids in owners.items() if len(ids) > 1}
        dropped = [c for ids in clashing.values() for c in ids if c in kept]
        if not dropped:
            return kept
        for name, ids in clashing.items():
            for control in (c for c in ids if c in kept):
                others = ", ".join(c for c in ids if c != control)
                problems.append(f"hud.keymap.{control}: {name} is bound to {others} too")
        kept = {c: v for c, v in kept.items() if c not in dropped}


def load() -> Settings:
    """The user's ``config.toml`` (defaults without one)."""
    try:
        text = read_file(config_path(), CONFIG_CAP).decode("utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(problems=[f"config.toml: cannot read it ({getattr(exc, 'strerror', None) or exc})"])
    return parse(text)


def row_event(before: Optional[str], after: str) -> Optional[str]:
    """The notifiable change between two HUD row states (``waiting`` ``running`` ``idle`` ``completed`` ``failed``
    ``stopped`` ``merged`` ``stale`` ``pending`` ``starting``): ``waiting``, ``finished``, ``failed`` or None.
    ``before`` None is a row's first sight (history: nothing rings at start-up). A turn that ends is ``idle``
    after ``running`` or ``waiting`` (a session's), a worker's is ``completed``; a stop a person made says
    nothing."""
    if before is None or before == after:
        return None
    if after in ("waiting", "failed"):
        return after
    if after == "completed" or (after == "idle" and before in ("running", "waiting")):
        return "finished"
    return None


def session_row(turn: tuple[Optional[str], ...]) -> Optional[str]:
    """A Claude Code session's row state from ``(turn state, waiting for[, turn error])`` (the fold's
    ``SessionState``, or hud.json's ``turnState``, ``waitingFor``, ``turnError``): ``waiting``, ``running``,
    ``idle``, ``failed`` (its last turn ended in an API error) or ``ended``; None before anything is known."""
    turn_state, waiting_for = turn[0], turn[1]
    error = turn[2] if len(turn) > 2 else None
    if waiting_for or turn_state == "waiting":
        return "waiting"
    if turn_state == "idle" and error:
        return "failed"
    if turn_state in ("running", "idle"):
        return turn_state
    return "ended" if turn_state == "ended" else None


def transition(before: tuple[Optional[str], ...], after: tuple[Optional[str], ...]) -> Optional[str]:
    """The notifiable change between two ``(turn state, waiting for[, turn error])`` of a session: ``waiting``
    (a new wait, also one that follows another), ``finished``, ``failed`` or None."""
    if after[1] and after[1] != before[1]:
        return "waiting"
    now = session_row(after)
    return row_event(session_row(before), now) if now else None


def recent(moment: Optional[float], now: float) -> bool:
    """Whether a transition at ``moment`` (epoch seconds; None: unknown) is live news rather than history."""
    return moment is not None and now - moment <= RECENT


def environment(
    event: str, session: str, cwd: Optional[str], reason: Optional[str], name: Optional[str] = None
) -> dict[str, str]:
    """The notification's variables, each redacted and cleaned (one line, no control characters). ``name``: what
    the person knows it by (a worker's session/worker); by default the worktree's folder and the id's start."""

    def safe(text: Optional[str], limit: int) -> str:
        return clean(redact(text or ""), limit)

    folder = os.path.basename((cwd or "").rstrip("/")) or "session"
    return {
        "ECC_NOTIFY_EVENT": event,
        "ECC_NOTIFY_SESSION": safe(session, 200),
        "ECC_NOTIFY_NAME": safe(name or f"{folder} {session[:8]}", 120),
        "ECC_NOTIFY_REASON": safe(reason, 300),
        "ECC_NOTIFY_CWD": safe(cwd, 500),
    }


def send(settings: Settings, event: str, variables: dict[str, str]) -> Optional[threading.Thread]:
    """Run the configured command for ``event`` on its own thread (None when nothing is configured for it)."""
    if not settings.notify_command or event not in settings.notify_on:
        return None
    command = settings.notify_command

    def run() -> None:
        done = proc.run(["sh", "-c", command], env=proc.clean_env(set_vars=variables), timeout=TIME_LIMIT)
        if not done.ok:
            log_error("notify-failed", f"{event}: {done.error or f'exit {done.code}'}: {done.err_text()[:200]}")

    thread = threading.Thread(target=run, name="ecc-notify", daemon=True)
    thread.start()
    return thread
