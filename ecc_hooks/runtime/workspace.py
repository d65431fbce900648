"""Creating a planned session on disk and in tmux: coordination files, worktrees, panes; all or nothing.

- **One writer per repository.** Every git write runs under a per-repository mutex (``filelock`` on
  ``<git common dir>/ecc-hooks.lock``), so parallel ``session create`` runs on one repository never meet git's own
  ``index.lock``; a lock left by something else (an editor, a crashed git) is a clear error that says it is
  worth retrying, and nothing destructive is ever retried on its own.
- **ECC's files.** Each worker's ``task.md``, ``status.md`` and ``handoff.md`` in ECC's templates (its tools parse
  them), the worktree on ``orchestrator-<session>-<worker>`` from the base ref, the plan's ``seedPaths`` and the
  files ``.worktreeinclude`` names (Claude Code's convention for git-ignored files such as ``.env``) copied in.
- **Ready to work.** In each new worktree the blocking ``worktree_created`` hook, then the plan's ``setup``
  commands; a failure of either fails the create.
- **tmux on a socket of ours** (``-L ecc-hooks``, or ``$ECC_HOOKS_TMUX_SOCKET``): one session per plan; the
  supervisor (``starter.start``) adds a pane per worker as the session's ``maxParallel`` allows.
- **All or nothing.** When a step fails, what this run created is removed again (its fresh worktrees, branches at
  the base ref with no commits of their own, the files it wrote, the tmux session) and the error says what failed.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

from ecc_hooks.core import fsio, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact
from ecc_hooks.runtime import files, launch, lifecycle
from ecc_hooks.runtime.launch import tmux_socket
from ecc_hooks.runtime.plan import SessionPlan, WorkerPlan
from ecc_hooks.sources import git as gitstate

GIT_TIMEOUT = 60.0
SETUP_TIMEOUT = 900.0  # seconds a plan's setup command may take (e.g. installing dependencies)
LOCK_TIMEOUT = 120.0  # seconds a create waits for another one's git writes on the same repository


class RetryableError(UserError):
    """A failure worth trying again (a lock held by someone else); nothing was left half done."""


READ_ONLY = frozenset(
    {"rev-parse", "status", "log", "diff", "ls-files", "rev-list", "merge-base", "show", "for-each-ref"}
)
RETRIES = (0.2, 0.5, 1.0)  # seconds between tries of a read-only git command that met a held lock


def git(repo: str, *args: str, runner: Any = None) -> str:
    """Run git in ``repo`` through the project's safe runner (``sources.git.run``: a repository's hooks and
    filters never run); UserError (RetryableError for a held lock) with git's own message when it fails. A
    read-only command that meets a held lock is tried again a few times with backoff; a write never is."""
    for pause in RETRIES if args and args[0] in READ_ONLY else ():
        try:
            return _git_once(repo, args, runner)
        except RetryableError:
            time.sleep(pause)
    return _git_once(repo, args, runner)


def _git_once(repo: str, args: tuple[str, ...], runner: Any) -> str:
    done = runner.run(*args) if runner is not None else gitstate.run(repo, *args, timeout=GIT_TIMEOUT)
    if done is None:
        raise UserError(f"git {' '.join(args[:2])} did not finish within {GIT_TIMEOUT:.0f} s")
    code, out, err = done
    if code != 0:
        message = err.strip()
        if "index.lock" in message or "could not lock" in message or "Unable to create" in message:
            raise RetryableError(f"git {args[0]}: a git lock is held by another process ({message[:300]}); "
                                 "retry once it is done")  # fmt: skip
        raise UserError(f"git {' '.join(args[:2])} failed: {message[:500]}")
    return out.decode("utf-8", "replace")


def common_dir(repo: str, runner: Any = None) -> str:
    """The repository's git common dir (shared by all its worktrees), absolute."""
    path = git(repo, "rev-parse", "--git-common-dir", runner=runner).strip()
    return os.path.normpath(os.path.join(repo, path))


