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
blocking gate; then the base branch gains the worker's work without any commit on the worker's branch: ``merge``
adds one ``--no-ff`` merge commit whose first parent is the base as it was and whose message names the session,
the worker and its task (its tree from ``git merge-tree``, so the conflict check is the merge); ``squash`` one
commit with that tree; ``rebase`` replays the worker's commits (its branch rebased in its worktree) and
fast-forwards the base. The base branch moves in the checkout that has it (which must be clean; its files
follow), else as a ref alone (``update-ref`` against its old value). Then ``post_merge``. Every merged worker is
``merged`` (``merged.json`` remembers the tip a squash left out of the base), as is one whose commits reached the
base otherwise; applying again is a no-op that says so. A worker whose worktree is gone is left out with that
reason (kind ``missing``); the others go on.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.core.text import clean, clean_block
from ecc_hooks.runtime import files, launch, lifecycle, workspace
from ecc_hooks.runtime import store as st
from ecc_hooks.sources import git as gitstate

ACTIVE = ("pending", "starting", "running", "waiting", "idle", "stale")
FINISHED = ("completed", "failed", "stopped", "merged")
PREVIEW_LINES = 200
PREVIEW_BYTES = 1 << 20  # a preview's most bytes (its lines may be long)
MERGE_TREE_MIN = (2, 38)
STRATEGIES = ("merge", "rebase", "squash")


def _run(
    cwd: str, *args: str, timeout: float = 60, runner: Any = None, input: Optional[bytes] = None
) -> tuple[int, str, str]:
    """git in ``cwd`` through the safe runner (``runner``: one already made for ``cwd``, its config read once;
    ``input``: its stdin)."""
    done = (runner or gitstate.runner(cwd, timeout)).run(*args, input=input)
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
    missing: bool = False  # its worktree is gone (the summary says where it was)


def _shortstat(text: str) -> str:
    return " ".join(text.split()) or "no changes"


def diff(session: st.Session, worker: st.Worker, patch: bool = True, cap: int = PREVIEW_LINES) -> WorkerDiff:
    """The worker's committed and uncommitted work against the base, its index untouched."""
    base = base_commit(session)
    wt = worker.worktree
    if not os.path.isdir(wt):  # deleted by hand: said in its row, the others' diffs go on
        return WorkerDiff(worker.slug, worker.branch, session.base_ref, [], [], [], [], gone_reason(worker),
                          missing=True)  # fmt: skip
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
    kind: Optional[str] = None  # why blocked: merged | missing | active | dirty | empty | base-conflict | pair-conflict
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
    # a worker whose worktree is gone can never merge: after the others (ECC's order among each group)
    sized.sort(key=lambda item: (not os.path.isdir(item[0].worktree), *_order_key(item[0], len(item[2]))))
    entries: list[Entry] = []
    accepted: list[Entry] = []
    for worker, ahead, files in sized:
        entry = Entry(worker.slug, worker.branch, session.base_ref, worker.state, False, aheadBy=ahead, files=files)
        entries.append(entry)
        merged = merged_because(session, worker, tips.get(worker.branch), ahead, runner)
        if merged is not None and worker.state not in ACTIVE:
            entry.kind, entry.suggestedAction = "merged", f"nothing to merge: {worker.slug} {merged}"
            continue
        if not os.path.isdir(worker.worktree):  # deleted by hand: out of the queue, the others go on
            entry.kind, entry.suggestedAction = "missing", gone_reason(worker)
            continue
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


