"""A session's workers against their base: the diff, the merge queue, and merging the ready ones.

**Diff** (``diff``): committed work (``base...HEAD``) and uncommitted work (staged, unstaged, untracked) of each
worker, read without touching its index (``--no-optional-locks``, no ``git add -N``), with a one-line summary
and a patch preview cut at a cap.

**Queue** (``queue``), ECC 2.0's rules (``build_merge_queue``): candidates finished first, then by completion time,
then smallest first. An entry is blocked, in this order, while its worker runs or waits; when it conflicts with the
base (``git merge-tree --write-tree --name-only -z``: exit 1 means conflicts, the NUL-separated names are the
files); when its worktree has uncommitted changes; when it has nothing the base lacks; or when it conflicts with a
branch already accepted ("merge after X"). Ready entries get positions 1..n. Nothing is written: ``merge-tree`` builds
its trees in the object store only. git older than 2.38 has no ``--write-tree``: the queue is refused with that
reason.

**Apply** (``apply``): the ready entries one at a time under the repository's mutex: the ``pre_merge`` hook as a
blocking gate; phase 1 in the worktree (merge or rebase the base; on conflict abort, so no worktree is left with
conflict markers); phase 2 in the base checkout (it must be on the base branch and clean): ``merge --no-edit``,
``merge --ff-only`` after a rebase, or ``merge --squash`` and a commit; then ``post_merge``.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.runtime import files, launch, lifecycle, workspace
from ecc_hooks.runtime import store as st
from ecc_hooks.sources import git as gitstate

ACTIVE = ("pending", "starting", "running", "waiting", "idle", "stale")
FINISHED = ("completed", "failed", "stopped")
PREVIEW_LINES = 200
PREVIEW_BYTES = 1 << 20  # a preview's most bytes (its lines may be long)
MERGE_TREE_MIN = (2, 38)
STRATEGIES = ("merge", "rebase", "squash")


def _run(cwd: str, *args: str, timeout: float = 60, runner: Any = None) -> tuple[int, str, str]:
    """git in ``cwd`` through the safe runner (``runner``: one already made for ``cwd``, its config read once)."""
    done = runner.run(*args) if runner is not None else gitstate.run(cwd, *args, timeout=timeout)
    if done is None:
        raise UserError(f"git {' '.join(args[:2])} did not finish within {timeout:.0f} s")
    if done[0] == gitstate.REFUSED:
        raise UserError(done[2])
    return done[0], done[1].decode("utf-8", "replace"), done[2]


_VERSION: list[tuple[int, int]] = []


def git_version(repo: str) -> tuple[int, int]:
    """git's version (asked once per process)."""
    if not _VERSION:
        _code, out, _err = _run(repo, "version")
        found = re.search(r"(\d+)\.(\d+)", out)
        _VERSION.append((int(found.group(1)), int(found.group(2))) if found else (0, 0))
    return _VERSION[0]


# What a queue pass computes from commits alone, kept by the commits it depends on: a merge-tree verdict by
# (repository, ours, theirs), a branch's size by (repository, base, tip). A commit never changes, so an entry is
# true for ever; a pass recomputes only what a moved branch or base made new (the supervisor's passes over a
# finished 120-worker session took 37 s each, every pairwise merge-tree again). Bounded: the oldest go first.
CACHE_LIMIT = 16384
_VERDICTS: dict[tuple[str, str, str], tuple[bool, list[str]]] = {}
_SIZES: dict[tuple[str, str, str], tuple[int, list[str]]] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(cache) >= CACHE_LIMIT:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


def merge_tree(repo: str, ours: str, theirs: str, runner: Any = None) -> tuple[bool, list[str]]:
    """(conflicts?, the conflicted files) of merging ``theirs`` into ``ours``, computed without a work tree.
    Given commit ids, the verdict is remembered for them (``_VERDICTS``)."""
    key = (repo, ours, theirs)
    if key in _VERDICTS:
        conflicted, files = _VERDICTS[key]
        return conflicted, list(files)
    code, out, err = _run(repo, "merge-tree", "--write-tree", "--name-only", "-z", ours, theirs, runner=runner)
    if code == 0:
        verdict: tuple[bool, list[str]] = (False, [])
    elif code != 1:
        raise UserError(f"git merge-tree {ours} {theirs} failed: {err.strip()[:300]}")
    else:
        head, _, rest = out.partition("\0\0")  # the tree, the conflicted files; then the messages
        names = head.split("\0")[1:]
        verdict = (True, list(dict.fromkeys(n for n in names if n)))
    if _is_commit_id(ours) and _is_commit_id(theirs):
        _remember(_VERDICTS, key, verdict)
    return verdict[0], list(verdict[1])


