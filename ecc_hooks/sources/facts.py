"""The plain records the sources hand to the HUD: what git and gh said, with no way to ask them again.

They live apart from ``sources.git`` and ``sources.github`` (which run programs) so that the payload
builder, which does no I/O, can take them as typed values without importing a module that could.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any, Optional


@dataclass
class GitState:
    """What git says about one directory; ``None`` where unknown (no repo, timeout, bare repo)."""

    repo: Optional[str] = None  # "owner/name" from the origin remote
    branch: Optional[str] = None  # None when detached or unknown
    detached: Optional[bool] = None
    head: Optional[str] = None  # commit id, None before the first commit
    worktree: Optional[str] = None  # toplevel of the working tree (a linked worktree's own path)
    git_dir: Optional[str] = None
    common_dir: Optional[str] = None
    linked_worktree: Optional[bool] = None
    bare: Optional[bool] = None
    dirty: Optional[bool] = None
    staged: Optional[int] = None
    unstaged: Optional[int] = None
    untracked: Optional[int] = None
    conflicts: Optional[int] = None
    conflicted_paths: list[str] = field(default_factory=list)
    upstream: Optional[str] = None
    ahead: Optional[int] = None
    behind: Optional[int] = None
    is_repo: bool = False
    complete: bool = False  # every call answered in time
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (snake_case)."""
        return asdict(self)

    @property
    def repo_root(self) -> Optional[str]:
        """The main checkout (the common git dir's parent), so linked worktrees name their repository."""
        if self.common_dir and os.path.basename(self.common_dir) == ".git":
            return os.path.dirname(self.common_dir)
        return self.worktree


@dataclass
class RemoteCheckFact:
    """One CI check of the branch, as gh reported it (status already one of the HUD's words)."""

    name: str
    status: str = "unknown"  # pass | fail | pending | skipped | unknown
    url: Optional[str] = None


@dataclass
class GitHubFacts:
    """What gh said about the session's repository and branch; ``None`` where it could not say."""

    repo: Optional[str] = None  # "owner/name"
    ready: bool = False  # gh installed and authenticated
    checks: Optional[list[RemoteCheckFact]] = None  # None: unknown (gh not asked or no answer); []: none
    latest_pull_request: Optional[int] = None
    open_pull_requests: Optional[int] = None
    open_issues: Optional[int] = None
    open_discussions: Optional[int] = None
