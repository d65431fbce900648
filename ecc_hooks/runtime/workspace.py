"""Creating a planned session on disk and in tmux: coordination files, worktrees, panes; all or nothing.

- **One writer per repository.** Every git write runs under a per-repository mutex (``filelock`` on
  ``<git common dir>/ecc-hooks.lock``), so parallel ``session create`` runs on one repository never meet git's own
  ``index.lock``; a lock left by something else (an editor, a crashed git) is a clear error that says it is
  worth retrying, and nothing destructive is ever retried on its own.
- **ECC's files.** Each worker's ``task.md``, ``status.md`` and ``handoff.md`` in ECC's templates (its tools parse
  them), the worktree on ``orchestrator-<session>-<worker>`` from the base ref, the plan's ``seedPaths`` and the
  files ``.worktreeinclude`` names (Claude Code's convention for git-ignored files such as ``.env``) copied in.
- **tmux on a socket of ours** (``-L ecc-hooks``, or ``$ECC_HOOKS_TMUX_SOCKET``): one session per plan, a pane per
  worker in its worktree, titled with the worker's slug, running its launch command.
- **All or nothing.** When a step fails, what this run created is removed again (its fresh worktrees, branches at
  the base ref with no commits of their own, the files it wrote, the tmux session) and the error says what failed.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Optional

from ecc_hooks.core import proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime.plan import SessionPlan, WorkerPlan, quote
from ecc_hooks.sources import git as gitstate

SOCKET_ENV = "ECC_HOOKS_TMUX_SOCKET"
DEFAULT_SOCKET = "ecc-hooks"
GIT_TIMEOUT = 60.0
LOCK_TIMEOUT = 120.0  # seconds a create waits for another one's git writes on the same repository


class RetryableError(UserError):
    """A failure worth trying again (a lock held by someone else); nothing was left half done."""


def tmux_socket() -> str:
    return os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET


def _tmux(*args: str) -> proc.Result:
    return proc.run(["tmux", "-L", tmux_socket(), *args], timeout=30)


def tmux(*args: str, check: bool = True) -> str:
    """Run tmux on our socket; its stdout (UserError with its stderr when it fails and ``check``)."""
    done = _tmux(*args)
    if check and not done.ok:
        raise UserError(f"tmux {' '.join(args[:2])} failed: {done.error or done.err_text().strip()[:300]}")
    return done.out.decode("utf-8", "replace")


def git(repo: str, *args: str) -> str:
    """Run git in ``repo`` through the project's safe runner (``sources.git.run``: a repository's hooks and
    filters never run); UserError (RetryableError for a held lock) with git's own message when it fails."""
    done = gitstate.run(repo, *args, timeout=GIT_TIMEOUT)
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


def common_dir(repo: str) -> str:
    """The repository's git common dir (shared by all its worktrees), absolute."""
    path = git(repo, "rev-parse", "--git-common-dir").strip()
    return os.path.normpath(os.path.join(repo, path))


@contextmanager
def repo_mutex(repo: str) -> Iterator[None]:
    """The per-repository git mutex: one ecc-hooks git writer at a time, across processes."""
    from filelock import FileLock, Timeout

    lock = FileLock(os.path.join(common_dir(repo), "ecc-hooks.lock"))
    try:
        with lock.acquire(timeout=LOCK_TIMEOUT):
            yield
    except Timeout:
        raise RetryableError(
            f"another ecc-hooks run has held {repo}'s git mutex for {LOCK_TIMEOUT:.0f} s; retry"
        ) from None


def task_md(session: SessionPlan, worker: WorkerPlan) -> str:
    seeded = ["", "## Seeded Local Overlays", *(f"- `{p}`" for p in worker.seed_paths)] if worker.seed_paths else []
    return "\n".join(
        [
            f"# Worker Task: {worker.name}",
            "",
            f"- Session: `{session.session}`",
            f"- Repo root: `{session.repo_root}`",
            f"- Worktree: `{worker.worktree}`",
            f"- Branch: `{worker.branch}`",
            f"- Launcher status file: `{worker.status_file}`",
            f"- Launcher handoff file: `{worker.handoff_file}`",
            *seeded,
            "",
            "## Objective",
            worker.task,
            "",
            "## Completion",
            "Do not spawn subagents or external agents for this task.",
            "Report results in your final response.",
            f"The worker launcher captures your response in `{worker.handoff_file}` automatically.",
            f"The worker launcher updates `{worker.status_file}` automatically.",
        ]
    )


def handoff_md(worker: WorkerPlan) -> str:
    sections = ["Summary", "Files Changed", "Tests / Verification", "Follow-ups"]
    lines = [f"# Handoff: {worker.name}"]
    for title in sections:
        lines += ["", f"## {title}", "- Pending"]
    return "\n".join(lines)