def _is_commit_id(ref: str) -> bool:
    return len(ref) in (40, 64) and all(c in "0123456789abcdef" for c in ref)


def branch_tips(repo: str, runner: Any = None) -> dict[str, str]:
    """Every local branch's commit (one git call)."""
    out = _run(repo, "for-each-ref", "--format=%(refname)%00%(objectname)", "refs/heads/", runner=runner)[1]
    pairs = (line.split("\0", 1) for line in out.splitlines() if "\0" in line)
    return {name.removeprefix("refs/heads/"): commit for name, commit in pairs}


def _size(repo: str, base: str, tip: Optional[str], branch: str, runner: Any) -> tuple[int, list[str]]:
    """(commits ahead of the base, files changed) of a branch, remembered by (base, tip)."""
    key = (repo, base, tip or "")
    if tip and key in _SIZES:
        ahead, files = _SIZES[key]
        return ahead, list(files)
    ref = tip or branch
    count = _run(repo, "rev-list", "--count", f"{base}..{ref}", runner=runner)[1].strip()
    changed = _run(repo, "diff", "--name-only", "-z", f"{base}...{ref}", "--", runner=runner)[1]
    size = (int(count) if count.isdigit() else 0, [n for n in changed.split("\0") if n])
    if tip:
        _remember(_SIZES, key, size)
    return size[0], list(size[1])


# ---------------------------------------------------------------------------- diff


@dataclass
class WorkerDiff:
    id: str
    branch: str
    base: str
    committed: list[str]
    staged: list[str]
    unstaged: list[str]
    untracked: list[str]
    summary: str
    patch: str = ""
    truncated: bool = False


def _shortstat(text: str) -> str:
    return " ".join(text.split()) or "no changes"


def diff(session: st.Session, worker: st.Worker, patch: bool = True, cap: int = PREVIEW_LINES) -> WorkerDiff:
    """The worker's committed and uncommitted work against the base, its index untouched."""
    base = base_commit(session)
    wt = worker.worktree
    if not os.path.isdir(wt):
        raise UserError(f"{worker.slug}: its worktree {wt} is gone")
    names = lambda *a: [n for n in _run(wt, *a)[1].split("\0") if n]  # noqa: E731
    committed = names("diff", "--name-only", "-z", "--no-renames", f"{base}...HEAD", "--")
    staged = names("diff", "--cached", "--name-only", "-z", "--no-renames", "--")
    unstaged = names("diff", "--name-only", "-z", "--no-renames", "--")
    untracked = names("ls-files", "-z", "--others", "--exclude-standard")
    branch_stat = _run(wt, "diff", "--shortstat", f"{base}...HEAD", "--")[1]
    work_stat = _run(wt, "diff", "--shortstat", "HEAD", "--")[1]
    if committed or staged or unstaged or untracked:
        summary = f"Branch {_shortstat(branch_stat)} | Working tree {_shortstat(work_stat)}"
        if untracked:
            summary += f", {len(untracked)} untracked"
    else:
        summary = f"Clean relative to {session.base_ref}"
    text, truncated = "", False
    if patch:  # streamed: git stops once the preview is full (a diff of any size costs the preview's memory)
        parts: list[bytes] = []
        for spec in (f"{base}...HEAD", "HEAD"):
            left = cap - sum(p.count(b"\n") for p in parts)
            try:
                got = gitstate.head(wt, "diff", "--no-color", "--no-ext-diff", spec, "--", lines=left + 1,
                                    max_bytes=PREVIEW_BYTES, timeout=60)  # fmt: skip
            except gitstate.Refused as exc:
                raise UserError(f"ecc-hooks runs no git in {wt}: {exc}") from None
            if got is None:
                raise UserError(f"git diff {spec} did not finish within 60 s")
            parts.append(got[0])
            if got[1] or sum(p.count(b"\n") for p in parts) > cap:
                truncated = True
                break
        lines = b"".join(parts).decode("utf-8", "replace").splitlines()
        truncated = truncated or len(lines) > cap
        text = "\n".join(lines[:cap])
    return WorkerDiff(worker.slug, worker.branch, session.base_ref, committed, staged, unstaged, untracked, summary,
                      text, truncated)  # fmt: skip


