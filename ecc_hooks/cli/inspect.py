"""``python -m ecc_hooks.inspect TARGET`` / ``ecc-hooks inspect``: one session as ``ecc.session.v1``, or its handoff.

Targets (``--target-type`` overrides the guess):

- ``latest``, a session id: our journals (adapter ``journal``, kind ``claude-code``);
- ``claude:latest``, ``claude:<id>``, a transcript path (``*.jsonl``): Claude Code's history, and ECC's session
  files (``*-session.tmp`` by path, ``claude-history:``/``history:``/``claude:`` ``latest``, ``<alias>``,
  ``<id>``) as ECC's adapter of the same name reads them (``claude_history``);
- an orchestration session name, a plan file, a coordination directory: ECC's dmux-tmux layout (``dmux_tmux``).

``--write PATH`` writes the JSON atomically; ``--markdown`` prints the handoff document, ``--handoff PATH``
writes it (and records it for the HUD's ``sync.handoff``). A bad target exits 1 and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from ecc_hooks.core.errors import UserError

TARGET_TYPES = (
    "latest",
    "session-id",
    "claude-history",
    "claude-alias",
    "session-file",
    "transcript",
    "orchestration-session",
    "plan",
    "coordination-dir",
)


@dataclass
class Probe:
    """The facts target guessing needs, as functions (real ones read the disk; tests pass their own)."""

    path_kind: Callable[[str], Optional[str]]  # "file", "dir" or None
    journal: Callable[[str], bool]  # a journal of that session id exists
    orchestration: Callable[[str], bool]  # an orchestration session of that name exists
    transcript: Callable[[str], bool]  # a Claude Code transcript of that session id exists


def guess_target_type(target: str, probe: Probe) -> Optional[str]:
    """Which target type ``target`` is, or None; first match wins (see the module docstring for the order).

    ``latest`` and the ``claude:`` prefixes are keywords; then existing paths (``*.jsonl`` file: transcript,
    ``*.tmp`` file: ECC's session file, other file: plan, directory: coordination dir); then names: a
    journal, an orchestration session, a transcript of that id.
    """
    from ecc_hooks.handoff.adapters.claude_history import PREFIXES

    if target == "latest":
        return "latest"
    if target.startswith(PREFIXES):
        return "claude-history"
    if not target or "\0" in target:
        return None
    kind = probe.path_kind(target)
    if kind == "file":
        return "transcript" if target.endswith(".jsonl") else "session-file" if target.endswith(".tmp") else "plan"
    if kind == "dir":
        return "coordination-dir"
    if "/" in target:
        return None  # a path that does not exist is never a name
    if probe.journal(target):
        return "session-id"
    if probe.orchestration(target):
        return "orchestration-session"
    if probe.transcript(target):
        return "claude-history"
    return None


def _path_kind(value: str) -> Optional[str]:
    try:
        if os.path.isfile(value):
            return "file"
        if os.path.isdir(value):
            return "dir"
    except (OSError, ValueError):
        return None
    return None


def disk_probe(ctx: object) -> Probe:
    """A Probe over the real filesystem (journals, coordination root, Claude Code's projects/)."""
    from ecc_hooks.handoff.adapters import claude_history, dmux_tmux, journal

    return Probe(
        path_kind=_path_kind,
        journal=journal.journal_exists,
        orchestration=lambda name: dmux_tmux.session_dir_exists(name, ctx),  # type: ignore[arg-type]
        transcript=lambda sid: claude_history.find_transcript(sid) is not None,
    )


def add_arguments(parser: argparse.ArgumentParser, name: str = "inspect") -> None:
    """The ``inspect`` command's options."""
    parser.add_argument(
        "target",
        nargs="?",
        help="latest | <session id> | <transcript.jsonl> | claude:latest | claude:<id|alias> | "
        "<ECC session.tmp> | <orchestration session> | <plan.json> | <coordination dir>",
    )
    parser.add_argument("--target-type", choices=TARGET_TYPES, help="skip the guess: read TARGET as this type")
    parser.add_argument("--list-adapters", action="store_true", help="list adapters and the target types each reads")
    parser.add_argument("--write", metavar="PATH", help="write the ecc.session.v1 JSON to PATH (atomically)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--markdown", action="store_true", help="print the handoff document instead of JSON")
    out.add_argument("--handoff", metavar="PATH", help="write the handoff document to PATH")
    parser.add_argument(
        "--coordination-root",
        metavar="DIR",
        help="where orchestration sessions live (default $ECC_ORCHESTRATION_ROOT, else <repo>/.orchestration)",
    )
    parser.add_argument(
        "--tmux-socket",
        metavar="NAME",
        help="tmux socket name (tmux -L; default $ECC_HOOKS_TMUX_SOCKET, else tmux's default server)",
    )


def _writable(path: str, flag: str) -> str:
    target = os.path.abspath(os.path.expanduser(path))
    parent = os.path.dirname(target)
    if not os.path.isdir(parent):
        raise UserError(f"{flag} {path}: folder {parent} does not exist (create it first)")
    if os.path.isdir(target):
        raise UserError(f"{flag} {path}: is a directory; give a file path")
    return target


def run(args: argparse.Namespace, name: str = "inspect", out: Callable[[str], None] = print) -> int:
    """Resolve the target, inspect it, then print and write (writes only once everything is known)."""
    from ecc_hooks.handoff.adapters import Context, Target, TargetError, adapter_for, registry

    if args.list_adapters:
        for adapter_id, module in registry().items():
            out(f"{adapter_id}\t{', '.join(module.TARGET_TYPES)}\t{module.DESCRIPTION}")
        return 0
    if not args.target:
        raise UserError("give a TARGET (e.g. latest, claude:latest, a session id) or --list-adapters")
    write_path = _writable(args.write, "--write") if args.write else None
    handoff_path = _writable(args.handoff, "--handoff") if args.handoff else None
    ctx = Context(
        now=datetime.now(timezone.utc),
        cwd=os.getcwd(),
        coordination_root=args.coordination_root,
        tmux_socket=args.tmux_socket,
    )
    probe = disk_probe(ctx)
    target_type = args.target_type or guess_target_type(args.target, probe)
    if target_type is None and "/" not in args.target and ":" not in args.target:
        from ecc_hooks.hud.inputs import list_sessions, resolve_session

        if any(sid.startswith(args.target) for sid, _ in list_sessions()):
            args.target = resolve_session(args.target)  # a unique prefix of a journal's id (else: which ones match)
            target_type = "session-id"
    if target_type is None:
        raise UserError(
            f"cannot tell what {args.target!r} is: not a journal session id, an orchestration "
            "session, a Claude Code session id, or an existing file or directory. Try `latest`, "
            "`claude:latest`, or --target-type (see --list-adapters)"
        )
    adapter = adapter_for(target_type)
    if adapter is None:
        raise UserError(f"no adapter reads target type {target_type!r} (see --list-adapters)")
    try:
        inspection = adapter.inspect(Target(type=target_type, value=args.target), ctx)
    except TargetError as exc:
        raise UserError(str(exc)) from None
    from ecc_hooks.core.text import dump_json

    document = dump_json(inspection.snapshot.model_dump(mode="json"), indent=True).decode("utf-8") + "\n"
    if args.markdown or handoff_path:
        from ecc_hooks.handoff import document as handoff

        text = handoff.render(inspection)
    if write_path:
        from ecc_hooks.core.fsio import atomic_write

        atomic_write(write_path, document.encode("utf-8"))
    if handoff_path:
        handoff.write(handoff_path, text, inspection.claude_session_id, ctx.now)
    if args.markdown:
        out(text.rstrip("\n"))
    elif not write_path:
        out(document.rstrip("\n"))
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m ecc_hooks.inspect``: the same as ``ecc-hooks inspect`` (same exit codes)."""
    from ecc_hooks.cli import main as cli_main

    return cli_main(["inspect", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