@contextmanager
def repo_mutex(repo: str, runner: Any = None, common: Optional[str] = None) -> Iterator[None]:
    """The per-repository git mutex: one ecc-hooks git writer at a time, across processes."""
    from filelock import FileLock, Timeout

    lock = FileLock(os.path.join(common or common_dir(repo, runner), "ecc-hooks.lock"))
    try:
        with lock.acquire(timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise RetryableError(
            f"another ecc-hooks run has held {repo}'s git mutex for {LOCK_TIMEOUT:.0f} s; retry"
        ) from None


def worktree_includes(repo: str, runner: Any = None) -> list[str]:
    """Git-ignored files ``.worktreeinclude`` names (gitignore-style patterns), relative to the repository."""
    try:  # read without following a link (a committed ``.worktreeinclude`` link is not read)
        text = fsio.read_file(os.path.join(repo, ".worktreeinclude"), 1 << 20, root=repo).decode("utf-8", "replace")
    except OSError:
        return []
    patterns = [p.strip() for p in text.splitlines() if p.strip() and not p.startswith("#")]
    if not patterns:
        return []
    ignored = git(repo, "ls-files", "--others", "--ignored", "--exclude-standard", "-z", runner=runner).split("\0")
    return [path for path in ignored if path and any(_matches(path, p) for p in patterns)]


def _matches(path: str, pattern: str) -> bool:
    """A gitignore-style pattern: a folder pattern (``name/``) takes what is below it; a bare name matches a
    file of that name anywhere."""
    if pattern.endswith("/"):
        return fnmatch.fnmatch(path, pattern + "*")
    return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern)


def overlay(repo: str, worktree: str, paths: list[str]) -> None:
    """Copy ``paths`` (relative to the repository) into the worktree, replacing what is there, through
    ``fsio.copy_into``: no link is followed on either side (a committed ``cfg -> /tmp/x`` on the way is refused),
    so nothing outside the repository is read and nothing outside the worktree is written, replaced or deleted."""
    for rel in paths:
        try:
            fsio.copy_into(repo, worktree, rel)
        except FileNotFoundError:
            raise UserError(f"seed path does not exist in the repository: {rel}") from None
        except fsio.UnsafeFile as exc:
            raise UserError(f"refused to copy {rel} into the worktree: {exc}") from None


@dataclass
class Created:
    """What one create run made, to undo it when a later step fails."""

    worktrees: list[tuple[str, str]] = field(default_factory=list)  # (worktree, branch)
    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    tmux_session: Optional[str] = None
    panes: dict[str, str] = field(default_factory=dict)  # worker slug -> pane id
    base: Optional[str] = None  # the commit the branches start at
    kept: list[str] = field(default_factory=list)  # what undo left because work may be in it
    dirty: list[str] = field(default_factory=list)  # the base checkout's uncommitted files (the workers lack them)
    notes: list[str] = field(default_factory=list)  # what the user should know (``control.create`` returns them)
    root: str = ""  # the folder the coordination files are reached from (``files.root_of``)


def session_exists(name: str) -> bool:
    return launch.tmux_run("has-session", "-t", "=" + name).ok


def _write_files(session: SessionPlan, made: Created) -> None:
    root = files.root_of(session.repo_root, session.coordination_dir)
    files.ensure_root(root)  # a plan's own coordinationRoot may not exist yet (kept afterwards, as ECC keeps it)
    made.root = root
    for worker in session.workers:
        if not os.path.isdir(worker.coordination_dir):
            try:
                fsio.ensure_state_dir(worker.coordination_dir, root=root)
            except fsio.UnsafeFile as exc:
                raise UserError(f"refused to write the coordination files: {exc}") from None
            made.dirs.append(worker.coordination_dir)
        task = files.task_md(
            name=worker.name,
            session=session.session,
            repo_root=session.repo_root,
            worktree=worker.worktree,
            branch=worker.branch,
            status_file=worker.status_file,
            handoff_file=worker.handoff_file,
            task=worker.task,
            seed_paths=worker.seed_paths,
        )
        status = files.status_md(
            name=worker.name,
            state="pending",
            worktree=worker.worktree,
            branch=worker.branch,
            task_file=worker.task_file,
            handoff_file=worker.handoff_file,
            agent=worker.spec.agent,
            agent_session=worker.session_id,
        )
        marks = launch.marks_path(session.session, worker.slug)  # the templates are ours: replaced when it ends
        for path, text in ((worker.task_file, task), (worker.handoff_file, files.pending_handoff_md(worker.name)),
                           (worker.status_file, status)):  # fmt: skip
            try:
                files.write_ours(path, text, root, marks)
            except fsio.UnsafeFile as exc:
                raise UserError(f"refused to write the coordination files: {exc}") from None
            made.files.append(path)