def base_commit(session: st.Session) -> str:
    """The base as it is now (the base ref in the repository; the recorded commit if the ref is gone)."""
    code, out, _ = _run(session.repo_root, "rev-parse", "--verify", "-q", session.base_ref + "^{commit}")
    if code == 0 and out.strip():
        return out.strip()
    if session.base_commit:
        return session.base_commit
    raise UserError(f"the base {session.base_ref!r} of {session.name} does not resolve")


# ---------------------------------------------------------------------------- queue


@dataclass
class Entry:
    id: str
    branch: str
    baseRef: str
    state: str
    readyToMerge: bool
    position: Optional[int] = None
    aheadBy: int = 0
    files: list[str] = field(default_factory=list)
    dirty: bool = False
    kind: Optional[str] = None  # why blocked: active | dirty | empty | base-conflict | pair-conflict
    blockedBy: list[dict[str, Any]] = field(default_factory=list)
    suggestedAction: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _order_key(worker: st.Worker, size: int) -> tuple[Any, ...]:
    finished = worker.state in FINISHED
    return (not finished, worker.finished_at or float("inf"), size, worker.seq)


def queue(store: st.Store, session: st.Session) -> list[Entry]:
    """The session's merge queue: ready entries with positions 1..n and blocked ones with their reasons, in
    queue order (ECC 2.0's rules; see the module docstring)."""
    repo = session.repo_root
    if git_version(repo) < MERGE_TREE_MIN:
        raise UserError("the merge queue needs git 2.38 or newer (git merge-tree --write-tree)")
    base = base_commit(session)
    workers = [w for w in store.workers(session.name) if not w.removed]
    runner = gitstate.runner(repo, 60 + 10 * len(workers) ** 2)  # the repository's config listed once
    tips = branch_tips(repo, runner)
    sized = []
    for worker in workers:
        ahead, files = _size(repo, base, tips.get(worker.branch), worker.branch, runner)
        sized.append((worker, ahead, files))
    sized.sort(key=lambda item: _order_key(item[0], len(item[2])))
    entries: list[Entry] = []
    accepted: list[Entry] = []
    for worker, ahead, files in sized:
        entry = Entry(worker.slug, worker.branch, session.base_ref, worker.state, False, aheadBy=ahead, files=files)
        entries.append(entry)
        if worker.state in ACTIVE:
            entry.kind, entry.suggestedAction = "active", f"wait: the worker is still {worker.state}"
            continue
        if os.path.isdir(worker.worktree):
            entry.dirty = bool(_run(worker.worktree, "status", "--porcelain", "-uall")[1].strip())
        tip = tips.get(worker.branch, worker.branch)
        conflicted, conflict_files = merge_tree(repo, base, tip, runner) if ahead else (False, [])
        if conflicted:  # before the dirty check, as ECC 2.0's queue: the conflict is the bigger news
            entry.kind, entry.files = "base-conflict", conflict_files
            entry.blockedBy = [{"worker": None, "base": session.base_ref, "files": conflict_files}]
            entry.suggestedAction = f"resolve the conflicts with {session.base_ref} (ecc-hooks session conflicts)"
            continue
        if entry.dirty:
            entry.kind, entry.suggestedAction = "dirty", "commit or discard the worktree's uncommitted changes"
            continue
        if ahead == 0:
            entry.kind, entry.suggestedAction = "empty", f"nothing to merge: {session.base_ref} has all of it"
            continue
        clash = None
        for other in accepted:
            conflicted, pair_files = merge_tree(repo, tips.get(other.branch, other.branch), tip, runner)
            if conflicted:
                clash = (other, pair_files)
                break
        if clash is not None:
            other, pair_files = clash
            entry.kind = "pair-conflict"
            entry.blockedBy = [{"worker": other.id, "files": pair_files}]
            entry.suggestedAction = f"merge after {other.id}"
            continue
        entry.readyToMerge = True
        entry.position = len(accepted) + 1
        entry.suggestedAction = f"merge in queue order #{entry.position}"
        accepted.append(entry)
    return entries