def merged_because(
    session: st.Session, worker: st.Worker, tip: Optional[str], ahead: int, runner: Any = None
) -> Optional[str]:
    """Why the worker's work is in the base already, None when it is not: ``apply`` merged its branch as it is
    now (``merged.json``; a squashed branch's commits never reach the base), or its commits are in the base
    (merged by hand: nothing ahead, and its tip is not where the session started, so it had commits of its own)."""
    recorded = _still_merged(session, worker, tip)
    if recorded is not None:
        return recorded
    if ahead or tip is None or not session.base_commit or tip == session.base_commit:
        return None
    own = _run(session.repo_root, "merge-base", "--is-ancestor", tip, session.base_commit, runner=runner)[0] != 0
    if not own:
        return None
    into = session.base_ref if session.base_ref != "HEAD" else _main_checkout_branch(session.repo_root) or "HEAD"
    return f"merged (its commits are in {into})"


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


def target_branch(session: st.Session) -> str:
    """The branch the workers merge into: the base ref when it is a local branch; with the base ``HEAD``, the
    branch the base checkout is on. UserError when there is none (a detached HEAD, a tag, a remote ref)."""
    repo = session.repo_root
    if session.base_ref == "HEAD":
        found = _main_checkout_branch(repo)
        if found is None:
            raise UserError(f"the base checkout {repo} is on a detached HEAD: check out the branch to merge into")
        return found
    name = session.base_ref.removeprefix("refs/heads/")
    if _run(repo, "show-ref", "--verify", "-q", f"refs/heads/{name}")[0] != 0:
        raise UserError(f"the base {session.base_ref!r} is not a local branch: nothing can be merged into it")
    return name


def checkout_of(repo: str, branch: str) -> Optional[str]:
    """The work tree that has ``branch`` checked out (the main checkout or a linked one), None when none has:
    its files must follow the branch, so a merge moves it there; otherwise only the ref moves."""
    return checkouts(_run(repo, "worktree", "list", "--porcelain", "-z")[1]).get(branch)


def checkouts(listing: str) -> dict[str, str]:
    """{branch: work tree} from ``git worktree list --porcelain -z`` (records of NUL-ended ``key value``
    attributes, a record ended by one more NUL; a path may hold any byte but NUL, newlines and spaces too)."""
    found: dict[str, str] = {}
    for record in listing.split("\0\0"):
        fields = dict(f.split(" ", 1) if " " in f else (f, "") for f in record.split("\0") if f)
        branch = fields.get("branch", "")
        if branch.startswith("refs/heads/") and "worktree" in fields:
            found.setdefault(branch.removeprefix("refs/heads/"), fields["worktree"])
    return found


def _rev(repo: str, ref: str) -> str:
    code, out, err = _run(repo, "rev-parse", "--verify", "-q", ref + "^{commit}")
    if code != 0 or not out.strip():
        raise UserError(f"{ref} does not resolve: {err.strip()[:200]}")
    return out.strip()


def _identity(repo: str) -> list[str]:
    """``-c`` options naming ecc-hooks as the committer when the repository has no identity of its own."""
    if _run(repo, "config", "user.email")[1].strip():
        return []
    return ["-c", "user.name=ecc-hooks", "-c", "user.email=ecc-hooks@localhost"]


SUBJECT_MAX = 72  # characters of a commit's first line
TASK_MAX = 4000  # characters of the task quoted in a merge commit's body


def commit_message(session: st.Session, worker: st.Worker, strategy: str, into: str) -> str:
    """What a merge (or squash) commit says: the session, the worker and its task (redacted, cut), never a sha.
    The first line: ``Merge <worker> (<session>): <task>``, at most ``SUBJECT_MAX`` characters."""
    task = clean_block(redact(worker.task, limit=None)).strip()
    first = " ".join(task.splitlines()[0].split()) if task else ""
    verb = "Merge" if strategy == "merge" else "Squash"
    subject = clean(f"{verb} {worker.name} ({session.name})" + (f": {first}" if first else ""), SUBJECT_MAX)
    if len(task) > TASK_MAX:
        task = task[: TASK_MAX - 1] + "\u2026"
    body = [
        f"Session: {clean(session.name, 200)}",
        f"Worker: {clean(worker.name, 200)} (branch {clean(worker.branch, 200)})",
        f"Into: {clean(into, 200)}, by ecc-hooks ({strategy})",
    ]
    return "\n".join([subject, "", *body, "", "Task:", *(f"  {line}" for line in task.splitlines())]) + "\n"


