"""The commit HEAD points at, read from the repository's files: no git process, standard library only.

The hook records it on SessionStart so a handoff can list exactly the commits made during the
session (``start..HEAD``) instead of guessing by commit time, which git keeps to the second.
Hot path (SessionStart only): ``os`` alone. Running git stays ``gitstate.py``'s job.
"""

from __future__ import annotations

import os

from ecc_hooks.core.fsio import read_file

MAX_DEPTH = 64  # folders walked up from cwd looking for .git
_HEX = frozenset("0123456789abcdef")


def _read(path: str, limit: int = 4096) -> str | None:
    """A repository file's first ``limit`` bytes; None when missing or not a regular file (a FIFO planted
    as ``HEAD`` must never hang the SessionStart hook)."""
    try:
        return read_file(path, limit).decode("utf-8", "replace")
    except OSError:
        return None


def _is_oid(text: str) -> bool:
    return len(text) in (40, 64) and all(c in _HEX for c in text)


def git_dirs(cwd: str) -> tuple[str, str] | None:
    """(git dir, common dir) of the repository holding ``cwd``; linked worktrees and submodules included."""
    path = os.path.abspath(cwd)
    for _ in range(MAX_DEPTH):
        dot_git = os.path.join(path, ".git")
        if os.path.isdir(dot_git):
            git_dir = dot_git
            break
        if os.path.isfile(dot_git):  # a linked worktree or submodule: "gitdir: <path>"
            text = _read(dot_git) or ""
            if not text.startswith("gitdir:"):
                return None
            git_dir = os.path.normpath(os.path.join(path, text[len("gitdir:") :].strip()))
            break
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
    else:
        return None
    common = (_read(os.path.join(git_dir, "commondir")) or "").strip()
    return git_dir, os.path.normpath(os.path.join(git_dir, common)) if common else git_dir


def _resolve_ref(ref: str, git_dir: str, common_dir: str) -> str | None:
    for base in (git_dir, common_dir):  # per-worktree refs first, then the shared ones
        text = _read(os.path.join(base, ref))
        if text is not None:
            value = text.strip()
            return value if _is_oid(value) else None
    packed = _read(os.path.join(common_dir, "packed-refs"), 1 << 24) or ""
    for line in packed.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1].strip() == ref and _is_oid(parts[0]):
            return parts[0]
    return None


def head_commit(cwd: str | None) -> str | None:
    """The commit id HEAD points at in the repository holding ``cwd``; None outside a repo or before the first commit."""
    if not cwd:
        return None
    dirs = git_dirs(cwd)
    if dirs is None:
        return None
    git_dir, common_dir = dirs
    head = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
    for _ in range(5):  # a symbolic ref may point at another symbolic ref
        if _is_oid(head):
            return head
        if not head.startswith("ref:"):
            return None
        ref = head[4:].strip()
        if ".." in ref or ref.startswith("/"):
            return None
        resolved = _resolve_ref(ref, git_dir, common_dir)
        if resolved is None:
            text = _read(os.path.join(git_dir, ref)) or _read(os.path.join(common_dir, ref)) or ""
            head = text.strip()
            if not head.startswith("ref:"):
                return None
            continue
        return resolved
    return None
