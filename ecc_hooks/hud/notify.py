"""Tell the user when a session needs them or finished: ``[notify]`` in ``$ECC_HOOKS_HOME/config.toml``.

    [notify]
    command = 'notify-send "Claude Code: $ECC_NOTIFY_NAME" "$ECC_NOTIFY_REASON"'   # run with sh -c
    on = ["waiting", "finished"]                                                  # the default

The watcher runs the command once per transition it sees live: a session starts waiting for a person
(a permission prompt, the idle prompt, an MCP server's question) or a turn ends. What it folds to catch
up (at its start, after a restart) notifies nothing. The command gets the session in its environment:
``ECC_NOTIFY_EVENT`` (waiting | finished), ``ECC_NOTIFY_SESSION`` (the id), ``ECC_NOTIFY_NAME`` (a short
name: the worktree's folder and the id's first 8 characters), ``ECC_NOTIFY_REASON`` (what it waits for, or
the turn's last message), ``ECC_NOTIFY_CWD``. Every value is redacted and cleaned of control characters
first: a payload's text never reaches a shell as code (values travel in the environment, never in the
command line), and never carries an escape sequence to a terminal. The command runs on a thread of its own,
bounded to 10 s, its process group killed after; a failure is logged.

The file is the user's own (in the private state folder, read with the one opener); nothing in a repository
can set it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

from ecc_hooks.core import paths, proc
from ecc_hooks.core.errorlog import log_error
from ecc_hooks.core.fsio import read_file
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import clean

EVENTS = ("waiting", "finished")
CONFIG_CAP = 1 << 20
TIME_LIMIT = 10.0
KNOWN = {"notify": {"command", "on"}, "github": {"ttl_seconds"}}


@dataclass(frozen=True)
class Settings:
    """``config.toml`` as far as it is valid, and what is wrong with it."""

    notify_command: Optional[str] = None
    notify_on: tuple[str, ...] = EVENTS
    github_ttl: float = 60.0
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
    problems: list[str] = []
    for table, value in raw.items():
        if table not in KNOWN:
            problems.append(f"config.toml: unknown table [{table}] (known: {', '.join(sorted(KNOWN))})")
        elif not isinstance(value, dict):
            problems.append(f"config.toml: {table} must be a table")
        else:
            for key in value:
                if key not in KNOWN[table]:
                    problems.append(
                        f"config.toml: unknown key {table}.{key} (known: {', '.join(sorted(KNOWN[table]))})"
                    )
    notify = raw.get("notify") if isinstance(raw.get("notify"), dict) else {}
    command = notify.get("command")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        problems.append("config.toml: notify.command must be a non-empty string (run with sh -c)")
        command = None
    on = notify.get("on", list(EVENTS))
    if not isinstance(on, list) or any(e not in EVENTS for e in on):
        problems.append(f"config.toml: notify.on must be a list of {', '.join(EVENTS)}")
        on = list(EVENTS)
    github = raw.get("github") if isinstance(raw.get("github"), dict) else {}
    ttl = github.get("ttl_seconds", 60)
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 5 <= ttl <= 86400:
        problems.append("config.toml: github.ttl_seconds must be a number of seconds from 5 to 86400")
        ttl = 60
    return Settings(command, tuple(on), float(ttl), problems)


def load() -> Settings:
    """The user's ``config.toml`` (defaults without one)."""
    try:
        text = read_file(config_path(), CONFIG_CAP).decode("utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(problems=[f"config.toml: cannot read it ({getattr(exc, 'strerror', None) or exc})"])
    return parse(text)


def transition(before: tuple[str, Optional[str]], after: tuple[str, Optional[str]]) -> Optional[str]:
    """The notifiable change between two (turn state, waiting for) pairs: ``waiting``, ``finished`` or None."""
    if after[1] and after[1] != before[1]:
        return "waiting"
    if after[0] == "idle" and before[0] in ("running", "waiting") and not after[1]:
        return "finished"
    return None


def environment(event: str, session: str, cwd: Optional[str], reason: Optional[str]) -> dict[str, str]:
    """The notification's variables, each redacted and cleaned (one line, no control characters)."""

    def safe(text: Optional[str], limit: int) -> str:
        return clean(redact(text or ""), limit)

    folder = os.path.basename((cwd or "").rstrip("/")) or "session"
    return {
        "ECC_NOTIFY_EVENT": event,
        "ECC_NOTIFY_SESSION": session,
        "ECC_NOTIFY_NAME": safe(f"{folder} {session[:8]}", 120),
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
