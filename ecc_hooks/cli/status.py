"""``python -m ecc_hooks.status`` / ``ecc-hooks status``: sessions at a glance, or their ``ecc.hud-status.v1`` payloads.

Read-only: builds each payload from the journal and the other sources; nothing under ``ECC_HOOKS_HOME``
changes. By default one line per session active in the last day (``--all``: every one), sessions that need
a person first: what it waits for or what is wrong, how long, context used, cost, tools and failures, branch
or worktree, and what it was asked to do. ``--json`` prints the payload (one object; an array with
``--all``), ``--markdown`` a short summary per session. ``--session`` takes an id or any unique prefix of one.
``--exit-code`` exits 2 when any shown session waits for a person or its risk is attention or blocked.
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
    which.add_argument("--session", metavar="ID", help="one session by id, or any unique prefix of one")
    which.add_argument(
        "--latest", action="store_true", help="the session whose journal changed last (the default with --json)"
    )
    which.add_argument("--all", action="store_true", help="every session, most recent first (a JSON array)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="the ecc.hud-status.v1 payload, for machines")
    fmt.add_argument("--markdown", action="store_true", help="a short readable summary")
    parser.add_argument("--exit-code", action="store_true", help="exit 2 when a session needs attention or is blocked")
    parser.add_argument("--no-gh", action="store_true", help="do not ask gh for CI checks and pull requests")


RECENT_SECONDS = 86400  # the default view: sessions whose journal changed within a day
RECENT_MAX = 40


def _sessions(args: argparse.Namespace, table: bool) -> list[str]:
    from ecc_hooks.hud import inputs as collect

    if args.session is not None:
        return [collect.resolve_session(args.session)]
    sessions = collect.list_sessions()
    if args.all:
        return [sid for sid, _ in sessions]
    if not sessions:
        from ecc_hooks.core import paths

        raise UserError(
            f"no sessions recorded under {paths.sessions_dir()} (install the hooks with "
            "`ecc-hooks install`, or point ECC_HOOKS_HOME at the right place)"
        )
    if table and not args.latest:
        import time

        horizon = time.time_ns() - RECENT_SECONDS * 10**9
        recent = [sid for sid, mtime in sessions if mtime >= horizon][:RECENT_MAX]
        return recent or [sessions[0][0]]
    return [sessions[0][0]]


def needs_person(payload: HudStatus) -> bool:
    """Waiting for a person, or a risk of attention or blocked."""
    return bool(payload.context.waitingFor) or payload.risk.status in (RiskStatus.attention, RiskStatus.blocked)


def _age(stamp: Optional[str], now: datetime) -> str:
    from ecc_hooks.core.text import duration
    from ecc_hooks.core.timestamps import parse_iso

    moment = parse_iso(stamp)
    return duration((now - moment).total_seconds()) if moment else "?"


def _group(payload: HudStatus) -> int:
    """Sessions needing a person first: waiting, blocked, attention; then running, idle, the rest."""
    ctx = payload.context
    if ctx.waitingFor:
        return 0
    if payload.risk.status == RiskStatus.blocked:
        return 1
    if payload.risk.status == RiskStatus.attention:
        return 2
    return {"running": 3, "idle": 4}.get(ctx.turnState or "", 5)


def ordered(payloads: list[HudStatus]) -> list[HudStatus]:
    """By ``_group``; waiting sessions the longest wait first, the others the most recently active first."""
    newest = sorted(payloads, key=lambda p: p.context.lastEventAt or "", reverse=True)
    return sorted(newest, key=lambda p: (_group(p), p.context.waitingSince or "" if _group(p) == 0 else ""))


COLUMNS = ("SESSION", "AGENT", "STATE", "CONTEXT", "COST", "TOOLS", "WHERE", "WHAT")


def agent_name(harness: str) -> str:
    """The agent as its command is called (``claude``, ``codex``, ``gemini``, ``opencode``, ``aider``)."""
    from ecc_hooks.harness import command_of

    return command_of(harness)


def short_ids(ids: list[str], known: list[str], minimum: int = 8) -> dict[str, str]:
    """Each id's shortest prefix (at least ``minimum`` characters) that no other ``known`` id starts with: what
    ``--session`` takes. Codex's ids are time-ordered (two of an hour share 8 characters), OpenCode's all start
    ``ses_``."""
    others = sorted(set(known) | set(ids))
    out = {}
    for sid in ids:
        size = min(minimum, len(sid))
        while size < len(sid) and any(o != sid and o.startswith(sid[:size]) for o in others):
            size += 1
        out[sid] = sid[:size]
    return out


def row(payload: HudStatus, now: datetime, short: Optional[str] = None) -> tuple[str, ...]:
    """One session's cells (untrusted text cleaned and redacted); ``short``: its id as shown."""
    from ecc_hooks.core.text import clean

    ctx, tools, risk = payload.context, payload.toolCalls, payload.risk
    if ctx.waitingFor:
        state = f"WAITING {_age(ctx.waitingSince, now)}"
        what = f"needs {ctx.waitingFor}"
    else:
        state = f"{ctx.turnState or 'unknown'} {_age(ctx.lastEventAt, now)}"
        if risk.status in (RiskStatus.attention, RiskStatus.blocked) and risk.reasons:
            what = ("BLOCKED: " if risk.status == RiskStatus.blocked else "") + risk.reasons[0]
        else:
            what = ctx.objective or ""
    shown = ctx.contextWindow.usedPct  # as Claude Code's own screen says it
    used = f"{shown}% used" if shown is not None else "?"
    usd = payload.cost.sessionUsd
    cost = f"${usd:.2f}" if usd is not None else "?"
    tool_text = f"{tools.total}" + (f" ({tools.failures} failed)" if tools.failures else "")
    folder = (ctx.worktree or ctx.cwd or "").rstrip("/").rsplit("/", 1)[-1]
    where = (f"wt:{folder}" if ctx.linkedWorktree and folder else "") or ctx.branch or folder or "?"
    if ctx.linkedWorktree and ctx.branch and folder != ctx.branch:
        where += f" ({ctx.branch})"
    cells = (short or (ctx.sessionId or "?")[:8], agent_name(ctx.harness), state, used, cost, tool_text, where, what)
    return tuple(clean(c, 200) for c in cells)