def merged_tree(repo: str, ours: str, theirs: str, what: str) -> str:
    """The tree of merging ``theirs`` into ``ours``, built in the object store only (no work tree, no commit on
    either branch); UserError naming the conflicted files when they conflict."""
    code, out, err = _run(repo, "merge-tree", "--write-tree", "--name-only", "-z", ours, theirs, timeout=300)
    if code == 1:
        names = [n for n in out.partition("\0\0")[0].split("\0")[1:] if n]
        raise UserError(f"{what} conflicts in {', '.join(dict.fromkeys(names)) or 'its files'}: nothing merged")
    if code != 0 or not out.split("\0", 1)[0].strip():
        raise UserError(f"git merge-tree {ours} {theirs} failed: {err.strip()[:300]}")
    return out.split("\0", 1)[0].strip()


def _commit(repo: str, tree: str, parents: list[str], message: str) -> str:
    """A commit of ``tree`` on ``parents`` (its message on stdin: no task text in an argument); its id."""
    args = [a for p in parents for a in ("-p", p)]
    code, out, err = _run(repo, *_identity(repo), "commit-tree", tree, *args, input=message.encode(), timeout=60)
    if code != 0 or not out.strip():
        raise UserError(f"git commit-tree failed: {err.strip()[:300]}")
    return out.strip()


def _rebased(session: st.Session, worker: st.Worker, onto: str) -> str:
    """Rebase the worker's branch onto ``onto`` in its worktree (rebase means the worker's commits replayed:
    its branch is rewritten); its new tip. On a conflict the rebase is aborted (no markers left behind)."""
    wt = worker.worktree
    code, _, err = _run(wt, *_identity(wt), "rebase", onto, timeout=300)
    if code != 0:
        files = [n for n in _run(wt, "diff", "--name-only", "--diff-filter=U")[1].splitlines() if n]
        _run(wt, "rebase", "--abort")
        raise UserError(
            f"{worker.slug}: rebasing onto {session.base_ref} conflicts in {', '.join(files) or err.strip()[:200]}"
        )
    return _rev(wt, "HEAD")


def _move(repo: str, branch: str, checkout: Optional[str], old: str, new: str, why: str) -> None:
    """Move ``branch`` from ``old`` to ``new`` (a descendant): in the checkout that has it, by a fast-forward (its
    files follow); else the ref alone, compared with ``old`` (a branch moved meanwhile is never overwritten)."""
    if checkout is not None:
        code, _, err = _run(checkout, "merge", "--ff-only", "-q", new, timeout=300)
        if code != 0:
            raise UserError(f"{branch} in {checkout} could not move forward to the merge: {err.strip()[:300]}")
        return
    code, _, err = _run(repo, "update-ref", "-m", why, f"refs/heads/{branch}", new, old)
    if code != 0:
        raise UserError(f"{branch} could not be updated (it moved meanwhile?): {err.strip()[:300]}")