def status_md(worker: WorkerPlan, state: str = "not started") -> str:
    return "\n".join(
        [
            f"# Status: {worker.name}",
            "",
            f"- State: {state}",
            f"- Worktree: `{worker.worktree}`",
            f"- Branch: `{worker.branch}`",
        ]
    )


def worktree_includes(repo: str) -> list[str]:
    """Git-ignored files ``.worktreeinclude`` names (gitignore-style patterns), relative to the repository."""
    try:
        with open(os.path.join(repo, ".worktreeinclude"), encoding="utf-8") as handle:
            patterns = [p.strip() for p in handle if p.strip() and not p.startswith("#")]
    except OSError:
        return []
    if not patterns:
        return []
    ignored = git(repo, "ls-files", "--others", "--ignored", "--exclude-standard", "-z").split("\0")
    return [path for path in ignored if path and any(_matches(path, p) for p in patterns)]


def _matches(path: str, pattern: str) -> bool:
    """A gitignore-style pattern: a folder pattern (``name/``) takes what is below it; a bare name matches a
    file of that name anywhere."""
    if pattern.endswith("/"):
        return fnmatch.fnmatch(path, pattern + "*")
    return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern)


def overlay(repo: str, worktree: str, paths: list[str]) -> None:
    """Copy ``paths`` (relative to the repository) into the worktree, replacing what is there."""
    for rel in paths:
        source, target = os.path.join(repo, rel), os.path.join(worktree, rel)
        if not os.path.lexists(source):
            raise UserError(f"seed path does not exist in the repository: {rel}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        elif os.path.lexists(target):
            os.unlink(target)
        if os.path.isdir(source) and not os.path.islink(source):
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)


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


def session_exists(name: str) -> bool:
    return _tmux("has-session", "-t", "=" + name).ok


def create(session: SessionPlan) -> Created:
    """Make the session: files, worktrees and branches under the repository's mutex, then the tmux panes.
    On any failure, undo what this run made and raise."""
    repo = session.repo_root
    if not os.path.isdir(repo):
        raise UserError(f"repoRoot is not a folder: {repo}")
    git(repo, "rev-parse", "--is-inside-work-tree")
    if shutil.which("tmux") is None:
        raise UserError("tmux is not installed (the tmux runtime needs it)")
    if session_exists(session.session):
        raise UserError(f"a session named {session.session!r} runs already (tmux -L {tmux_socket()})")
    made = Created()
    try:
        made.base = git(repo, "rev-parse", "--verify", session.base_ref + "^{commit}").strip()
        includes = worktree_includes(repo)
        with repo_mutex(repo):
            for worker in session.workers:
                if os.path.lexists(worker.worktree):
                    raise UserError(f"{worker.worktree} exists already: choose another session name or remove it")
                git(repo, "worktree", "add", "-b", worker.branch, worker.worktree, session.base_ref)
                made.worktrees.append((worker.worktree, worker.branch))
                overlay(repo, worker.worktree, worker.seed_paths + [p for p in includes if p not in worker.seed_paths])
        for worker in session.workers:
            if not os.path.isdir(worker.coordination_dir):
                os.makedirs(worker.coordination_dir, exist_ok=True)
                made.dirs.append(worker.coordination_dir)
            for path, text in (
                (worker.task_file, task_md(session, worker)),
                (worker.handoff_file, handoff_md(worker)),
                (worker.status_file, status_md(worker)),
            ):
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                made.files.append(path)
        tmux("new-session", "-d", "-s", session.session, "-n", "orchestrator", "-c", repo)
        made.tmux_session = session.session
        for worker in session.workers:
            pane = tmux(
                "split-window", "-d", "-P", "-F", "#{pane_id}", "-t", f"={session.session}:", "-c", worker.worktree
            ).strip()
            made.panes[worker.slug] = pane
            tmux("select-layout", "-t", f"={session.session}:", "tiled")
            tmux("select-pane", "-t", pane, "-T", worker.slug)
            tmux("send-keys", "-t", pane, f"cd {quote(worker.worktree)} && {worker.launch_command}", "C-m")
    except BaseException:
        undo(session, made)
        raise
    return made


def undo(session: SessionPlan, made: Created) -> None:
    """Remove what ``create`` made this run: never a worktree with changes or a branch that moved past the base
    (an agent may have started in an earlier pane before a later step failed); those are kept and named."""
    if made.tmux_session:
        tmux("kill-session", "-t", "=" + made.tmux_session, check=False)
    for path in made.files:
        try:
            os.unlink(path)
        except OSError:
            pass
    for directory in reversed(made.dirs):
        shutil.rmtree(directory, ignore_errors=True)
    if not made.worktrees:
        return
    repo = session.repo_root
    with repo_mutex(repo):
        for worktree, branch in reversed(made.worktrees):
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
