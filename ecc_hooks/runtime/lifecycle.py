"""Lifecycle hooks and port windows of a worker.

**Hooks** (``worktree_created``, ``before_worktree_remove``, ``pre_merge``, ``post_merge``, ``worker_finished``)
are executables looked up, in this order, in the repository's ``.ecc/hooks/`` (committed), its
``.ecc/hooks.local/`` (the user's, git-ignored) and ``$ECC_HOOKS_HOME/hooks/`` (the user's for every
repository); a file named ``<hook>`` or ``<hook>.sh``. Every one found runs, in that order, in the worker's
worktree with ``ECC_SESSION``, ``ECC_WORKER``, ``ECC_WORKTREE_PATH``, ``ECC_BRANCH``, ``ECC_BASE_REF`` and
``ECC_PORT_BASE`` set, within a time limit, its output appended to the worker's ``hooks.log``. The blocking ones
(``worktree_created``, ``before_worktree_remove``, ``pre_merge``) stop the operation when one exits non-zero.
A repository's hooks are trusted as its ``.claude/settings.json`` is: see SECURITY.md.

**Ports**: a worker with ``ports: N`` gets a window of N consecutive ports (from 3000, or
``$ECC_HOOKS_PORT_BASE``) that no other live worker holds and nothing listens on, chosen and recorded under one
lock; the agent sees it as ``ECC_PORT_BASE`` and ``PORT``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Optional

from ecc_hooks.core import fsio, paths, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact

HOOKS = ("worktree_created", "before_worktree_remove", "pre_merge", "post_merge", "worker_finished")
BLOCKING = frozenset({"worktree_created", "before_worktree_remove", "pre_merge"})
HOOK_TIMEOUT = 300.0
PORT_BASE_ENV = "ECC_HOOKS_PORT_BASE"
DEFAULT_PORT_BASE = 3000
PORT_LIMIT = 65535


def hook_dirs(repo: str) -> list[str]:
    return [
        os.path.join(repo, ".ecc", "hooks"),
        os.path.join(repo, ".ecc", "hooks.local"),
        os.path.join(paths.home(), "hooks"),
    ]


def find_hooks(name: str, repo: str) -> list[str]:
    """Every file for hook ``name``, in lookup order."""
    if name not in HOOKS:
        raise ValueError(f"unknown hook {name!r}")
    found = []
    for folder in hook_dirs(repo):
        for candidate in (name, name + ".sh"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                found.append(path)
                break
    return found


@dataclass
class HookRun:
    path: str
    code: Optional[int]
    output: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def run_hook(
    name: str,
    repo: str,
    *,
    cwd: str,
    env: Mapping[str, str],
    log: Optional[str] = None,
    timeout: float = HOOK_TIMEOUT,
) -> list[HookRun]:
    """Run hook ``name``'s files in order (a blocking hook stops at the first failure: UserError with its
    output); what each did."""
    runs = []
    for path in find_hooks(name, repo):
        argv = [path] if os.access(path, os.X_OK) else ["/bin/sh", path]
        done = proc.run(argv, cwd=cwd if os.path.isdir(cwd) else repo, env={**os.environ, **env}, timeout=timeout)
        output = redact((done.out + done.err).decode("utf-8", "replace"), limit=None)
        code = done.code
        runs.append(HookRun(path, code, output))
        if log:
            append_log(log, f"[{name}] {path}: {done.error or f'exit {code}'}", output)
        if name in BLOCKING and code != 0:
            why = done.error or f"exit {code}"
            raise UserError(f"the {name} hook {path} failed ({why}):\n{output.strip()[-2000:]}")
    return runs


def append_log(log: str, header: str, output: str) -> None:
    """One record of a worker's ``hooks.log`` (a hook's or a setup command's header and output), redacted whole:
    the one writer of that file."""
    text = redact(f"{header}\n{output}".rstrip(), limit=None)
    fsio.append_line(log, text.encode("utf-8", "replace") + b"\n")


def worker_env(
    *,
    session: str,
    worker: str,
    worktree: str,
    branch: str,
    base_ref: str,
    port_base: Optional[int] = None,
) -> dict[str, str]:
    env = {
        "ECC_SESSION": session,
        "ECC_WORKER": worker,
        "ECC_WORKTREE_PATH": worktree,
        "ECC_BRANCH": branch,
        "ECC_BASE_REF": base_ref,
    }
    if port_base is not None:
        env["ECC_PORT_BASE"] = env["PORT"] = str(port_base)
    return env


def port_free(port: int) -> bool:
    """Nothing listens on ``port`` (IPv4 loopback and any address)."""
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return False
    return True


def choose_window(count: int, taken: Iterable[tuple[int, int]], start: Optional[int] = None) -> int:
    """The lowest base of ``count`` free consecutive ports at or above ``start`` outside the ``taken``
    windows ((base, count) pairs)."""
    if count <= 0:
        raise ValueError("a port window needs at least one port")
    base = start if start is not None else int(os.environ.get(PORT_BASE_ENV) or DEFAULT_PORT_BASE)
    held = sorted((b, b + n) for b, n in taken if n > 0)
    while base + count - 1 <= PORT_LIMIT:
        clash = next(((lo, hi) for lo, hi in held if lo < base + count and base < hi), None)
        if clash is not None:
            base = clash[1]
            continue
        busy = next((p for p in range(base, base + count) if not port_free(p)), None)
        if busy is None:
            return base
        base = busy + 1
    raise UserError(f"no window of {count} free ports is left")


def ports_lock_path() -> str:
    return os.path.join(paths.home(), "runtime", "ports.lock")
