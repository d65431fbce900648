"""``ecc-hooks`` / ``python -m ecc_hooks``: one ``main(argv)`` dispatching subcommands under one error handler.

Exit codes: 0 ok, 1 a user error (the message says how to fix it), 2 what a command
defines (e.g. ``--exit-code`` on attention), 130 Ctrl-C, 3 an internal error (logged).
Each subcommand lives in its own module exposing ``add_arguments(parser, name)`` and
``run(args, name) -> int``; modules are imported only when their command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from ecc_hooks import __version__
from ecc_hooks.core.errors import UserError


class Parser(argparse.ArgumentParser):
    """argparse with usage errors exiting 1 (2 is reserved for ``--exit-code`` verdicts)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "install": ("ecc_hooks.cli.install", "add ecc-hooks' hooks and status line to a Claude Code settings file"),
    "uninstall": ("ecc_hooks.cli.install", "remove exactly what install added"),
    "doctor": ("ecc_hooks.cli.install", "say what is installed where and whether each command runs"),
    "hook": ("ecc_hooks.capture.hook", "run the recording hook (reads a hook payload on stdin)"),
    "statusline": (
        "ecc_hooks.cli.statusline",
        "run the status line (stdin from Claude Code), or --preview it on sample data",
    ),
    "status": ("ecc_hooks.cli.status", "print the HUD status (ecc.hud-status.v1) of Claude Code sessions"),
    "inspect": ("ecc_hooks.cli.inspect", "inspect one session (ecc.session.v1) or write its handoff document"),
    "watch": ("ecc_hooks.cli.watch", "run the watcher daemon that keeps every session's hud.json current"),
    "loop-status": (
        "ecc_hooks.cli.loop_status",
        "scan recent transcripts for stuck long-running loops (ecc.loop-status.v1)",
    ),
    "hud": ("ecc_hooks.cli.hud", "the full-screen HUD: every live session and worker, one key per control"),
    "session": ("ecc_hooks.cli.session", "the companion runtime's session controls (create: plan a session)"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command (modules imported lazily per command)."""
    parser = Parser(prog="ecc-hooks", description="Status and handoff layer for Claude Code agents.")
    parser.add_argument("--version", action="version", version=f"ecc-hooks {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; never lets a traceback reach the user for an expected error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv or ["--help"])  # prints help / version / a usage error and exits
        return 1
    name = argv[0]
    module_name, help_text = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
        if name == "hook":
            return module.main()
        sub = Parser(prog=f"ecc-hooks {name}", description=help_text)
        module.add_arguments(sub, name)
        args = sub.parse_args(argv[1:])
        return int(module.run(args, name) or 0)
    except UserError as exc:
        from ecc_hooks.core.text import human  # messages may quote file contents or paths from transcripts

        print(f"ecc-hooks {name}: {human(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        from ecc_hooks.core.fsio import UnsafeFile

        if isinstance(exc, UnsafeFile):  # a refused path (a link, not ours, a missing folder) is the user's to fix
            from ecc_hooks.core.text import human

            print(f"ecc-hooks {name}: refused: {human(str(exc))}", file=sys.stderr)
            return 1
        log = _log_crash()
        print(f"ecc-hooks {name}: internal error; details in {log}", file=sys.stderr)
        return 3


def _log_crash() -> str:
    """Write the current traceback to ``$ECC_HOOKS_HOME/cli-errors.log`` (or stderr); return where."""
    from ecc_hooks.core import paths

    text = traceback.format_exc()
    try:
        path = paths.cli_errors_log_path()
        from ecc_hooks.core.fsio import append_bounded
        from ecc_hooks.core.redact import redact

        append_bounded(path, redact(text, limit=None).encode("utf-8", "replace"), 1 << 20)
        return path
    except OSError:
        sys.stderr.write(text)
        return "stderr"