def conflicts(entries: list[Entry]) -> list[dict[str, Any]]:
    """The conflict queue: base conflicts, pairwise conflicts and dirty worktrees, with their files."""
    return [
        {
            "id": e.id,
            "branch": e.branch,
            "kind": e.kind,
            "files": e.files if e.kind != "pair-conflict" else e.blockedBy[0]["files"],
            "blockedBy": e.blockedBy,
        }  # fmt: skip
        for e in entries
        if e.kind in ("base-conflict", "pair-conflict", "dirty")
    ]


# ---------------------------------------------------------------------------- apply


def _main_checkout_branch(repo: str) -> Optional[str]:
    code, out, _ = _run(repo, "symbolic-ref", "-q", "--short", "HEAD")
    return out.strip() if code == 0 and out.strip() else None


def apply_one(
    store: st.Store,
    session: st.Session,
    worker: st.Worker,
    strategy: str = "merge",
    hooks: Optional[lifecycle.HookSet] = None,
) -> str:
    """Merge one ready worker into the base checkout (the caller holds the repository's mutex); what was done.
    UserError (nothing changed in the base checkout) when a gate or a check refuses. ``hooks``: the snapshot
    taken when the command started (never what a merge brought into ``.ecc/hooks``)."""
    hooks = hooks if hooks is not None else lifecycle.snapshot(session.repo_root)
    if strategy not in STRATEGIES:
        raise UserError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    repo, wt = session.repo_root, worker.worktree
    target = _main_checkout_branch(repo)
    base_branch = session.base_ref if session.base_ref != "HEAD" else target
    if target is None or target != base_branch:
        raise UserError(f"the base checkout {repo} is on {target or 'a detached HEAD'}, not {base_branch}")
    if _run(repo, "status", "--porcelain", "--untracked-files=no")[1].strip():
        raise UserError(f"the base checkout {repo} has uncommitted changes: commit or stash them first")
    env = lifecycle.worker_env(session=session.name, worker=worker.slug, worktree=wt, branch=worker.branch,
                               base_ref=session.base_ref, port_base=worker.port_base)  # fmt: skip
    env["ECC_TARGET_BRANCH"] = base_branch
    log = os.path.join(launch.state_dir(session.name, worker.slug), "hooks.log")
    hooks.run("pre_merge", cwd=wt, env=env, log=log)  # blocking: a failure stops here
    base = base_commit(session)
    identity = ["-c", "user.name=ecc-hooks", "-c", "user.email=ecc-hooks@localhost"]
    if _run(wt, "config", "user.email")[1].strip():
        identity = []
    # phase 1, in the worktree: bring the base in (never leave conflict markers behind)
    if strategy == "rebase":
        code, _, err = _run(wt, *identity, "rebase", base, timeout=300)
        if code != 0:
            files = [n for n in _run(wt, "diff", "--name-only", "--diff-filter=U")[1].splitlines() if n]
            _run(wt, "rebase", "--abort")
            raise UserError(
                f"{worker.slug}: rebasing onto {session.base_ref} conflicts in {', '.join(files) or err.strip()[:200]}"
            )
    else:
        code, _, err = _run(wt, *identity, "merge", "--no-edit", base, timeout=300)
        if code != 0:
            files = [n for n in _run(wt, "diff", "--name-only", "--diff-filter=U")[1].splitlines() if n]
            _run(wt, "merge", "--abort")
            raise UserError(
                f"{worker.slug}: merging {session.base_ref} conflicts in {', '.join(files) or err.strip()[:200]}"
            )
    # phase 2, in the base checkout
    if strategy == "squash":
        code, _, err = _run(repo, "merge", "--squash", worker.branch, timeout=300)
        if code == 0:
            code, _, err = _run(repo, *identity, "commit", "--no-verify", "-q", "-m",
                                f"{worker.name}: {worker.task.splitlines()[0][:200]} (squashed by ecc-hooks)")  # fmt: skip
    elif strategy == "rebase":
        code, _, err = _run(repo, "merge", "--ff-only", worker.branch, timeout=300)
    else:
        code, _, err = _run(repo, *identity, "merge", "--no-edit", worker.branch, timeout=300)
    if code != 0:
        _run(repo, "merge", "--abort")
        raise UserError(f"{worker.slug}: merging into {base_branch} failed: {err.strip()[:300]}")
    hooks.run("post_merge", cwd=repo, env=env, log=log)
    return f"merged {worker.branch} into {base_branch} ({strategy})"