def _prepare(session: SessionPlan, worker: WorkerPlan, ports: dict[str, int], hooks: lifecycle.HookSet) -> None:
    """The blocking ``worktree_created`` hook, then the plan's ``setup`` commands, in the new worktree."""
    env = lifecycle.worker_env(
        session=session.session,
        worker=worker.slug,
        worktree=worker.worktree,
        branch=worker.branch,
        base_ref=session.base_ref,
        port_base=ports.get(worker.slug),
    )
    log = os.path.join(launch.state_dir(session.session, worker.slug), "hooks.log")
    hooks.run("worktree_created", cwd=worker.worktree, env=env, log=log)
    for command in worker.spec.setup:
        done = proc.run(
            ["/bin/sh", "-c", command], cwd=worker.worktree, env={**os.environ, **env}, timeout=SETUP_TIMEOUT
        )
        output = (done.out + done.err).decode("utf-8", "replace")
        lifecycle.append_log(log, f"[setup] {command}: {done.error or f'exit {done.code}'}", output)
        if not done.ok:
            raise UserError(
                f"worker {worker.slug}: setup command {command!r} failed ({done.error or f'exit {done.code}'}):\n"
                + redact(output, limit=None).strip()[-2000:]
            )


def create(
    session: SessionPlan, ports: Optional[dict[str, int]] = None, hooks: Optional[lifecycle.HookSet] = None
) -> Created:
    """Make the session: worktrees and branches under the repository's mutex, their ``worktree_created`` hooks
    (``hooks``: the snapshot the user consented to, else one read now; only trusted ones run) and setup commands,
    the coordination files, the tmux session. On any failure, undo what this run made and raise. (Workers are
    launched by ``starter.start``.)"""
    repo = session.repo_root
    hooks = hooks if hooks is not None else lifecycle.snapshot(repo)
    if not os.path.isdir(repo):
        raise UserError(f"repoRoot is not a folder: {repo}")
    runner = gitstate.runner(repo, GIT_TIMEOUT * (len(session.workers) + 2))  # the repo's config listed once
    common, base = _base_facts(repo, session.base_ref, runner)
    uses_tmux = any(w.spec.runtime == "tmux" for w in session.workers)
    if uses_tmux and launch.tmux_available():
        raise UserError(launch.tmux_available() or "")
    if uses_tmux and session_exists(session.session):
        raise UserError(f"a session named {session.session!r} runs already (tmux -L {tmux_socket()})")
    made = Created()
    try:
        made.base = base
        includes = worktree_includes(repo, runner)
        with repo_mutex(repo, runner, common):
            made.dirty = uncommitted(repo, session.coordination_dir, runner)
            for worker in session.workers:
                if os.path.lexists(worker.worktree):
                    raise UserError(f"{worker.worktree} exists already: choose another session name or remove it")
                if _branch_exists(repo, worker.branch, runner):
                    raise UserError(f"a branch named {worker.branch} exists already: choose another session name "
                                    "or delete the branch")  # fmt: skip
                # recorded before the add: a failed add may leave its new branch (or half a worktree) behind
                made.worktrees.append((worker.worktree, worker.branch))
                git(repo, "worktree", "add", "-b", worker.branch, worker.worktree, made.base, runner=runner)
                overlay(repo, worker.worktree, worker.seed_paths + [p for p in includes if p not in worker.seed_paths])
        for worker in session.workers:
            _prepare(session, worker, ports or {}, hooks)
        exclude_coordination(session, common, made)
        _write_files(session, made)
        if uses_tmux:
            launch.ensure_tmux_session(session.session, repo)
            made.tmux_session = session.session
    except BaseException:
        undo(session, made)
        raise
    return made


def _base_facts(repo: str, base_ref: str, runner: Any) -> tuple[str, str]:
    """(the git common dir, the base commit) in one git call; when it fails, which of the three it was: not a
    repository, a repository with no commit yet, or a base ref that names nothing."""
    done = runner.run("rev-parse", "--is-inside-work-tree", "--git-common-dir", "--verify", base_ref + "^{commit}")
    if done is not None and done[0] == 0:
        facts = done[1].decode("utf-8", "replace").split()
        return os.path.normpath(os.path.join(repo, facts[1])), facts[2]
    if done is not None and done[0] == gitstate.REFUSED:  # no git ran (an include another user could change...)
        raise UserError(str(done[2])[:500])
    inside = runner.run("rev-parse", "--is-inside-work-tree")
    if inside is None or inside[0] != 0 or inside[1].strip() != b"true":
        raise UserError(f"not a git work tree: {repo}")
    refs = runner.run("for-each-ref", "--count=1", "--format=%(refname)")
    if refs is not None and refs[0] == 0 and not refs[1].strip():
        raise UserError(f"the repository {repo} has no commit yet: the workers start from a commit, so commit first")
    raise UserError(f"unknown base ref {base_ref!r}: no commit in {repo} is named so (give --base a branch, tag or "
                    "commit of it)")  # fmt: skip