def apply_one(
    store: st.Store,
    session: st.Session,
    worker: st.Worker,
    strategy: str = "merge",
    hooks: Optional[lifecycle.HookSet] = None,
) -> str:
    """Merge one ready worker into the base branch (the caller holds the repository's mutex); what was done.
    UserError (the base branch unchanged) when a gate or a check refuses. ``hooks``: the snapshot taken when the
    command started (never what a merge brought into ``.ecc/hooks``).

    ``merge``: one ``--no-ff`` merge commit on the base (first parent: the base as it was), named after the
    session, the worker and its task; its tree from ``git merge-tree``, so the check and the merge never commit
    on the worker's branch. ``squash``: one commit with that tree and the base as its only parent. ``rebase``: the
    worker's branch rebased onto the base in its worktree, then the base fast-forwarded to it (linear). The base
    branch moves in the checkout that has it (its files follow; it must be clean), else as a ref alone."""
    hooks = hooks if hooks is not None else lifecycle.snapshot(session.repo_root)
    if strategy not in STRATEGIES:
        raise UserError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    repo = session.repo_root
    if not os.path.isdir(worker.worktree):
        raise UserError(f"{worker.slug}: {gone_reason(worker)}")
    into = target_branch(session)
    checkout = checkout_of(repo, into)
    if checkout is not None and _run(checkout, "status", "--porcelain", "--untracked-files=no")[1].strip():
        raise UserError(f"the checkout {checkout} of {into} has uncommitted changes: commit or stash them first")
    env = lifecycle.worker_env(session=session.name, worker=worker.slug, worktree=worker.worktree,
                               branch=worker.branch, base_ref=session.base_ref, port_base=worker.port_base)  # fmt: skip
    env["ECC_TARGET_BRANCH"] = into
    log = os.path.join(launch.state_dir(session.name, worker.slug), "hooks.log")
    hooks.run("pre_merge", cwd=worker.worktree, env=env, log=log)  # blocking: a failure stops here
    old = _rev(repo, f"refs/heads/{into}")
    if strategy == "rebase":
        new = tip = _rebased(session, worker, old)
    else:
        tip = _rev(repo, f"refs/heads/{worker.branch}")
        tree = merged_tree(repo, old, tip, f"{worker.slug}: merging it into {into}")
        parents = [old, tip] if strategy == "merge" else [old]
        new = _commit(repo, tree, parents, commit_message(session, worker, strategy, into))
    _move(repo, into, checkout, old, new, f"ecc-hooks: {strategy} {session.name}/{worker.slug}")
    record_merged(store, session, worker, strategy=strategy, commit=new, tip=tip, into=into)
    hooks.run("post_merge", cwd=checkout or repo, env=env, log=log)
    return f"merged {worker.branch} into {into} ({strategy})"


# ---------------------------------------------------------------------------- merged workers

MERGED_FILE = "merged.json"


def merged_record(session: str, slug: str) -> Optional[dict[str, Any]]:
    """What ``apply`` recorded when it merged the worker (strategy, the commit on the base, the worker's tip then,
    the branch), None when it never did."""
    from ecc_hooks.core import fsio, paths

    try:
        data = json.loads(fsio.read_file(os.path.join(paths.home(), "runtime", session, slug, MERGED_FILE), 65536))
    except (OSError, ValueError):
        return None
    keys = ("strategy", "commit", "tip", "into")
    return data if isinstance(data, dict) and all(isinstance(data.get(k), str) for k in keys) else None


def merged_reason(strategy: str, commit: str) -> str:
    return f"merged ({strategy}) at {commit[:12]}"


def record_merged(
    store: st.Store, session: st.Session, worker: st.Worker, *, strategy: str, commit: str, tip: str, into: str
) -> None:
    """Remember the merge (``merged.json``: a squashed branch's tip is not in the base, so only this says its work
    landed) and move the worker to ``merged``."""
    from ecc_hooks.core import fsio

    record = {"strategy": strategy, "commit": commit, "tip": tip, "into": into, "at": time.time()}
    path = os.path.join(launch.state_dir(session.name, worker.slug), MERGED_FILE)
    fsio.atomic_write(path, json.dumps(record).encode())
    mark_merged(store, session, worker, merged_reason(strategy, commit))


def mark_merged(store: st.Store, session: st.Session, worker: st.Worker, reason: str) -> bool:
    """Move the worker to ``merged`` (its status.md too) when its state allows it; whether it moved. A state that
    moved meanwhile is read again once."""
    from ecc_hooks.runtime import starter

    for _ in range(2):
        if worker.state == "merged" or "merged" not in st.ALLOWED.get(worker.state, ()):
            return False
        try:
            store.transition(worker, "merged", reason)
        except st.InvalidTransition:
            worker = store.worker(session.name, worker.slug)
            continue
        starter.write_status(session, worker)
        return True
    return False