def apply(
    store: st.Store, session: st.Session, strategy: str = "merge", hooks: Optional[lifecycle.HookSet] = None
) -> list[tuple[str, str]]:
    """Merge the ready entries one at a time, in queue order, recomputing the queue after each: (id, outcome)
    for each merged one. The first refusal stops the run (UserError naming what was merged before it). The hooks
    are the snapshot ``hooks`` (else one read now), taken once before the first merge: a hook a merged branch
    brings in never runs in this run."""
    hooks = hooks if hooks is not None else lifecycle.snapshot(session.repo_root)
    done: list[tuple[str, str]] = []
    with workspace.repo_mutex(session.repo_root):
        while True:
            ready = [e for e in queue(store, session) if e.readyToMerge and e.id not in {d[0] for d in done}]
            if not ready:
                break
            worker = store.worker(session.name, ready[0].id)
            try:
                done.append((worker.slug, apply_one(store, session, worker, strategy, hooks)))
            except UserError as exc:
                merged = "; ".join(f"{i}: {what}" for i, what in done) or "nothing"
                raise UserError(f"{exc}\nmerged before it: {merged}") from None
    return done


# ---------------------------------------------------------------------------- pull request


def push_target(repo: str) -> str:
    """``host/owner/name`` of the repository a pull request goes to: origin's, as git reads its URL. UserError
    unless every URL git would push origin to (``pushurl``, ``pushInsteadOf`` and ``insteadOf`` rewrites of every
    config scope applied, as ``git remote get-url --push --all`` gives them) is that same repository: a
    repository's own config never sends a worker's branch anywhere else."""
    code, out, _ = _run(repo, "remote", "get-url", "origin")
    target = gitstate.remote_location(out.strip()) if code == 0 else None
    if target is None:
        raise UserError("the repository has no GitHub origin remote")
    code, out, err = _run(repo, "remote", "get-url", "--push", "--all", "origin")
    pushes = [line.strip() for line in out.splitlines() if line.strip()] if code == 0 else []
    if not pushes:
        raise UserError(f"git cannot tell where origin pushes: {err.strip()[:300]}")
    same = (target[0], target[1].lower())
    elsewhere = [u for u in pushes if (at := gitstate.remote_location(u)) is None or (at[0], at[1].lower()) != same]
    if elsewhere:
        raise UserError(f"origin pushes to {', '.join(redact(u) for u in elsewhere)}, not to {target[1]} on "
                        f"{target[0]} where the pull request goes: nothing pushed (see git remote -v, "
                        "remote.origin.pushurl, url.*.pushInsteadOf and url.*.insteadOf)")  # fmt: skip
    return f"{target[0]}/{target[1]}"


