"""The other coding agents, captured like Claude Code: Codex, Gemini CLI, OpenCode and Aider.

One module per agent (``ecc_hooks.harness.<name>``, ``name`` the CLI name) turns the agent's own events into
Claude-Code-shaped hook payloads (``to_claude``), which the shared normalizer makes ``ecc.event.v1`` records with a
``harness`` field; installs and removes our hook in the agent's own configuration (``install``/``uninstall``); gives
a runtime worker its capture without touching the user's configuration (``worker_capture``); and reads tokens, cost
and context from the agent's transcript, database or log (``read_usage``).

This package's ``__init__`` and the agents' modules stay standard library only at their top level: the hook
imports them on every event (tests/test_import_budget.py). ``InstallContext`` and ``WorkerCapture`` live in
``harness.context`` and are imported from here lazily.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

CLAUDE = "claude-code"
# CLI name -> what the event's ``harness`` field and the payload's ``context.harness`` say
HARNESSES = {"codex": "codex", "gemini": "gemini-cli", "opencode": "opencode", "aider": "aider"}
CLI_NAMES = {field: name for name, field in HARNESSES.items()}
# the agents that give no payload on stdin: the client asks their module's ``payload_from(argv, environ)``
NO_STDIN = frozenset({"aider"})


def cli_name(name: str) -> str | None:
    """The CLI name of an agent named either way (``gemini`` or ``gemini-cli``), None when it is none of ours."""
    if name in HARNESSES:
        return name
    return CLI_NAMES.get(name)


def command_of(harness: str | None) -> str:
    """The command an agent is run by, from a session's ``harness`` (None or ``claude-code``: ``claude``): what the
    status table, the HUD and a handoff call it."""
    if harness in (None, "", CLAUDE):
        return "claude"
    return CLI_NAMES.get(harness, harness)


def module(name: str) -> ModuleType:
    """The module of one agent (``codex``, ``gemini``/``gemini-cli``, ``opencode``, ``aider``)."""
    import importlib

    found = cli_name(name)
    if found is None:
        raise ValueError(f"unknown harness {name!r}")
    return importlib.import_module(f"{__name__}.{found}")


def hook_argv(name: str) -> list[str]:
    """The hook command for one agent, argv form: the installed launcher plus the agent's CLI name."""
    from ecc_hooks.core import hookspec

    found = cli_name(name)
    if found is None:
        raise ValueError(f"unknown harness {name!r}")
    return [*hookspec.python_argv("ecc_hooks.capture.client"), found]


def __getattr__(name: str) -> object:
    if name in ("InstallContext", "WorkerCapture"):
        from ecc_hooks.harness import context

        return getattr(context, name)
    raise AttributeError(name)