def table(payloads: list[HudStatus], now: datetime, width: int, known: Optional[list[str]] = None) -> str:
    """The sessions as aligned columns within ``width`` (the last column cut to fit); each id as short as it can
    be while no other ``known`` session's id starts with it."""
    from ecc_hooks.core.text import human

    if not payloads:
        return "No sessions recorded.\n"
    shown = short_ids([p.context.sessionId for p in payloads if p.context.sessionId], known or [])
    rows = [COLUMNS] + [row(p, now, shown.get(p.context.sessionId or "")) for p in ordered(payloads)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for cells in rows:
        head = "  ".join(c.ljust(w) for c, w in zip(cells, widths))
        room = max(width - len(head) - 2, 12)
        last = cells[-1] if len(cells[-1]) <= room else cells[-1][: room - 1] + "\u2026"
        lines.append((head + "  " + last).rstrip())
    waiting = sum(1 for p in payloads if p.context.waitingFor)
    if waiting:
        lines.append(f"{waiting} session(s) waiting for you")
    return human("\n".join(lines) + "\n")


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
        *(
            [f"- **Needs you:** waiting for {ctx.waitingFor} since {ctx.waitingSince or 'unknown'}"]
            if ctx.waitingFor
            else []
        ),
        f"- **Risk:** {risk.status.value}" + (f": {'; '.join(risk.reasons)}" if risk.reasons else ""),
        f"- **Where:** {where or 'unknown'} ({agent_name(ctx.harness)}, model {ctx.model or 'unknown'})",
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
    """Print the selected sessions; 2 with ``--exit-code`` when one needs a person."""
    from ecc_hooks.hud import inputs as collect

    now = datetime.now(timezone.utc)
    as_table = not (args.json or args.markdown)
    from ecc_hooks.cli.install import taken_summary
    from ecc_hooks.core.text import clean_block

    note = taken_summary()  # another user held the http transport's port: said first, whatever the format
    if note is not None:
        (sys.stderr if args.json else sys.stdout).write(clean_block(f"! endpoint: {note} (`ecc-hooks doctor`)") + "\n")
        (sys.stderr if args.json else sys.stdout).flush()
    payloads = [collect.session_payload(sid, now=now, use_gh=not args.no_gh) for sid in _sessions(args, as_table)]
    if as_table:
        import shutil

        known = [sid for sid, _ in collect.list_sessions()]
        sys.stdout.write(table(payloads, now, shutil.get_terminal_size((120, 24)).columns, known))
    elif args.markdown:
        from ecc_hooks.core.text import human

        sys.stdout.write(human("\n".join(markdown(p) for p in payloads)) if payloads else "No sessions recorded.\n")
    else:
        from ecc_hooks.core.text import dump_json

        docs = [p.model_dump(mode="json") for p in payloads]
        data = docs if args.all else docs[0]
        sys.stdout.write(dump_json(data, indent=True).decode("utf-8") + "\n")
    sys.stdout.flush()
    if args.exit_code and (note is not None or any(needs_person(p) for p in payloads)):
        return 2
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m ecc_hooks.status``: the same as ``ecc-hooks status``."""
    from ecc_hooks.cli import main as cli_main

    return cli_main([NAME, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