def pull_request(session: st.Session, worker: st.Worker, draft: bool = False) -> str:
    """Push the worker's branch and open a pull request with its handoff as the body, in the repository the branch
    is pushed to (``push_target``); its URL. UserError with the reason when gh is missing or logged out, there is
    no GitHub remote, origin pushes elsewhere, or the branch has nothing to merge."""
    from ecc_hooks.core import fsio
    from ecc_hooks.sources import github

    repo = session.repo_root
    target = push_target(repo)
    if not github.gh_ready(repo):
        raise UserError("gh is not installed or not logged in (gh auth status)")
    base = base_commit(session)
    if _run(repo, "rev-list", "--count", f"{base}..{worker.branch}")[1].strip() in ("", "0"):
        raise UserError(f"{worker.branch} has nothing {session.base_ref} lacks: no pull request to open")
    into = session.base_ref if session.base_ref != "HEAD" else (_main_checkout_branch(repo) or "main")
    try:  # read as it was written (no link followed, ours), then redacted: a key file never becomes a body
        body = redact(files.read(worker.handoff_file, files.root_of(repo, session.coordination_dir)))
    except OSError as exc:
        raise UserError(f"the handoff of {worker.slug} cannot be read safely: {exc}") from None
    code, _, err = _run(repo, "push", "--set-upstream", "origin", f"{worker.branch}:{worker.branch}", timeout=300)
    if code != 0:
        raise UserError(f"git push of {worker.branch} failed: {err.strip()[:500]}")
    title = redact(f"{worker.name}: {worker.task.splitlines()[0][:120]}")
    url, said = github.create_pull_request(repo, repository=target, head=worker.branch, base=into, title=title,
                                           body=body, draft=draft)  # fmt: skip
    if url is None:
        raise UserError(f"gh pr create failed: {said[-500:]}")
    record = os.path.join(launch.state_dir(session.name, worker.slug), "pull-request.json")
    fsio.atomic_write(record, json.dumps({"url": url, "branch": worker.branch, "draft": draft}).encode())
    return url


def pull_request_url(session: str, slug: str) -> Optional[str]:
    """The pull request ``pull_request`` opened for the worker, if any."""
    from ecc_hooks.core import fsio, paths

    try:
        data = json.loads(
            fsio.read_file(os.path.join(paths.home(), "runtime", session, slug, "pull-request.json"), 65536)
        )
    except (OSError, ValueError):
        return None
    return data.get("url") if isinstance(data, dict) and isinstance(data.get("url"), str) else None


# ---------------------------------------------------------------------------- resolving


def resolve_prompt(session: st.Session, entry: Entry) -> str:
    """What the resolving agent is told: what conflicts with what, in which files, and what done means."""
    if entry.kind == "base-conflict":
        other = session.base_ref
        if other == "HEAD":  # the base checkout's branch (HEAD in the worktree is the worker's own)
            other = _main_checkout_branch(session.repo_root) or base_commit(session)
        what = f"the base ({other})"
        files = entry.files
    else:
        blocker = entry.blockedBy[0]
        other, what = f"orchestrator-{session.name}-{blocker['worker']}", f"worker {blocker['worker']}'s branch"
        files = blocker["files"]
    return (
        f"This branch ({entry.branch}) conflicts with {what} in: {', '.join(files)}. "
        f"Run `git merge {other}`, resolve the conflicts in those files keeping the intent of both sides, "
        "run the project's checks, and commit the merge. Do not push. Report what you decided in your final response."
    )


def resolve(store: st.Store, session: st.Session, slug: str, agent_name: str) -> str:
    """Start ``agent_name`` in the worker's worktree on its conflicts (the worker is relaunched with that task;
    the caller holds the session's lock); the prompt it got. UserError when the worker has no conflict or runs."""
    from ecc_hooks.runtime import agents, starter

    entry = next((e for e in queue(store, session) if e.id == slug), None)
    if entry is None:
        raise UserError(f"session {session.name!r} has no worker {slug!r}")
    if entry.kind not in ("base-conflict", "pair-conflict"):
        raise UserError(f"{slug} has no conflict to resolve ({entry.suggestedAction or 'ready'})")
    worker = store.worker(session.name, slug)
    agent = agents.get(agent_name)
    agents.require([agent_name])
    prompt = resolve_prompt(session, entry)
    runtime = worker.runtime if worker.runtime != "claude-bg" or agent_name == "claude" else "tmux"
    agent_session = str(uuid.uuid4()) if agent.session_flag and runtime != "claude-bg" else None
    command = agent.start(prompt, runtime=runtime, session_id=agent_session)
    starter.start(store, session, worker, command=command, reason=f"resolving conflicts ({agent_name})",
                     agent=agent_name, agent_session=agent_session, agent_launch=1)  # fmt: skip
    return prompt
