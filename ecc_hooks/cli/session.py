"""``ecc-hooks session <control>``: the companion runtime's controls (one subcommand per HUD session control).

``session create PLAN.json`` reads an orchestration plan (ECC's format unchanged, plus ours: see
``models.plan``) and prints what it would create: the session's name, each worker's branch, worktree,
coordination files and launch command, as ECC's ``orchestrate-worktrees.js`` previews them; ``--execute``
creates it (``runtime.workspace``: all or nothing, git writes under the repository's mutex). The quick form needs
no file: ``session create NAME --agent claude --task "..." --task "..." [--base REF]``. Every agent a plan names
must be installed (binary and version), or nothing is planned.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ecc_hooks.core.errors import UserError

NAME = "session"


def add_arguments(parser: argparse.ArgumentParser, name: str = NAME) -> None:
    """The session controls."""
    controls = parser.add_subparsers(dest="control", metavar="CONTROL", required=True)
    create = controls.add_parser(
        "create", help="plan a session from a plan file (ECC's format) or from --task options; prints the plan"
    )
    create.add_argument("target", metavar="PLAN.json|NAME", help="a plan file, or a session name with --task")
    create.add_argument("--task", action="append", default=[], help="quick form: one worker per --task")
    create.add_argument("--agent", default="claude", help="quick form: the agent of every worker (default claude)")
    create.add_argument("--base", default="HEAD", help="quick form: the ref the worktrees start from")
    create.add_argument("--model", help="quick form: the agents' model")
    create.add_argument(
        "--execute", action="store_true", help="create it: worktrees, coordination files, tmux panes (all or nothing)"
    )


def _quick_plan(args: argparse.Namespace) -> dict[str, Any]:
    from ecc_hooks.runtime.plan import slugify

    if not args.task:
        raise UserError(f"{args.target!r} is not a plan file; to plan without one give one --task per worker")
    return {
        "sessionName": args.target,
        "baseRef": args.base,
        "workers": [
            {"name": f"{slugify(args.target)}-{n}", "task": task, "agent": args.agent, "model": args.model}
            for n, task in enumerate(args.task, 1)
        ],
    }


def run(args: argparse.Namespace, name: str = NAME) -> int:
    """Run one control."""
    from ecc_hooks.runtime import agents
    from ecc_hooks.runtime import plan as planning

    if args.control == "create":
        if os.path.isfile(args.target):
            if args.task:
                raise UserError("give a plan file or --task options, not both")
            plan = planning.load(args.target)
            plan_file: str | None = args.target
        else:
            plan = planning.validate(_quick_plan(args), "the quick form")
            plan_file = None
        agents.require([w.agent for w in plan.workers if w.agent])  # before anything is planned or created
        session = planning.build(plan, plan_file)
        if not args.execute:
            sys.stdout.write(json.dumps(planning.preview(session), indent=2) + "\n")
            return 0
        from ecc_hooks.runtime import workspace

        made = workspace.create(session)
        socket = workspace.tmux_socket()
        print(f"created session {session.session!r}: {len(session.workers)} worker(s) in tmux -L {socket}")
        for worker in session.workers:
            print(f"  {worker.slug}: {worker.branch} in {worker.worktree} (pane {made.panes.get(worker.slug)})")
        print(f"  coordination files: {session.coordination_dir}")
        print(f"  attach: tmux -L {socket} attach -t ={session.session}")
        return 0
    raise UserError(f"unknown control {args.control!r}")