def _still_merged(session: st.Session, worker: st.Worker, tip: Optional[str]) -> Optional[str]:
    """The reason a worker's work is in the base: recorded by ``apply`` for its branch's current tip; None when it
    never was merged or its branch moved on since."""
    record = merged_record(session.name, worker.slug)
    if record is None or (tip is not None and record["tip"] != tip):
        return None
    return merged_reason(record["strategy"], record["commit"])


def gone_reason(worker: st.Worker) -> str:
    return f"its worktree is gone: {worker.worktree}"


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
            entries = queue(store, session)
            record_hand_merges(store, session, entries)
            ready = [e for e in entries if e.readyToMerge and e.id not in {d[0] for d in done}]
            if not ready:
                break
            worker = store.worker(session.name, ready[0].id)
            try:
                done.append((worker.slug, apply_one(store, session, worker, strategy, hooks)))
            except UserError as exc:
                merged = "; ".join(f"{i}: {what}" for i, what in done) or "nothing"
                raise UserError(f"{exc}\nmerged before it: {merged}") from None
    return done


def record_hand_merges(store: st.Store, session: st.Session, entries: list[Entry]) -> None:
    """Workers the queue found merged (by hand: their commits are in the base) move to ``merged``."""
    for entry in entries:
        if entry.kind == "merged" and entry.state != "merged":
            try:
                worker = store.worker(session.name, entry.id)
            except UserError:
                continue
            mark_merged(store, session, worker, entry.suggestedAction.removeprefix(f"nothing to merge: {entry.id} "))


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


# What a headless resolver may run without asking (it has no one to ask; Claude Code's default permission mode
# would deny the ``git merge`` it is told to run): reading and editing files in its worktree, and the git
# commands a merge needs. Nothing else: not a push, not the project's own commands.
RESOLVE_TOOLS = ("Read", "Edit", "Write", "Grep", "Glob", "Bash(git merge:*)", "Bash(git status:*)",
                 "Bash(git diff:*)", "Bash(git log:*)", "Bash(git show:*)", "Bash(git add:*)", "Bash(git commit:*)")  # fmt: skip
RESOLVE_MODE = "acceptEdits"


def resolve_prompt(session: st.Session, entry: Entry, headless: bool = False) -> str:
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
    checks = (
        "This run may only read and edit files and run git merge, status, diff, log, show, add and commit: name the "
        "project's checks to run in your final response."
        if headless
        else "run the project's checks,"
    )
    return (
        f"This branch ({entry.branch}) conflicts with {what} in: {', '.join(files)}. "
        f"Run `git merge {other}`, resolve the conflicts in those files keeping the intent of both sides, "
        + (f"and commit the merge. {checks}" if headless else f"{checks} and commit the merge.")
        + " Do not push. Report what you decided in your final response."
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
    runtime = worker.runtime if worker.runtime != "claude-bg" or agent_name == "claude" else "tmux"
    agent_session = str(uuid.uuid4()) if agent.session_flag and runtime != "claude-bg" else None
    # headless, no one can grant a permission: the git commands and edits it needs are granted up front
    grant = runtime == "headless" and agent.allowed_tools_flag is not None
    prompt = resolve_prompt(session, entry, headless=grant)
    options = {"permission_mode": RESOLVE_MODE, "allowed_tools": ",".join(RESOLVE_TOOLS)} if grant else {}
    command = agent.start(prompt, runtime=runtime, session_id=agent_session, **options)
    starter.start(store, session, worker, command=command, reason=f"resolving conflicts ({agent_name})",
                     agent=agent_name, agent_session=agent_session, agent_launch=1)  # fmt: skip
    return prompt