DIRTY_SHOWN = 10  # uncommitted files named in the warning; the rest counted


def uncommitted(repo: str, coordination_dir: str, runner: Any) -> list[str]:
    """The base checkout's uncommitted files (changed, staged or untracked, not ignored), the session's own
    coordination folder aside: the workers start from the base commit, without them."""
    done = runner.run("status", "--porcelain", "-z", "--untracked-files=normal")
    if done is None or done[0] != 0:
        return []
    own = os.path.relpath(os.path.dirname(os.path.normpath(coordination_dir)), repo) + "/"
    paths, entries = [], done[1].decode("utf-8", "replace").split("\0")
    skip = False
    for entry in entries:
        if skip:  # a rename's or copy's source path
            skip = False
            continue
        if len(entry) < 4:
            continue
        skip = entry[0] in "RC"
        path = entry[3:]
        if not path.startswith(own):
            paths.append(path)
    return paths


def dirty_warning(paths: list[str]) -> str:
    shown = ", ".join(paths[:DIRTY_SHOWN]) + (
        f" and {len(paths) - DIRTY_SHOWN} more" if len(paths) > DIRTY_SHOWN else ""
    )
    return (f"the base checkout has uncommitted changes the workers do not get (they start from the base commit): "
            f"{shown}")  # fmt: skip


def exclude_coordination(session: SessionPlan, common: str, made: Created) -> None:
    """Keep the coordination folder out of ``git status``: its pattern in ``<git common dir>/info/exclude`` when it
    lies in the repository. Written as every file under an untrusted repository is (``core.fsio`` with the common
    dir as root: no link followed, folders and file the user's); when that is refused, a note says so, and the
    create goes on (only ``git status`` is noisier)."""
    repo = os.path.normpath(session.repo_root)
    root = os.path.dirname(os.path.normpath(session.coordination_dir))
    if not root.startswith(repo + os.sep):
        return
    pattern = "/" + os.path.relpath(root, repo).replace(os.sep, "/") + "/"
    path = os.path.join(common, "info", "exclude")
    try:
        try:
            text = fsio.read_file(path, 1 << 20, root=common).decode("utf-8", "replace")
        except FileNotFoundError:
            text = ""
        if pattern in text.splitlines():
            return
        line = ("" if not text or text.endswith("\n") else "\n") + pattern + "\n"
        fd = fsio.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, create_dirs=True, root=common)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError as exc:
        made.notes.append(f"the coordination folder was not added to {path} ({exc}): git status lists it")


def _branch_exists(repo: str, branch: str, runner: Any) -> bool:
    done = runner.run("rev-parse", "--verify", "-q", f"refs/heads/{branch}")
    return done is not None and done[0] == 0


def undo(session: SessionPlan, made: Created) -> None:
    """Remove what ``create`` made this run: never a worktree with changes or a branch that moved past the base
    (an agent may have started in an earlier pane before a later step failed); those are kept and named."""
    if made.tmux_session:
        launch.tmux("kill-session", "-t", "=" + made.tmux_session, check=False)
    for path in [*made.files, *reversed(made.dirs)]:  # never through a link: only below the root
        try:
            fsio.remove(path, made.root)
        except (OSError, ValueError):
            pass
    if not made.worktrees:
        return
    repo = session.repo_root
    with repo_mutex(repo):
        for worktree, branch in reversed(made.worktrees):
            if not os.path.isdir(worktree):  # its add failed before making it: forget what git recorded
                gitstate.run(repo, "worktree", "prune", timeout=GIT_TIMEOUT)
            else:
                status = gitstate.run(worktree, "status", "--porcelain", timeout=GIT_TIMEOUT)
                if status is not None and status[0] == 0 and not status[1].strip():
                    gitstate.run(repo, "worktree", "remove", worktree, timeout=GIT_TIMEOUT)
                else:
                    made.kept.append(worktree)
            tip = gitstate.run(repo, "rev-parse", "--verify", branch, timeout=GIT_TIMEOUT)
            if tip is None or tip[0] != 0:
                continue
            if tip[1].decode().strip() == made.base and worktree not in made.kept:
                gitstate.run(repo, "branch", "-D", branch, timeout=GIT_TIMEOUT)
            else:
                made.kept.append(branch)
