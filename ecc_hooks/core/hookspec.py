"""The hooks ecc-hooks registers with Claude Code: the events, the command that records them, and the settings
section that lists them.

Two writers use it: ``cli.install`` puts the section into a settings file of the user's, and the runtime gives its
Claude Code workers the same section itself (a private settings layer passed with ``--settings``), so a worker is
followed whether or not the user installed the hooks. The command is the same string in both: Claude Code runs
identical commands of its merged settings once (measured with the pinned client), and the journal's writer drops
the second copy of an event a different command of ours recorded (``capture.dedupe``).
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import TYPE_CHECKING, Any

from ecc_hooks.core import paths

if TYPE_CHECKING:
    from ecc_hooks.core import endpoint

MARKER = "# ecc-hooks"
HOOK_MODULE = "ecc_hooks.capture.client"  # hands the event to the watcher, else records it itself

HOOK_TIMEOUT = 30  # seconds; twice the hook's own worst case (hook.TIME_BOUND), checked by a test

# The events we record: (event, matcher). Tool events get "*" (every tool); the rest take no matcher.
# Deliberately absent: WorktreeCreate/WorktreeRemove (a registered hook *replaces* Claude Code's own
# worktree handling and must print the path), FileChanged (its matcher is the list of files to watch,
# there is no "all"), MessageDisplay (fires per streamed chunk of text: a process per few lines, display only),
# PostToolBatch (fires after every batch of tool calls and repeats what PreToolUse/PostToolUse recorded, each
# call's input and response: a third process per tool call for nothing new, measured by
# benchmarks/bench_client_hooks.py).
EVENTS: tuple[tuple[str, str | None], ...] = (
    ("SessionStart", None),
    ("UserPromptSubmit", None),
    ("UserPromptExpansion", None),
    ("PreToolUse", "*"),
    ("PostToolUse", "*"),
    ("PostToolUseFailure", "*"),
    ("PermissionRequest", "*"),
    ("PermissionDenied", "*"),
    ("Notification", None),
    ("SubagentStart", None),
    ("SubagentStop", None),
    ("Stop", None),
    ("StopFailure", None),
    ("TaskCreated", None),
    ("TaskCompleted", None),
    ("TeammateIdle", None),
    ("PreCompact", None),
    ("PostCompact", None),
    ("PreModelSwitch", None),
    ("PostModelSwitch", None),
    ("InstructionsLoaded", None),
    ("ConfigChange", None),
    ("CwdChanged", None),
    ("DirectoryAdded", None),
    ("Elicitation", None),
    ("ElicitationResult", None),
    ("Setup", None),
    ("SessionEnd", None),
)
EVENT_NAMES: tuple[str, ...] = tuple(name for name, _ in EVENTS)
# The http transport: the events that fire for every tool call go to the watcher's loopback endpoint (one
# request instead of a process); the rest, once per turn, stay commands (they also start the watcher).
HTTP_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PostToolUseFailure"})
HTTP_TIMEOUT = 10  # seconds; the endpoint answers in milliseconds, or is down and refuses at once


def python_argv(module: str) -> list[str]:
    """The argv running ``module``'s ``main()`` with an absolute interpreter path (works whatever PATH is).

    The hook and the status line need only the standard library and this package, so the command
    skips ``site`` (``-S``: no .pth processing, often the largest part of start-up) and ``runpy``
    (``-c`` instead of ``-m``), naming the package's folder itself. It also drops the session's cwd
    from ``sys.path``: hooks run in the user's project, where a ``json.py`` would otherwise shadow
    the standard library inside our hook.
    """
    exe = os.path.abspath(sys.executable)  # abspath, not realpath: a venv's python is a symlink
    return [exe, "-S", "-c", paths.launcher_code(module)]


def python_command(module: str) -> str:
    """``python_argv`` as the marked shell command we install."""
    return f"{shlex.join(python_argv(module))} {MARKER}"


def hook_entry(command: str) -> dict[str, Any]:
    """One hook handler as Claude Code's settings schema wants it (no keys of our own)."""
    return {"type": "command", "command": command, "timeout": HOOK_TIMEOUT}


def http_entry(config: endpoint.Endpoint) -> dict[str, Any]:
    """An HTTP hook handler posting to the watcher's loopback endpoint with its bearer token."""
    return {
        "type": "http",
        "url": config.url,
        "headers": {"Authorization": f"Bearer {config.token}"},
        "timeout": HTTP_TIMEOUT,
    }


def hooks_section(command: str, http: endpoint.Endpoint | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{event: [group]}`` registering ``command`` for every event in ``EVENTS`` (the tool events as HTTP
    hooks to ``http`` when given: the http transport)."""
    section: dict[str, list[dict[str, Any]]] = {}
    for event, matcher in EVENTS:
        group: dict[str, Any] = {"matcher": matcher} if matcher is not None else {}
        group["hooks"] = [http_entry(http) if http is not None and event in HTTP_EVENTS else hook_entry(command)]
        section[event] = [group]
    return section


def runtime_settings() -> dict[str, Any]:
    """The settings layer the runtime passes to its Claude Code workers: our hooks (command transport: a worker's
    events must not depend on a watcher being up) and nothing else of the user's choosing."""
    return {"hooks": hooks_section(python_command(HOOK_MODULE))}
