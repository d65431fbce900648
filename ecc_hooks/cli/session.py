"""``ecc-hooks session <control>``: the companion runtime's controls (one subcommand per HUD session control).

- ``create PLAN.json`` reads an orchestration plan (ECC's format unchanged, plus ours: see ``models.plan``) and
  prints what it would create, as ECC's ``orchestrate-worktrees.js`` previews it; ``--execute`` creates it (all or
  nothing, git writes under the repository's mutex) and hands it to the supervisor, which launches the workers as
  ``maxParallel`` allows. The quick form needs no file: ``create NAME --agent claude --task "..." --task "..."``.
  Every agent a plan names must be installed (binary and version), or nothing is planned.
- ``list``, ``status NAME [--json]`` (an ``ecc.session.v1`` snapshot: the ``inspect`` adapter's own code over the
  session's coordination files, which the supervisor keeps current), ``attach NAME [--worker W]``.
- ``stop NAME [--worker W] [--cleanup [--force]]`` and ``resume NAME [--worker W]``: see ``runtime.control``.
- ``send``, ``screen``, ``approve``, ``deny`` ``NAME --worker W``: a tmux worker's pane; ``screen``, ``approve`` and
  ``deny`` also take ``--claude-session ID`` instead: any Claude Code session its hooks saw start in a tmux pane.
- ``supervise``: run the supervisor in the foreground (the other controls start it in the background).

Every control is a request to the runtime through ``runtime.client`` (its records: ``runtime.records``): this
module parses options, sends the request, and formats the reply itself, through ``_say`` and ``_json`` only. It
imports nothing else of the runtime but ``plan`` (the quick form's names); the runtime never imports the CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import client
from ecc_hooks.runtime import records as rec

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
    screen = controls.add_parser(
        "screen",
        help="a tmux worker's screen now (or any Claude Code session's), its permission prompt and fingerprint",
    )
    _pane_target(screen)
    screen.add_argument("--json", action="store_true", help="print JSON")
    for verb, what in (("approve", "approve (once)"), ("deny", "deny")):
        answer = controls.add_parser(
            verb, help=f"{what} the permission prompt a tmux worker (or any Claude Code session in tmux) waits at"
        )
        _pane_target(answer)
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


def _internal(message: str) -> NoReturn:
    """The runtime's helper failed unexpectedly (it logged the traceback): exit 3, as the CLI's own crashes."""
    from ecc_hooks.core.text import human

    sys.stderr.write(human(f"ecc-hooks {NAME}: {message}") + "\n")
    sys.exit(3)


def _data(reply: rec.Reply, notes_to_stderr: bool = False) -> Any:
    """The reply's data, after its notes (what hooks were not run, and why: a command's output, not only its
    logs); a refusal is raised (``records.Refused``, a UserError: exit 1 with its message)."""
    for note in reply.notes:
        if notes_to_stderr:
            from ecc_hooks.core.text import human

            sys.stderr.write(human(f"ecc-hooks {NAME}: {note}") + "\n")
        else:
            _say(f"note: {_one(note)}")
    if reply.refused is not None and reply.refused.kind == "internal":
        _internal(reply.refused.message)
    return client.expect(reply)


def _consent(refused: rec.Refused, trust: bool, what: str) -> None:
    """Claude Code's rule for a folder's hooks: the repository's hooks run only once the user trusted them (per
    repository and content; a changed hook asks again): asked at a terminal, else refused unless ``--trust-hooks``.
    What is trusted is what the runtime refused on (the follow-up's digests), never what changed since."""
    from ecc_hooks.core.text import clean

    follow = refused.follow_up
    if not isinstance(follow, rec.TrustHooks):
        raise refused
    if trust:
        client.run(follow)
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise refused
    shown: rec.HooksData = client.run(rec.Hooks(follow.repo_root))
    untrusted = [h for h in shown.hooks if h.digest in follow.digests]
    listing = "\n".join(f"  {h.name}: {clean(h.path, 300)} (sha256 {h.digest[:16]})" for h in untrusted)
    sys.stderr.write(
        f"{clean(follow.repo_root, 300)} has hooks that run commands as you (in each new worktree, at merge and "
        f"cleanup):\n{listing}\nTrust them as they are now? [y/N] "
    )
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UserError(f"{what} refused: the hooks are not trusted. Nothing was done.")
    client.run(follow)


def _create(args: argparse.Namespace) -> int:
    if os.path.isfile(args.target):
        if args.task:
            raise UserError("give a plan file or --task options, not both")
        quick_only = [f for f, v in (("--runtime", args.runtime != "tmux"), ("--permission-mode", args.permission_mode),
                                     ("--worktree-root", args.worktree_root)) if v]  # fmt: skip
        if quick_only:
            raise UserError(f"{', '.join(quick_only)}: quick form only (a plan file says these per worker)")
        plan_file: str | None = args.target
        quick: dict[str, Any] | None = None
    else:
        plan_file, quick = None, _quick_plan(args)
    if not args.execute:
        shown: rec.PreviewData = client.run(rec.Preview(plan_file, quick))
        _json(shown.preview)
        return 0
    request = rec.Create(plan_file, quick)
    reply = client.call(request)
    if reply.refused is not None and reply.refused.kind == "untrusted-hooks":
        try:
            client.expect(reply)
        except rec.Refused as refused:  # at the caller's terminal, then the same request again
            _consent(refused, args.trust_hooks, "session create")
        reply = client.call(request)  # the runtime finds them trusted, or refuses
    if reply.ok:  # what the user should know first: the base checkout's uncommitted files the workers lack
        for note in reply.data.warnings:
            _say(f"warning: {_one(note)}")
    made: rec.CreateData = _data(reply)
    _say(f"created session {made.session!r}: {len(made.workers)} worker(s) in tmux -L {made.tmux_socket}")
    for worker in made.workers:
        _say(f"  {worker.slug}: {worker.branch} in {_one(worker.worktree)}")
    _say(f"  coordination files: {_one(made.coordination_dir)}")
    _say(f"  status: ecc-hooks session status {made.session}")
    _say(f"  attach: ecc-hooks session attach {made.session}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from ecc_hooks.core.text import clean

    listed: rec.ListData = _data(client.call(rec.ListSessions()), notes_to_stderr=True)
    if args.json:
        _json(listed.sessions)
        return 0
    if not listed.sessions:
        _say("no runtime sessions (create one: ecc-hooks session create PLAN.json --execute)")
    for item in listed.sessions:
        states = ", ".join(f"{n} {state}" for state, n in sorted(item["states"].items()))
        _say(f"{item['session']}  {states or 'no workers'}  {_one(item['repoRoot'])}")
        for worker in item["workers"]:  # why each failed one failed: the agent's words and its log
            if worker["state"] == "failed" and worker["reason"]:
                _say(f"  {worker['id']} failed: {clean(worker['reason'], REASON_SHOWN)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ecc_hooks.core.text import clean

    shown: rec.StatusData = _data(client.call(rec.Status(args.name)), notes_to_stderr=True)
    if args.json:
        _json(shown.snapshot)
        return 0
    _say(f"{shown.session}  ({_one(shown.repo_root)}; tmux -L {shown.tmux_socket})")
    _say(f"  {'WORKER':<20} {'STATE':<10} {'AGENT':<8} {'COST':>7} {'CTX':>4} {'TOOLS':>5} {'ELAPSED':>7}  BRANCH")
    for worker in shown.workers:
        reason = f"  {clean(worker.reason, REASON_SHOWN)}" if worker.reason else ""
        _say(f"  {worker.slug:<20} {worker.state:<10} {_figures(worker.figures)}  {worker.branch}{reason}")
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
    if args.force and not args.cleanup:
        raise UserError("--force only applies with --cleanup")
    if args.trust_hooks and not args.cleanup:
        raise UserError("--trust-hooks only applies with --cleanup")
    stopped: rec.StopData = _data(client.call(rec.Stop(args.name, args.worker, args.grace)))
    for outcome in stopped.stopped:
        _say(f"{outcome.worker}: {outcome.what}")
    if args.cleanup:  # the supervisor runs before_worktree_remove later: only what is trusted now
        cleanup = rec.Cleanup(args.name, args.worker, args.force, args.trust_hooks)
        queued: rec.CleanupData = _data(client.call(cleanup))
        _say(f"cleanup queued for {', '.join(queued.queued)} (the supervisor removes them; see session list)")
    return 0


def _resume(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    resumed: rec.ResumeData = _data(client.call(rec.Resume(args.name, args.worker, prompt)))
    for shown in resumed.scrollback:
        _say(f"--- {shown.worker}: last {shown.lines} lines before it stopped ---")
        _say(shown.text)
    _say(f"resumed: {', '.join(resumed.resumed)}")
    return 0


def _rm(args: argparse.Namespace) -> int:
    request = rec.Rm(args.name, args.force, args.trust_hooks)
    reply = client.call(request)
    if reply.refused is not None and reply.refused.kind == "untrusted-hooks":  # before_worktree_remove would run
        try:
            client.expect(reply)
        except rec.Refused as refused:
            _consent(refused, False, "session rm")
        reply = client.call(request)
    removed: rec.RmData = _data(reply)
    for line in removed.removed:
        _say(line)
    _say(f"removed session {args.name!r} (its coordination files stay in {_one(removed.coordination_dir)})")
    return 0


def _retry(args: argparse.Namespace) -> int:
    retried: rec.RetryData = _data(client.call(rec.Retry(args.name, args.worker)))
    _say(f"retrying: {', '.join(retried.retried)}")
    return 0


def _attach(args: argparse.Namespace) -> int:
    where: rec.AttachData = _data(client.call(rec.Attach(args.name, args.worker)))
    if where.needs_terminal and not sys.stdin.isatty():
        raise UserError(f"attach needs a terminal; run: {' '.join(where.argv)}")
    os.execvp(where.argv[0], where.argv)
    return 0  # not reached


def _logs(args: argparse.Namespace) -> int:
    if args.follow:
        try:
            client.follow_logs(args.name, args.worker, _say)
        except KeyboardInterrupt:
            pass
        return 0
    shown: rec.LogsData = _data(client.call(rec.Logs(args.name, args.worker)))
    for log in shown.logs:
        if len(shown.logs) > 1:
            _say(f"==> {log.worker} ({log.runtime}): {_one(log.where)} <==")
        if log.text is None:
            _say(f"(no output kept for {log.worker}: {_one(log.where)} is not there)")
        elif log.text.strip():
            _say(log.text.rstrip("\n"))
    return 0


def _send(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    done: rec.InputData = _data(client.call(rec.Send(args.name, args.worker, text, args.screen)))
    _say(f"{done.worker}: {done.what}")
    return 0


def _pane_target(parser: argparse.ArgumentParser) -> None:
    """NAME --worker W (a runtime worker), or --claude-session ID (any Claude Code session whose hooks recorded its
    tmux pane)."""
    parser.add_argument("name", metavar="NAME", nargs="?", help="the runtime session (with --worker)")
    parser.add_argument("--worker", metavar="W")
    parser.add_argument(
        "--claude-session", metavar="ID", help="instead: a Claude Code session's id (one you ran in tmux yourself)"
    )


def _by_session(args: argparse.Namespace) -> bool:
    """Whether the command names a Claude Code session (``--claude-session``) rather than NAME --worker W."""
    if args.claude_session is not None:
        if args.name is not None or args.worker is not None:
            raise UserError("give NAME --worker W, or --claude-session ID, not both")
        return True
    if args.name is None or args.worker is None:
        raise UserError("give NAME --worker W (a runtime worker), or --claude-session ID (a Claude Code session)")
    return False


def _screen(args: argparse.Namespace) -> int:
    request = rec.PaneScreen(args.claude_session) if _by_session(args) else rec.Screen(args.name, args.worker)
    look: rec.ScreenData = _data(client.call(request))
    if args.json:
        _json({"worker": look.worker, "screen": look.screen, "permissionPrompt": look.prompt,
               "fingerprint": look.fingerprint})  # fmt: skip
        return 0
    _say(look.screen.rstrip("\n"))
    if look.prompt is not None:
        _say(f"--- {look.worker} waits at a permission prompt: {look.prompt.replace(chr(10), ' / ')}")
    _say(f"--- fingerprint {look.fingerprint} (session approve|deny|send ... --screen {look.fingerprint})")
    return 0


def _input_answer(args: argparse.Namespace) -> int:
    approve = args.control == "approve"
    if _by_session(args):
        kind = rec.PaneApprove if approve else rec.PaneDeny
        request: Any = kind(args.claude_session, args.screen)
    else:
        request = (rec.Approve if approve else rec.Deny)(args.name, args.worker, args.screen)
    done: rec.InputData = _data(client.call(request))
    _say(f"{done.worker}: {done.what}")
    return 0


def _supervise(args: argparse.Namespace) -> int:
    if args.stop:
        pid = client.stop_supervisor()
        _say(f"stopped the supervisor (pid {pid})" if pid else "no supervisor runs")
        return 0
    if args.status:
        found = client.supervisor_status()
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
    return client.supervise()


def _diff(args: argparse.Namespace) -> int:
    request = rec.Diff(args.name, args.worker, patch=bool(args.worker) and not args.stat)
    shown: rec.DiffData = _data(client.call(request))
    if args.json:
        _json(shown.diffs)
        return 0
    for d in shown.diffs:
        _say(f"{d['id']} ({d['branch']}): {_one(d['summary'])}")
        for label in ("committed", "staged", "unstaged", "untracked"):
            for name in d[label]:  # every form lists the files (--stat: without the patch preview)
                _say(f"  {label:<9} {_one(name)}")
        if d["patch"]:
            _say(d["patch"])
            if d["truncated"]:
                where = _one(shown.worktrees.get(d["id"], "the worktree"))
                _say(f"... (preview cut at {shown.preview_lines} lines; git -C {where} diff for all)")
    return 0


def _merge_queue(args: argparse.Namespace) -> int:
    if args.cleanup and not args.apply:
        raise UserError("--cleanup only applies with --apply")
    if args.trust_hooks and not args.apply:
        raise UserError("--trust-hooks only applies with --apply")
    if args.apply:
        queue: rec.QueueData = _data(client.call(rec.Apply(args.name, args.strategy, args.cleanup, args.trust_hooks)))
        for outcome in queue.merged:
            _say(f"{outcome.worker}: {outcome.what}")
        if not queue.merged:  # a no-op that says so: what is merged already, else that nothing is ready
            done = [e["suggestedAction"] for e in queue.entries if e["kind"] == "merged"]
            for line in done or ["nothing to merge: no worker is ready (see the queue below)"]:
                _say(line)
        if queue.cleanup:
            _say(f"cleanup queued for {', '.join(queue.cleanup)}")
    else:
        queue = _data(client.call(rec.MergeQueue(args.name)))
    if args.json:
        _json(queue.entries)
        return 0
    for e in queue.entries:
        kind = e["kind"]
        where = f"#{e['position']}" if e["readyToMerge"] else kind if kind in ("merged", "missing") else "blocked"
        _say(
            f"{where:<8} {e['id']:<20} {e['branch']}  {e['suggestedAction']}"
            + (f" ({', '.join(_one(f) for f in e['files'][:5])})" if e["kind"] in ("base-conflict",) else "")
        )
    return 0


def _conflicts(args: argparse.Namespace) -> int:
    if args.resolve:
        started: rec.ResolveData = _data(client.call(rec.Resolve(args.name, args.resolve, args.agent)))
        _say(f"{started.worker}: {started.agent} started on its conflicts: {started.prompt}")
        return 0
    found: rec.ConflictsData = _data(client.call(rec.Conflicts(args.name)))
    if args.json:
        _json(found.conflicts)
        return 0
    if not found.conflicts:
        _say("no conflicts and no dirty worktrees")
    for c in found.conflicts:
        other = f" with {c['blockedBy'][0]['worker']}" if c["kind"] == "pair-conflict" else ""
        _say(f"{c['id']}: {c['kind']}{other}: {', '.join(_one(f) for f in c['files']) or '(uncommitted changes)'}")
    return 0


def _pr(args: argparse.Namespace) -> int:
    opened: rec.PullRequestData = _data(client.call(rec.PullRequest(args.name, args.worker, args.draft)))
    _say(opened.url)
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
    "approve": _input_answer,
    "deny": _input_answer,
    "diff": _diff,
    "merge-queue": _merge_queue,
    "conflicts": _conflicts,
    "pr": _pr,
}
