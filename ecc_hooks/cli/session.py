"""``ecc-hooks session <control>``: the companion runtime's controls (one subcommand per HUD session control).

- ``create PLAN.json`` reads an orchestration plan (ECC's format unchanged, plus ours: see ``models.plan``) and
  prints what it would create, as ECC's ``orchestrate-worktrees.js`` previews it; ``--execute`` creates it (all or
  nothing, git writes under the repository's mutex) and hands it to the supervisor, which launches the workers as
  ``maxParallel`` allows. The quick form needs no file: ``create NAME --agent claude --task "..." --task "..."``.
  Every agent a plan names must be installed (binary and version), or nothing is planned.
- ``list``, ``status NAME [--json]`` (an ``ecc.session.v1`` snapshot: the ``inspect`` adapter's own code over the
  session's coordination files, which the supervisor keeps current), ``attach NAME [--worker W]``.
- ``stop NAME [--worker W] [--cleanup [--force]]`` and ``resume NAME [--worker W]``: see ``runtime.control``.
- ``supervise``: run the supervisor in the foreground (the other controls start it in the background).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ecc_hooks.core.errors import UserError

NAME = "session"
BACKUP_HELP = "refs/ecc-hooks/backup/<session>/<worker>"
SCREEN_HELP = "the fingerprint `session screen` showed when you looked: refused if what it shows changed since"
TRUST_HELP = "trust the repository's hooks as they are now (recorded; a hook that changes later is not trusted)"
REASON_SHOWN = 300  # a failure reason whole (the agent's last error lines and its log: runtime.failure)


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
        "--runtime", choices=("tmux", "headless", "claude-bg"), default="tmux", help="quick form: where they run"
    )
    create.add_argument("--permission-mode", metavar="MODE", help="quick form: the agents' permission mode")
    create.add_argument("--worktree-root", metavar="DIR", help="quick form: the folder of the worktrees")
    create.add_argument(
        "--execute", action="store_true", help="create it: worktrees, coordination files, tmux panes (all or nothing)"
    )
    create.add_argument("--trust-hooks", action="store_true", help=TRUST_HELP)
    listing = controls.add_parser("list", help="the runtime's sessions and their workers' states")
    listing.add_argument("--json", action="store_true", help="print JSON")
    status = controls.add_parser("status", help="one session as an ecc.session.v1 snapshot (--json) or a table")
    status.add_argument("name", metavar="NAME")
    status.add_argument("--json", action="store_true", help="print the ecc.session.v1 snapshot")
    stop = controls.add_parser("stop", help="stop a session's workers (interrupt, SIGTERM, SIGKILL); scrollback kept")
    stop.add_argument("name", metavar="NAME")
    stop.add_argument("--worker", metavar="W", help="only this worker")
    stop.add_argument("--cleanup", action="store_true", help="then remove worktrees and branches (never losing work)")
    stop.add_argument(
        "--force", action="store_true", help="with --cleanup: remove unmerged or uncommitted work too (kept in a ref)"
    )
    stop.add_argument("--trust-hooks", action="store_true", help=TRUST_HELP)
    stop.add_argument("--grace", type=float, default=10.0, help="seconds an agent gets after each step (default 10)")
    resume = controls.add_parser("resume", help="relaunch stopped, failed or stale workers with their resume command")
    resume.add_argument("name", metavar="NAME")
    resume.add_argument("--worker", metavar="W", help="only this worker (any finished state)")
    resume.add_argument(
        "--prompt", metavar="TEXT", help="what the resumed agent is told (- reads it from stdin); a headless Claude "
        "Code worker without one is told to continue"
    )  # fmt: skip
    rm = controls.add_parser(
        "rm", help="forget a finished session: its worktrees and branches (never losing work), records"
    )
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("--force", action="store_true", help=f"remove work that is not merged (kept under {BACKUP_HELP})")
    rm.add_argument("--trust-hooks", action="store_true", help=TRUST_HELP)
    retry = controls.add_parser(
        "retry", help="launch failed, stopped or stale workers again with their original command"
    )
    retry.add_argument("name", metavar="NAME")
    retry.add_argument("--worker", metavar="W", help="only this worker")
    attach = controls.add_parser("attach", help="attach to the session's tmux session (a worker's pane selected)")
    attach.add_argument("name", metavar="NAME")
    attach.add_argument("--worker", metavar="W")
    supervise = controls.add_parser(
        "supervise", help="run the supervisor in the foreground; --status: whether one runs; --stop: stop it"
    )
    supervising = supervise.add_mutually_exclusive_group()
    supervising.add_argument(
        "--status", action="store_true", help="its pid, since when, the sessions it watches (exit 0 running, 1 not)"
    )
    supervising.add_argument("--stop", action="store_true", help="SIGTERM it and wait until it is gone")
    supervise.add_argument("--json", action="store_true", help="with --status: print JSON")
    logs = controls.add_parser("logs", help="what a worker printed (headless log, pane scrollback, claude logs)")
    logs.add_argument("name", metavar="NAME")
    logs.add_argument("--worker", metavar="W", help="only this worker (needed with -f when there are several)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until it finishes (or Ctrl+C)")
    send = controls.add_parser("send", help="type text into a tmux worker's pane and press Enter (no attach)")
    send.add_argument("name", metavar="NAME")
    send.add_argument("--worker", metavar="W", required=True)
    send.add_argument("text", metavar="TEXT", help="what to type; - reads it from stdin (then in no command line)")
    send.add_argument("--screen", metavar="FINGERPRINT", help=SCREEN_HELP)
    screen = controls.add_parser("screen", help="a tmux worker's screen now, its permission prompt and fingerprint")
    screen.add_argument("name", metavar="NAME")
    screen.add_argument("--worker", metavar="W", required=True)
    screen.add_argument("--json", action="store_true", help="print JSON")
    for verb, what in (("approve", "approve (once)"), ("deny", "deny")):
        answer = controls.add_parser(verb, help=f"{what} the permission prompt a tmux worker waits at")
        answer.add_argument("name", metavar="NAME")
        answer.add_argument("--worker", metavar="W", required=True)
        answer.add_argument("--screen", metavar="FINGERPRINT", help=SCREEN_HELP)
    diff = controls.add_parser("diff", help="each worker's committed and uncommitted work against the base")
    diff.add_argument("name", metavar="NAME")
    diff.add_argument("--worker", metavar="W", help="only this worker (with its patch preview)")
    diff.add_argument("--stat", action="store_true", help="the one-line summaries and file lists only")
    diff.add_argument("--json", action="store_true", help="print JSON")
    merge = controls.add_parser("merge-queue", help="the merge queue (ECC 2.0's rules); --apply merges the ready")
    merge.add_argument("name", metavar="NAME")
    merge.add_argument("--json", action="store_true", help="print JSON")
    merge.add_argument("--apply", action="store_true", help="merge the ready entries into the base, one at a time")
    merge.add_argument("--strategy", choices=("merge", "rebase", "squash"), default="merge")
    merge.add_argument("--cleanup", action="store_true", help="with --apply: then remove each merged worker's worktree")
    merge.add_argument("--trust-hooks", action="store_true", help=TRUST_HELP)
    pr = controls.add_parser("pr", help="push a worker's branch and open a pull request with its handoff as the body")
    pr.add_argument("name", metavar="NAME")
    pr.add_argument("--worker", metavar="W", required=True)
    pr.add_argument("--draft", action="store_true", help="open it as a draft")
    conflicts = controls.add_parser("conflicts", help="base and pairwise conflicts with their files, dirty worktrees")
    conflicts.add_argument("name", metavar="NAME")
    conflicts.add_argument("--json", action="store_true", help="print JSON")
    conflicts.add_argument("--resolve", metavar="W", help="start an agent in W's worktree on its conflicts")
    conflicts.add_argument("--agent", default="claude", help="with --resolve: the agent (default claude)")


def _say(line: str = "") -> None:
    """Every human line the session controls print: secrets redacted, escape sequences, controls and bidi
    characters removed (``core.text.human``). Their values come from repositories, plans, agents and git."""
    from ecc_hooks.core.text import human

    sys.stdout.write(human(line) + "\n")


def _one(value: object) -> str:
    """A value inside a human line (a file or folder name, a branch): one line, whatever characters it has."""
    from ecc_hooks.core.text import clean

    return clean(value, 4096)


def _json(value: object) -> None:
    """JSON output: every string redacted, every risky character escaped (``core.text.dump_json``)."""
    from ecc_hooks.core.text import dump_json

    sys.stdout.write(dump_json(value, indent=True).decode() + "\n")


def _quick_plan(args: argparse.Namespace) -> dict[str, Any]:
    from ecc_hooks.runtime.plan import slugify

    if not args.task:
        raise UserError(f"{args.target!r} is not a plan file; to plan without one give one --task per worker")
    worker = {"agent": args.agent, "model": args.model, "runtime": args.runtime, "permissionMode": args.permission_mode}
    plan: dict[str, Any] = {
        "sessionName": args.target,
        "baseRef": args.base,
        "workers": [
            {"name": f"{slugify(args.target)}-{n}", "task": task, **worker} for n, task in enumerate(args.task, 1)
        ],
    }
    if args.worktree_root:
        plan["worktreeRoot"] = os.path.abspath(args.worktree_root)
    return plan


def run(args: argparse.Namespace, name: str = NAME) -> int:
    """Run one control."""
    handler = CONTROLS.get(args.control)
    if handler is None:
        raise UserError(f"unknown control {args.control!r}")
    return handler(args)


def _consent(hooks: Any, trust: bool, what: str) -> None:
    """Claude Code's rule for a folder's hooks: the repository's hooks run only once the user trusted them (per
    repository and content; a changed hook asks again): asked at a terminal, else refused unless ``--trust-hooks``."""
    from ecc_hooks.core.text import clean

    untrusted = hooks.untrusted()
    if not untrusted:
        return
    if trust:
        hooks.trust()
        return
    listing = "\n".join(f"  {h.name}: {clean(h.path, 300)} (sha256 {h.digest[:16]})" for h in untrusted)
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UserError(
            f"{what} refused: the repository's hooks would run commands as you and are not trusted (new, or changed "
            f"since you trusted them):\n{listing}\nReview them, then run this again at a terminal to be asked, or "
            "pass --trust-hooks. Nothing was done."
        )
    sys.stderr.write(
        f"{clean(hooks.repo, 300)} has hooks that run commands as you (in each new worktree, at merge and cleanup):\n"
        f"{listing}\nTrust them as they are now? [y/N] "
    )
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UserError(f"{what} refused: the hooks are not trusted. Nothing was done.")
    hooks.trust()


def _notes(hooks: Any) -> None:
    """Say what hooks were not run (a command's output, not only its logs)."""
    for note in hooks.notes:
        _say(f"note: {_one(note)}")


def _create(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import agents, lifecycle
    from ecc_hooks.runtime import plan as planning

    if os.path.isfile(args.target):
        if args.task:
            raise UserError("give a plan file or --task options, not both")
        quick = [f for f, v in (("--runtime", args.runtime != "tmux"), ("--permission-mode", args.permission_mode),
                                ("--worktree-root", args.worktree_root)) if v]  # fmt: skip
        if quick:
            raise UserError(f"{', '.join(quick)}: quick form only (a plan file says these per worker)")
        plan = planning.load(args.target)
        plan_file: str | None = args.target
    else:
        plan = planning.validate(_quick_plan(args), "the quick form")
        plan_file = None
    agents.require([w.agent for w in plan.workers if w.agent])  # before anything is planned or created
    session = planning.build(plan, plan_file)
    hooks = lifecycle.snapshot(session.repo_root)  # what is consented to is what runs
    if not args.execute:
        preview = planning.preview(session)
        preview["hooks"] = hooks.describe()  # what would run as the user, and whether it is trusted yet
        _json(preview)
        return 0
    _consent(hooks, args.trust_hooks, "session create")  # here, at the caller's terminal, before any delegation
    from ecc_hooks.runtime import service

    argv = ["create", args.target, *(a for task in args.task for a in ("--task", task))]
    argv += ["--agent", args.agent, "--base", args.base, *(["--model", args.model] if args.model else [])]
    argv += ["--runtime", args.runtime, *(["--permission-mode", args.permission_mode] if args.permission_mode else [])]
    argv += ["--worktree-root", os.path.abspath(args.worktree_root)] if args.worktree_root else []
    code = service.delegate([*argv, "--execute"])  # the supervisor's helper finds them trusted, or refuses
    if code is not None:
        return code
    from ecc_hooks.runtime import control

    row = control.create(session, hooks, warn=lambda note: _say(f"warning: {_one(note)}"))
    _notes(hooks)
    _say(f"created session {row.name!r}: {len(session.workers)} worker(s) in tmux -L {row.tmux_socket}")
    for worker in session.workers:
        _say(f"  {worker.slug}: {worker.branch} in {_one(worker.worktree)}")
    _say(f"  coordination files: {_one(session.coordination_dir)}")
    _say(f"  status: ecc-hooks session status {row.name}")
    _say(f"  attach: ecc-hooks session attach {row.name}")
    return 0


def _fresh_store() -> Any:
    """The store, reconciled once here when no supervisor runs (then one is started): what we print is true. A
    read-only database is read as it is (nothing can be reconciled into it; a note says so)."""
    from ecc_hooks.runtime import daemon, store, supervisor

    opened = store.Store(reading=True)
    if opened.read_only:
        from ecc_hooks.core.text import human

        sys.stderr.write(human(f"ecc-hooks session: {_one(opened.path)} is read-only: shown as last recorded") + "\n")
        return opened
    if not daemon.running():
        supervisor.Supervisor(opened).reconcile_all()
        daemon.spawn()
    return opened


def _list(args: argparse.Namespace) -> int:
    from ecc_hooks.core.text import clean
    from ecc_hooks.runtime import control

    sessions = control.summary(_fresh_store())
    if args.json:
        _json(sessions)
        return 0
    if not sessions:
        _say("no runtime sessions (create one: ecc-hooks session create PLAN.json --execute)")
    for item in sessions:
        states = ", ".join(f"{n} {state}" for state, n in sorted(item["states"].items()))
        _say(f"{item['session']}  {states or 'no workers'}  {_one(item['repoRoot'])}")
        for worker in item["workers"]:  # why each failed one failed: the agent's words and its log
            if worker["state"] == "failed" and worker["reason"]:
                _say(f"  {worker['id']} failed: {clean(worker['reason'], REASON_SHOWN)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from ecc_hooks.core.text import clean
    from ecc_hooks.handoff.adapters import Context, Target, dmux_tmux
    from ecc_hooks.handoff.adapters._common import TargetError

    store = _fresh_store()
    session = store.require_session(args.name)
    ctx = Context(now=datetime.now(timezone.utc), cwd=session.repo_root, tmux_socket=session.tmux_socket)
    try:
        inspection = dmux_tmux.inspect(Target("coordination-dir", session.coordination_dir), ctx)
    except TargetError as exc:  # its coordination folder was moved or removed
        raise UserError(f"session {session.name}: {exc}") from None
    from ecc_hooks.models.session import WorkerFigures
    from ecc_hooks.runtime import figures

    rows = [w for w in store.workers(session.name) if not w.removed]
    numbers = {w.slug: figures.of(w) for w in rows}
    for item in inspection.snapshot.workers:
        if item.id in numbers:
            item.figures = WorkerFigures(**numbers[item.id])
    if args.json:
        _json(inspection.snapshot.model_dump(mode="json"))
        return 0
    _say(f"{session.name}  ({_one(session.repo_root)}; tmux -L {session.tmux_socket})")
    _say(f"  {'WORKER':<20} {'STATE':<10} {'AGENT':<8} {'COST':>7} {'CTX':>4} {'TOOLS':>5} {'ELAPSED':>7}  BRANCH")
    for worker in rows:
        reason = f"  {clean(worker.reason, REASON_SHOWN)}" if worker.reason else ""
        _say(f"  {worker.slug:<20} {worker.state:<10} {_figures(numbers[worker.slug])}  {worker.branch}{reason}")
    return 0


def _figures(numbers: dict[str, Any]) -> str:
    """A worker's figures as the status table's columns (``-``: not known)."""
    from ecc_hooks.core.text import clean, duration

    cost, ctx, tools, took = (numbers.get(k) for k in ("costUsd", "contextUsedPct", "toolCalls", "elapsedSeconds"))
    return (
        f"{clean(numbers.get('agent'), 8):<8} "
        f"{f'${cost:.2f}' if cost is not None else '-':>7} "
        f"{f'{ctx:.0f}%' if ctx is not None else '-':>4} "
        f"{tools if tools is not None else '-':>5} "
        f"{duration(took) if took is not None else '-':>7}"
    )


def _stop(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import control

    if args.force and not args.cleanup:
        raise UserError("--force only applies with --cleanup")
    if args.trust_hooks:  # the supervisor runs before_worktree_remove later: only what is trusted now
        from ecc_hooks.runtime import lifecycle, store

        if not args.cleanup:
            raise UserError("--trust-hooks only applies with --cleanup")
        _consent(lifecycle.snapshot(store.Store().require_session(args.name).repo_root), True, "session stop")
    for slug, what in control.stop(args.name, args.worker, args.grace):
        _say(f"{slug}: {what}")
    if args.cleanup:
        queued = control.request_cleanup(args.name, args.worker, args.force)
        _say(f"cleanup queued for {', '.join(queued)} (the supervisor removes them; see session list)")
    return 0


def _resume(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import control

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    resumed = control.resume(args.name, args.worker, _say, prompt)
    if not resumed:
        raise UserError(f"nothing to resume in {args.name!r} (only stopped, failed or stale workers resume)")
    _say(f"resumed: {', '.join(resumed)}")
    return 0


def _rm(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import control, lifecycle, store

    session = store.Store().require_session(args.name)
    _consent(lifecycle.snapshot(session.repo_root), args.trust_hooks, "session rm")  # before_worktree_remove
    for line in control.forget(args.name, args.force):
        _say(line)
    _say(f"removed session {args.name!r} (its coordination files stay in {_one(session.coordination_dir)})")
    return 0


def _retry(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import control

    retried = control.retry(args.name, args.worker)
    if not retried:
        raise UserError(f"nothing to retry in {args.name!r} (only failed, stopped or stale workers are retried)")
    _say(f"retrying: {', '.join(retried)}")
    return 0


def _attach(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import launch, store

    opened = store.Store()
    session = opened.require_session(args.name)
    argv = ["tmux", "-L", session.tmux_socket]
    if not args.worker and all(w.runtime == "headless" for w in opened.workers(session.name) if not w.removed):
        raise UserError(
            f"session {session.name} runs headless only: it has no pane to attach to; read its workers' output "
            f"with `ecc-hooks session logs {session.name} [--worker W] [-f]`"
        )
    if args.worker:
        worker = opened.worker(session.name, args.worker)
        if worker.runtime == "headless":
            raise UserError(
                f"{worker.slug} runs headless: it has no pane to attach to; read its output with `ecc-hooks session "
                f"logs {session.name} --worker {worker.slug} [-f]` (it is in {launch.log_path(session.name, worker.slug)})"
            )
        if worker.runtime == "claude-bg" and worker.handle:
            os.execvp("claude", ["claude", "attach", worker.handle])
        if worker.pane:
            launch.tmux("select-pane", "-t", worker.pane, socket=session.tmux_socket, check=False)
    if not sys.stdin.isatty():
        raise UserError(f"attach needs a terminal; run: {' '.join(argv)} attach -t ={session.name}")
    os.execvp("tmux", [*argv, "attach", "-t", f"={session.name}"])
    return 0  # not reached


def _logs(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import logs, store

    opened = store.Store(reading=True)
    session, workers = logs.targets(opened, args.name, args.worker)
    if args.follow:
        if len(workers) != 1:
            raise UserError(f"-f follows one worker: name it with --worker ({', '.join(w.slug for w in workers)})")
        try:
            logs.follow(opened, session.name, workers[0].slug, _say)
        except KeyboardInterrupt:
            pass
        return 0
    for worker in workers:
        where, text = logs.read(session, worker)
        if len(workers) > 1:
            _say(f"==> {worker.slug} ({worker.runtime}): {_one(where)} <==")
        if text is None:
            _say(f"(no output kept for {worker.slug}: {_one(where)} is not there)")
        elif text.strip():
            _say(text.rstrip("\n"))
    return 0


def _send(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import interact

    text = sys.stdin.read() if args.text == "-" else args.text
    _say(f"{args.worker}: {interact.send(args.name, args.worker, text, args.screen)}")
    return 0


def _screen(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import interact

    look = interact.look(args.name, args.worker)
    if args.json:
        _json({"worker": look.slug, "screen": look.screen, "permissionPrompt": look.prompt,
               "fingerprint": look.fingerprint})  # fmt: skip
        return 0
    _say(look.screen.rstrip("\n"))
    if look.prompt is not None:
        _say(f"--- {look.slug} waits at a permission prompt: {look.prompt.replace(chr(10), ' / ')}")
    _say(f"--- fingerprint {look.fingerprint} (session approve|deny|send ... --screen {look.fingerprint})")
    return 0


def _answer(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import interact

    _say(f"{args.worker}: {interact.answer(args.name, args.worker, args.control == 'approve', args.screen)}")
    return 0


def _supervise(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import daemon

    if args.stop:
        pid = daemon.stop()
        _say(f"stopped the supervisor (pid {pid})" if pid else "no supervisor runs")
        return 0
    if args.status:
        found = daemon.status()
        if args.json:
            _json(found)
        elif found["running"]:
            watched = ", ".join(found["sessions"]) or "nothing (it exits when idle)"
            _say(f"running: pid {found['pid']} since {found['since'] or '?'}; watching {watched}")
        elif found["restartPending"]:
            _say("not running: killed while sessions were live; the next hook of a worker or the watcher starts it")
        else:
            _say("not running")
        return 0 if found["running"] else 1
    from ecc_hooks.runtime import supervisor

    return supervisor.run_foreground()


def _diff(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ecc_hooks.runtime import merge, store

    opened = store.Store(reading=True)
    session = opened.require_session(args.name)
    workers = [w for w in opened.workers(session.name) if not w.removed]
    if args.worker:
        workers = [opened.worker(session.name, args.worker)]
    diffs = [merge.diff(session, w, patch=bool(args.worker) and not args.stat) for w in workers]
    if args.json:
        _json([asdict(d) for d in diffs])
        return 0
    for d in diffs:
        _say(f"{d.id} ({d.branch}): {_one(d.summary)}")
        for label, names in (("committed", d.committed), ("staged", d.staged), ("unstaged", d.unstaged),
                             ("untracked", d.untracked)):  # fmt: skip
            for name in names:  # every form lists the files (--stat: without the patch preview)
                _say(f"  {label:<9} {_one(name)}")
        if d.patch:
            _say(d.patch)
            if d.truncated:
                _say(
                    f"... (preview cut at {merge.PREVIEW_LINES} lines; git -C {_one(workers[0].worktree)} diff for all)"
                )
    return 0


def _merge_queue(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import merge, store

    opened = store.Store(reading=not args.apply)
    session = opened.require_session(args.name)
    if args.cleanup and not args.apply:
        raise UserError("--cleanup only applies with --apply")
    if args.trust_hooks and not args.apply:
        raise UserError("--trust-hooks only applies with --apply")
    if args.apply:
        from ecc_hooks.runtime import lifecycle

        hooks = lifecycle.snapshot(session.repo_root)  # now, before any merge brings new hook files in
        if args.trust_hooks:
            hooks.trust()
        try:
            merged = merge.apply(opened, session, args.strategy, hooks)
        finally:
            _notes(hooks)
        for slug, what in merged:
            _say(f"{slug}: {what}")
        if not merged:  # a no-op that says so: what is merged already, else that nothing is ready
            done = [e.suggestedAction for e in merge.queue(opened, session) if e.kind == "merged"]
            for line in done or ["nothing to merge: no worker is ready (see the queue below)"]:
                _say(line)
        if args.cleanup and merged:
            from ecc_hooks.runtime import control

            for slug, _ in merged:  # merged: nothing to lose, so the no-lost-work rules let it go
                control.request_cleanup(session.name, slug)
            _say(f"cleanup queued for {', '.join(s for s, _ in merged)}")
    entries = merge.queue(opened, session)
    if args.json:
        _json([e.as_json() for e in entries])
        return 0
    for e in entries:
        where = f"#{e.position}" if e.readyToMerge else e.kind if e.kind in ("merged", "missing") else "blocked"
        _say(
            f"{where:<8} {e.id:<20} {e.branch}  {e.suggestedAction}"
            + (f" ({', '.join(_one(f) for f in e.files[:5])})" if e.kind in ("base-conflict",) else "")
        )
    return 0


def _conflicts(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import merge, store

    opened = store.Store(reading=not args.resolve)
    session = opened.require_session(args.name)
    if args.resolve:
        from ecc_hooks.runtime import daemon, snapshot

        with store.session_lock(session.name):
            prompt = merge.resolve(opened, session, args.resolve, args.agent)
        snapshot.export(opened, queues=False)
        daemon.spawn()
        _say(f"{args.resolve}: {args.agent} started on its conflicts: {prompt}")
        return 0
    found = merge.conflicts(merge.queue(opened, session))
    if args.json:
        _json(found)
        return 0
    if not found:
        _say("no conflicts and no dirty worktrees")
    for c in found:
        other = f" with {c['blockedBy'][0]['worker']}" if c["kind"] == "pair-conflict" else ""
        _say(f"{c['id']}: {c['kind']}{other}: {', '.join(_one(f) for f in c['files']) or '(uncommitted changes)'}")
    return 0


def _pr(args: argparse.Namespace) -> int:
    from ecc_hooks.runtime import merge, store

    opened = store.Store()
    session = opened.require_session(args.name)
    _say(merge.pull_request(session, opened.worker(session.name, args.worker), args.draft))
    return 0


CONTROLS = {
    "create": _create,
    "list": _list,
    "status": _status,
    "stop": _stop,
    "resume": _resume,
    "retry": _retry,
    "rm": _rm,
    "attach": _attach,
    "supervise": _supervise,
    "logs": _logs,
    "send": _send,
    "screen": _screen,
    "approve": _answer,
    "deny": _answer,
    "diff": _diff,
    "merge-queue": _merge_queue,
    "conflicts": _conflicts,
    "pr": _pr,
}
