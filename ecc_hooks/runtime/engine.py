"""The runtime's verbs: one handler per request (``runtime.records``), each answering with a ``Reply``.

A handler takes the session's lock where it changes workers (``store.session_lock``), checks the precondition
(the session and the worker exist, nothing live is cleaned up, no work is lost, the hooks are trusted), runs the
operation (``control``, ``merge``, ``snapshot``, ``starter``) and returns the verb's data; an expected problem
(a ``UserError``, a refused path) becomes a ``Refusal`` with its kind and, where one exists, the request that
would go on. The engine prints nothing and imports no client: whoever asked formats the reply.

It runs in the supervisor's helper (``runtime.server``), so the supervisor's process tree is what changes
workers' states; a client runs it in its own process only where the helper declines (``runtime.client``),
still under the same locks. Reading verbs (status, list, diff, the queues, attach, preview) open the store
read-only and change nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Optional

from ecc_hooks.core.errors import UserError
from ecc_hooks.core.fsio import UnsafeFile
from ecc_hooks.runtime import control, daemon, lifecycle, merge, protocol, snapshot
from ecc_hooks.runtime import records as rec
from ecc_hooks.runtime import store as st


def handle(request: Any) -> rec.Reply:
    """Answer one request; never raises for an expected problem (it is the reply's refusal)."""
    notes: list[str] = []
    handler = HANDLERS.get(request.verb)
    if handler is None:  # pragma: no cover - the protocol decodes only known verbs
        return rec.Reply(request.verb, refused=rec.Refusal("error", f"unknown verb {request.verb!r}"))
    try:
        data, jobs = handler(request, notes)
    except rec.Refused as exc:
        follow = exc.follow_up
        if follow is not None and dataclasses.is_dataclass(follow):
            follow = protocol.request_json(follow)
        return rec.Reply(request.verb, refused=rec.Refusal(exc.kind, str(exc), follow), notes=notes)
    except UserError as exc:
        return rec.Reply(request.verb, refused=rec.Refusal("error", str(exc)), notes=notes)
    except UnsafeFile as exc:  # a refused path (a link, not ours, a missing folder) is the user's to fix
        return rec.Reply(request.verb, refused=rec.Refusal("unsafe", f"refused: {exc}"), notes=notes)
    return rec.Reply(request.verb, data=data, jobs=jobs, notes=notes)


Result = tuple[Any, list[str]]  # the verb's data, the jobs it queued


# ---------------------------------------------------------------------------- create


def _plan(plan_file: Optional[str], quick: Optional[dict[str, Any]]) -> Any:
    """The session a Create or Preview names, built (every agent it names installed, or UserError)."""
    from ecc_hooks.runtime import agents
    from ecc_hooks.runtime import plan as planning

    if plan_file is not None and quick is not None:
        raise UserError("give a plan file or --task options, not both")
    if plan_file is not None:
        plan = planning.load(plan_file)
    elif quick is not None:
        plan = planning.validate(quick, "the quick form")
    else:
        raise UserError("no plan: give a plan file or one --task per worker")
    agents.require([w.agent for w in plan.workers if w.agent])  # before anything is planned or created
    return planning.build(plan, plan_file)


def hook_infos(hooks: lifecycle.HookSet) -> list[rec.HookInfo]:
    return [rec.HookInfo(h.name, h.path, h.digest, hooks.trusted(h)) for h in hooks.hooks]


def _untrusted(hooks: lifecycle.HookSet, what: str) -> rec.Refused:
    """The refusal of a command whose repository's hooks are not trusted; its follow-up trusts exactly those."""
    from ecc_hooks.core.text import clean

    untrusted = hooks.untrusted()
    listing = "\n".join(f"  {h.name}: {clean(h.path, 300)} (sha256 {h.digest[:16]})" for h in untrusted)
    return rec.Refused(
        "untrusted-hooks",
        f"{what} refused: the repository's hooks would run commands as you and are not trusted (new, or changed "
        f"since you trusted them):\n{listing}\nReview them, then run this again at a terminal to be asked, or "
        "pass --trust-hooks. Nothing was done.",
        rec.TrustHooks(hooks.repo, [h.digest for h in untrusted]),
    )


def create(request: rec.Create, notes: list[str]) -> Result:
    from ecc_hooks.runtime import plan as planning

    session: planning.SessionPlan = _plan(request.plan_file, request.quick)
    hooks = lifecycle.snapshot(session.repo_root)  # what is consented to is what runs
    if hooks.untrusted():
        raise _untrusted(hooks, "session create")
    warnings: list[str] = []
    row = control.create(session, hooks, warn=warnings.append)
    notes.extend(hooks.notes)
    workers = [rec.CreatedWorker(w.slug, w.branch, w.worktree) for w in session.workers]
    return rec.CreateData(row.name, row.tmux_socket, session.coordination_dir, workers, warnings), []


def preview(request: rec.Preview, notes: list[str]) -> Result:
    from ecc_hooks.runtime import plan as planning

    session = _plan(request.plan_file, request.quick)
    hooks = lifecycle.snapshot(session.repo_root)
    shown = planning.preview(session)
    shown["hooks"] = hooks.describe()  # what would run as the user, and whether it is trusted yet
    return rec.PreviewData(shown, session.repo_root, hook_infos(hooks)), []


def trust_hooks(request: rec.TrustHooks, notes: list[str]) -> Result:
    """Trust the repository's hooks whose content the person saw (a hook changed since stays untrusted)."""
    hooks = lifecycle.snapshot(request.repo_root)
    chosen = [h for h in hooks.hooks if h.digest in set(request.digests) or hooks.trusted(h)]
    dataclasses.replace(hooks, hooks=chosen).trust()
    return rec.TrustData([h.path for h in chosen if h.key]), []


# ---------------------------------------------------------------------------- stop, resume, cleanup


def _trust_now(store: st.Store, name: str) -> None:
    """``--trust-hooks``: the repository's hooks as they are now (the supervisor runs them later)."""
    lifecycle.snapshot(store.require_session(name).repo_root).trust()


def stop(request: rec.Stop, notes: list[str]) -> Result:
    store = st.Store()
    with st.session_lock(request.session):
        session, workers = store.targets(request.session, request.worker)
        done = control.stop(store, session, workers, request.grace)
    snapshot.export(store, queues=False)
    return rec.StopData([rec.Outcome(s, what) for s, what in done]), []


def resume(request: rec.Resume, notes: list[str]) -> Result:
    resumed, shown = _relaunch(
        request, "resume", "stopped, failed or stale workers resume",
        lambda store, session, workers: control.resume(store, session, workers, request.worker is not None,
                                                       request.prompt),
    )  # fmt: skip
    return rec.ResumeData(resumed, [rec.Scrollback(s, n, text) for s, n, text in shown]), []


def retry(request: rec.Retry, notes: list[str]) -> Result:
    retried = _relaunch(
        request, "retry", "failed, stopped or stale workers are retried",
        lambda store, session, workers: control.retry(store, session, workers, named=request.worker is not None),
    )  # fmt: skip
    return rec.RetryData(retried), []


def _relaunch(request: Any, verb: str, which: str, act: Callable[..., Any]) -> Any:
    """Resume and retry alike: the session's lock, its workers, the operation, the HUD's export; refused when it
    launched nothing, else the supervisor woken to follow what it launched."""
    store = st.Store()
    with st.session_lock(request.session):
        session, workers = store.targets(request.session, request.worker)
        done = act(store, session, workers)
    snapshot.export(store, queues=False)
    if not (done[0] if isinstance(done, tuple) else done):
        raise rec.Refused("nothing-to-do", f"nothing to {verb} in {request.session!r} (only {which})")
    daemon.wake()
    return done


def rm(request: rec.Rm, notes: list[str]) -> Result:
    store = st.Store()
    session = store.require_session(request.session)
    hooks = lifecycle.snapshot(session.repo_root)  # before_worktree_remove runs: only what is trusted
    if request.trust_hooks:
        hooks.trust()
    elif hooks.untrusted():
        raise _untrusted(hooks, "session rm")
    removed = control.forget(request.session, request.force)
    return rec.RmData(removed, session.coordination_dir), []


def hooks(request: rec.Hooks, notes: list[str]) -> Result:
    return rec.HooksData(hook_infos(lifecycle.snapshot(request.repo_root))), []


def cleanup(request: rec.Cleanup, notes: list[str]) -> Result:
    store = st.Store()
    if request.trust_hooks:
        _trust_now(store, request.session)
    queued = control.request_cleanup(request.session, request.worker, request.force)
    return rec.CleanupData([s for s, _ in queued]), [f"cleanup:{job}" for _, job in queued]


# ---------------------------------------------------------------------------- reading


def _reading(notes: list[str]) -> st.Store:
    """The store for a reading verb: read-only when the file is (said in a note: shown as last recorded)."""
    opened = st.Store(reading=True)
    if opened.read_only:
        notes.append(f"{opened.path} is read-only: shown as last recorded")
    return opened


def status(request: rec.Status, notes: list[str]) -> Result:
    from datetime import datetime, timezone

    from ecc_hooks.handoff.adapters import Context, Target, dmux_tmux
    from ecc_hooks.handoff.adapters._common import TargetError

    store = _reading(notes)
    session = store.require_session(request.session)
    ctx = Context(now=datetime.now(timezone.utc), cwd=session.repo_root, tmux_socket=session.tmux_socket)
    try:
        inspection = dmux_tmux.inspect(Target("coordination-dir", session.coordination_dir), ctx)
    except TargetError as exc:  # its coordination folder was moved or removed
        raise UserError(f"session {session.name}: {exc}") from None
    from ecc_hooks.models.session import WorkerFigures
    from ecc_hooks.runtime import figures

    workers = [w for w in store.workers(session.name) if not w.removed]
    numbers = {w.slug: figures.of(w) for w in workers}
    for item in inspection.snapshot.workers:
        if item.id in numbers:
            item.figures = WorkerFigures(**numbers[item.id])
    rows = [rec.WorkerRow(w.slug, w.state, w.branch, w.reason, numbers[w.slug]) for w in workers]
    data = rec.StatusData(session.name, session.repo_root, session.tmux_socket,
                          inspection.snapshot.model_dump(mode="json"), rows)  # fmt: skip
    return data, []


def list_sessions(request: rec.ListSessions, notes: list[str]) -> Result:
    return rec.ListData(control.summary(_reading(notes))), []


def diff(request: rec.Diff, notes: list[str]) -> Result:
    store = st.Store(reading=True)
    session = store.require_session(request.session)
    workers = [w for w in store.workers(session.name) if not w.removed]
    if request.worker:
        workers = [store.worker(session.name, request.worker)]
    diffs = [dataclasses.asdict(merge.diff(session, w, patch=request.patch)) for w in workers]
    return rec.DiffData(diffs, {w.slug: w.worktree for w in workers}, merge.PREVIEW_LINES), []


def merge_queue(request: rec.MergeQueue, notes: list[str]) -> Result:
    store = st.Store(reading=True)
    session = store.require_session(request.session)
    return rec.QueueData([e.as_json() for e in merge.queue(store, session)]), []


def conflicts(request: rec.Conflicts, notes: list[str]) -> Result:
    store = st.Store(reading=True)
    session = store.require_session(request.session)
    return rec.ConflictsData(merge.conflicts(merge.queue(store, session))), []


def attach(request: rec.Attach, notes: list[str]) -> Result:
    from ecc_hooks.runtime import agents, launch

    store = st.Store(reading=True)
    session = store.require_session(request.session)
    argv = ["tmux", "-L", session.tmux_socket, "attach", "-t", f"={session.name}"]
    if not request.worker and all(w.runtime == "headless" for w in store.workers(session.name) if not w.removed):
        raise rec.Refused(
            "no-pane",
            f"session {session.name} runs headless only: it has no pane to attach to; read its workers' output "
            f"with `ecc-hooks session logs {session.name} [--worker W] [-f]`",
            rec.Logs(session.name),
        )
    if request.worker:
        worker = store.worker(session.name, request.worker)
        if worker.runtime == "headless":
            raise rec.Refused(
                "no-pane",
                f"{worker.slug} runs headless: it has no pane to attach to; read its output with `ecc-hooks session "
                f"logs {session.name} --worker {worker.slug} [-f]` (it is in {launch.log_path(session.name, worker.slug)})",
                rec.Logs(session.name, worker.slug),
            )
        if worker.runtime == "claude-bg" and worker.handle:
            return rec.AttachData([agents.get("claude").binary, "attach", worker.handle], needs_terminal=False), []
        if worker.pane:  # the person's view only: no state changes
            launch.tmux("select-pane", "-t", worker.pane, socket=session.tmux_socket, check=False)
    return rec.AttachData(argv), []


def logs(request: rec.Logs, notes: list[str]) -> Result:
    from ecc_hooks.runtime import logs as output

    store = st.Store(reading=True)
    session, workers = store.targets(request.session, request.worker)
    shown = []
    for worker in workers:
        where, text = output.read(session, worker)
        shown.append(rec.WorkerLog(worker.slug, worker.runtime, where, text))
    return rec.LogsData(shown), []


# ---------------------------------------------------------------------------- input


def send(request: rec.Send, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    return rec.InputData(request.worker, interact.send(request.session, request.worker, request.text,
                                                       request.screen)), []  # fmt: skip


def screen(request: rec.Screen, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    look = interact.look(request.session, request.worker)
    return rec.ScreenData(look.slug, look.screen, look.fingerprint, look.prompt), []


def approve(request: rec.Approve, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    return rec.InputData(request.worker, interact.answer(request.session, request.worker, True, request.screen)), []


def deny(request: rec.Deny, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    return rec.InputData(request.worker, interact.answer(request.session, request.worker, False, request.screen)), []


def pane_screen(request: rec.PaneScreen, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    look = interact.pane_look(request.claude_session)
    return rec.ScreenData(request.claude_session, look.screen, look.fingerprint, look.prompt), []


def pane_send(request: rec.PaneSend, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    return rec.InputData(request.claude_session, interact.pane_send(request.claude_session, request.text,
                                                                    request.screen)), []  # fmt: skip


def pane_approve(request: rec.PaneApprove, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    return rec.InputData(request.claude_session, interact.pane_answer(request.claude_session, True, request.screen)), []


def pane_deny(request: rec.PaneDeny, notes: list[str]) -> Result:
    from ecc_hooks.runtime import interact

    return rec.InputData(
        request.claude_session, interact.pane_answer(request.claude_session, False, request.screen)
    ), []


# ---------------------------------------------------------------------------- merging


def apply(request: rec.Apply, notes: list[str]) -> Result:
    store = st.Store()
    session = store.require_session(request.session)
    hooks = lifecycle.snapshot(session.repo_root)  # now, before any merge brings new hook files in
    if request.trust_hooks:
        hooks.trust()
    try:
        merged = merge.apply(store, session, request.strategy, hooks)
    finally:
        notes.extend(hooks.notes)
    queued: list[tuple[str, int]] = []
    if request.cleanup:
        for slug, _ in merged:  # merged: nothing to lose, so the no-lost-work rules let it go
            queued += control.request_cleanup(session.name, slug)
    entries = [e.as_json() for e in merge.queue(store, session)]
    data = rec.QueueData(entries, [rec.Outcome(s, what) for s, what in merged], [s for s, _ in queued])
    return data, [f"cleanup:{job}" for _, job in queued]


def resolve(request: rec.Resolve, notes: list[str]) -> Result:
    store = st.Store()
    session = store.require_session(request.session)
    with st.session_lock(session.name):
        prompt = merge.resolve(store, session, request.worker, request.agent)
    snapshot.export(store, queues=False)
    daemon.wake()
    return rec.ResolveData(request.worker, request.agent, prompt), []


def pull_request(request: rec.PullRequest, notes: list[str]) -> Result:
    store = st.Store()
    session = store.require_session(request.session)
    url = merge.pull_request(session, store.worker(session.name, request.worker), request.draft)
    return rec.PullRequestData(url), []


HANDLERS: dict[str, Callable[[Any, list[str]], Result]] = {
    "create": create,
    "preview": preview,
    "trust_hooks": trust_hooks,
    "hooks": hooks,
    "stop": stop,
    "resume": resume,
    "retry": retry,
    "rm": rm,
    "cleanup": cleanup,
    "status": status,
    "list": list_sessions,
    "diff": diff,
    "merge_queue": merge_queue,
    "apply": apply,
    "conflicts": conflicts,
    "resolve": resolve,
    "pr": pull_request,
    "attach": attach,
    "logs": logs,
    "send": send,
    "approve": approve,
    "deny": deny,
    "screen": screen,
    "pane_screen": pane_screen,
    "pane_send": pane_send,
    "pane_approve": pane_approve,
    "pane_deny": pane_deny,
}
assert set(HANDLERS) == set(rec.REQUESTS), "every verb has its handler"
