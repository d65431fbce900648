"""``python -m ecc_hooks.status`` / ``ecc-hooks status``: print sessions' ``ecc.hud-status.v1`` payloads.

Read-only: builds each payload from the journal and the other sources and prints it; nothing under
``ECC_HOOKS_HOME`` changes. ``--json`` prints one object (an array with ``--all``), ``--markdown`` a
short summary; ``--exit-code`` exits 2 when any printed session's risk is attention or blocked.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Optional

from ecc_hooks.core.errors import UserError
from ecc_hooks.models.hud import HudStatus, RiskStatus

NAME = "status"  # its one-line help lives with the other commands' in cli.COMMANDS


def add_arguments(parser: argparse.ArgumentParser, name: str = NAME) -> None:
    """The status command's options."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--session", metavar="ID", help="one session by id")
    which.add_argument("--latest", action="store_true", help="the session whose journal changed last (default)")
    which.add_argument("--all", action="store_true", help="every session, most recent first (a JSON array)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON output (the default)")
    fmt.add_argument("--markdown", action="store_true", help="a short readable summary")
    parser.add_argument("--exit-code", action="store_true", help="exit 2 when a session needs attention or is blocked")
    parser.add_argument("--no-gh", action="store_true", help="do not ask gh for CI checks and pull requests")


def _sessions(args: argparse.Namespace) -> list[str]:
    from ecc_hooks.hud import inputs as collect

    if args.session is not None:
        return [collect.resolve_session(args.session)]
    sessions = [sid for sid, _ in collect.list_sessions()]
    if args.all:
        return sessions
    if not sessions:
        from ecc_hooks.core import paths

        raise UserError(
            f"no sessions recorded under {paths.sessions_dir()} (install the hooks with "
            "`ecc-hooks install`, or point ECC_HOOKS_HOME at the right place)"
        )
    return sessions[:1]


def markdown(payload: HudStatus) -> str:
    """A few lines a human can read: where, what, how it is going."""
    ctx, tools, todos, cost, risk = payload.context, payload.toolCalls, payload.todos, payload.cost, payload.risk
    where = " ".join(x for x in (ctx.repo, f"@{ctx.branch}" if ctx.branch else None, ctx.worktree) if x)
    pct = ctx.contextWindow.remainingPct
    usd = f"${cost.sessionUsd:.4f}" if cost.sessionUsd is not None else "unknown"
    budget = f" of ${cost.budgetUsd:.2f}" if cost.budgetUsd is not None else ""
    last = tools.lastTool
    lines = [
        f"## Session {ctx.sessionId or 'unknown'}",
        f"- **Risk:** {risk.status.value}" + (f": {'; '.join(risk.reasons)}" if risk.reasons else ""),
        f"- **Where:** {where or 'unknown'} (model {ctx.model or 'unknown'})",
        f"- **Context:** {f'{pct:.0f}% left' if pct is not None else 'unknown'}, pressure {ctx.contextWindow.pressure.value}",
        f"- **Tools:** {tools.total} calls, {tools.failures} failed, {tools.pending} pending,"
        f" {tools.stale} stale" + (f"; last {last.name} ({last.status.value})" if last and last.name else ""),
        "- **Agents:** " + (", ".join(f"{a.id} {a.state.value}" for a in payload.activeAgents) or "none"),
        f"- **Todos:** {todos.counts.pending} pending, {todos.counts.inProgress} in progress, "
        f"{todos.counts.completed} done" + (f"; now: {todos.inProgress}" if todos.inProgress else ""),
        "- **Checks:** "
        + (", ".join(f"`{c.command}` {c.status.value}" for c in payload.checks.local) or "none seen")
        + ("" if payload.checks.remote else "; CI unknown"),
        f"- **Cost:** {usd}{budget} ({cost.trend.value})",
    ]
    origin = ctx.snapshot
    if origin is not None:
        lines.append(
            {
                "watcher": "- **From:** the watcher's live snapshot",
                "checkpoint": f"- **From:** the watcher's saved state and {origin.newerEvents or 0} newer event(s)",
                "journal": "- **From:** the journal, folded from its first event (no usable watcher state)",
            }.get(origin.source, f"- **From:** {origin.source}")
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, name: str = NAME) -> int:
    """Print the selected sessions' payloads; 2 with ``--exit-code`` when one needs a human."""
    from ecc_hooks.hud import inputs as collect

    now = datetime.now(timezone.utc)
    payloads = [collect.session_payload(sid, now=now, use_gh=not args.no_gh) for sid in _sessions(args)]
    if args.markdown:
        from ecc_hooks.core.text import human

        sys.stdout.write(human("\n".join(markdown(p) for p in payloads)) if payloads else "No sessions recorded.\n")
    else:
        from ecc_hooks.core.text import dump_json

        docs = [p.model_dump(mode="json") for p in payloads]
        data = docs if args.all else docs[0]
        sys.stdout.write(dump_json(data, indent=True).decode("utf-8") + "\n")
    sys.stdout.flush()
    if args.exit_code and any(p.risk.status in (RiskStatus.attention, RiskStatus.blocked) for p in payloads):
        return 2
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m ecc_hooks.status``: the same as ``ecc-hooks status``."""
    from ecc_hooks.cli import main as cli_main

    return cli_main([NAME, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
