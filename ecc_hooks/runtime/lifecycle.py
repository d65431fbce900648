"""Lifecycle hooks and port windows of a worker.

**Hooks** (``worktree_created``, ``before_worktree_remove``, ``pre_merge``, ``post_merge``, ``worker_finished``)
are executables looked up, in this order, in the repository's ``.ecc/hooks/`` (committed), its
``.ecc/hooks.local/`` (the user's, git-ignored) and ``$ECC_HOOKS_HOME/hooks/`` (the user's for every
repository); a file named ``<hook>`` or ``<hook>.sh``. Every one found runs, in that order, in the worker's
worktree with ``ECC_SESSION``, ``ECC_WORKER``, ``ECC_WORKTREE_PATH``, ``ECC_BRANCH``, ``ECC_BASE_REF`` and
``ECC_PORT_BASE`` set, within a time limit, its output appended to the worker's ``hooks.log``. The blocking ones
(``worktree_created``, ``before_worktree_remove``, ``pre_merge``) stop the operation when one exits non-zero.

**Consent and snapshots.** A command reads the hooks once, at its start (``snapshot``: the content, read without
following a link), and only ever runs that content (a private 0700 copy, so what a merge or a worker writes into
``.ecc/hooks`` afterwards never runs; ``$0`` is that copy, ``ECC_HOOK_SOURCE`` the file it was read from). A repository's hooks (both of its folders: a clone can commit either) run only
when the user trusted that repository's hook of that name with that exact content (``sha256``), recorded in
``$ECC_HOOKS_HOME/trusted-hooks.json``: ``session create`` asks at a terminal and refuses without one unless
``--trust-hooks`` was given; a changed hook asks again. The user's own hooks (``$ECC_HOOKS_HOME/hooks``) need no
consent. A hook that is not trusted is never run and this is said (``hooks.log``, ``errors.log``, the command's
output); a blocking one stops the operation as a failing one does.

**Ports**: a worker with ``ports: N`` gets a window of N consecutive ports (from 3000, or
``$ECC_HOOKS_PORT_BASE``) that no other live worker holds and nothing listens on, chosen and recorded under one
lock; the agent sees it as ``ECC_PORT_BASE`` and ``PORT``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Optional

from ecc_hooks.core import errorlog, fsio, paths, proc
from ecc_hooks.core.errors import UserError
from ecc_hooks.core.redact import redact

HOOKS = ("worktree_created", "before_worktree_remove", "pre_merge", "post_merge", "worker_finished")
BLOCKING = frozenset({"worktree_created", "before_worktree_remove", "pre_merge"})
HOOK_TIMEOUT = 300.0
HOOK_CAP = 1 << 20  # bytes of a hook file read (a hook is a script)
PORT_BASE_ENV = "ECC_HOOKS_PORT_BASE"
DEFAULT_PORT_BASE = 3000
PORT_LIMIT = 65535


def hook_dirs(repo: str) -> list[str]:
    return [
        os.path.join(repo, ".ecc", "hooks"),
        os.path.join(repo, ".ecc", "hooks.local"),
        os.path.join(paths.home(), "hooks"),
    ]


@dataclass(frozen=True)
class Hook:
    """One hook file as read at a command's start: what runs is ``content``, never the file as it is later."""

    name: str
    path: str
    key: str  # its path in the repository (``.ecc/hooks/pre_merge``), or "" for the user's own
    content: bytes
    executable: bool

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class HookRun:
    path: str
    code: Optional[int]
    output: str

    @property
    def ok(self) -> bool:
        return self.code == 0


@dataclass
class HookSet:
    """The hooks of a repository as one command found them at its start, with what the user trusted."""

    repo: str
    hooks: list[Hook]
    record: dict[str, str]  # key -> the sha256 the user trusted for this repository
    notes: list[str] = field(default_factory=list)  # what was not run, and why (the command prints them)

    def trusted(self, hook: Hook) -> bool:
        return not hook.key or self.record.get(hook.key) == hook.digest

    def untrusted(self) -> list[Hook]:
        return [h for h in self.hooks if not self.trusted(h)]

    def describe(self) -> list[dict[str, object]]:
        """The hooks as the dry run lists them."""
        return [{"hook": h.name, "path": h.path, "sha256": h.digest, "trusted": self.trusted(h),
                 "origin": "repository" if h.key else "user"} for h in self.hooks]  # fmt: skip

    def trust(self) -> None:
        """Record every repository hook of this snapshot (its content) as trusted for this repository."""
        from filelock import FileLock

        where = paths.hook_trust_path()
        fsio.ensure_state_dir(os.path.dirname(where))
        with FileLock(where + ".lock", mode=0o600):
            everything = _trust_record()
            mine = everything.setdefault(_repo_key(self.repo), {})
            mine.update({h.key: h.digest for h in self.hooks if h.key})
            fsio.atomic_write(where, json.dumps(everything, indent=1, sort_keys=True).encode())
        self.record = dict(mine)

    def run(
        self, name: str, *, cwd: str, env: Mapping[str, str], log: Optional[str] = None, timeout: float = HOOK_TIMEOUT
    ) -> list[HookRun]:
        """Run hook ``name``'s trusted snapshots in order (a blocking hook stops at the first failure, or at one that
        is not trusted: UserError with why); what each did."""
        if name not in HOOKS:
            raise ValueError(f"unknown hook {name!r}")
        runs = []
        for hook in (h for h in self.hooks if h.name == name):
            if not self.trusted(hook):
                note = (f"the {name} hook {hook.path} is not trusted (new, or changed since it was trusted): not run; "
                        "review it, then pass --trust-hooks to trust what is there now")  # fmt: skip
                self.notes.append(note)
                errorlog.log_error("runtime.hook-untrusted", note)
                if log:
                    append_log(log, f"[{name}] {hook.path}: not trusted, not run", "")
                if name in BLOCKING:
                    raise UserError(note)
                continue
            done = _run_snapshot(hook, cwd if os.path.isdir(cwd) else self.repo, env, timeout)
            output = redact((done.out + done.err).decode("utf-8", "replace"), limit=None)
            runs.append(HookRun(hook.path, done.code, output))
            if log:
                append_log(log, f"[{name}] {hook.path}: {done.error or f'exit {done.code}'}", output)
            if name in BLOCKING and done.code != 0:
                why = done.error or f"exit {done.code}"
                raise UserError(f"the {name} hook {hook.path} failed ({why}):\n{output.strip()[-2000:]}")
        return runs


def _repo_key(repo: str) -> str:
    return os.path.realpath(repo)


def _trust_record() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(fsio.read_file(paths.hook_trust_path(), HOOK_CAP))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {r: {k: v for k, v in d.items() if isinstance(v, str)} for r, d in data.items() if isinstance(d, dict)}


def _read_hook(path: str, root: Optional[str]) -> tuple[bytes, bool]:
    """A hook file's content and whether it is executable, opened by ``fsio`` (no link followed below ``root``)."""
    fd = fsio.open_file(path, os.O_RDONLY, root=root)
    try:
        executable = bool(os.fstat(fd).st_mode & 0o111)
        chunks, left = [], HOOK_CAP
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 16))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), executable
    finally:
        os.close(fd)


def snapshot(repo: str) -> HookSet:
    """Every hook file of ``repo`` and of the user, read now, with the user's trust record for ``repo``."""
    hooks, notes = [], []
    user_dir = hook_dirs(repo)[2]
    for name in HOOKS:
        for folder in hook_dirs(repo):
            for candidate in (name, name + ".sh"):
                path = os.path.join(folder, candidate)
                root = None if folder == user_dir else repo
                try:
                    content, executable = _read_hook(path, root)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                except OSError as exc:  # a link, a FIFO, not ours: never run
                    notes.append(f"the {name} hook {path} is not used: {exc}")
                    break
                key = "" if root is None else os.path.relpath(path, repo)
                hooks.append(Hook(name, path, key, content, executable))
                break
    return HookSet(repo, hooks, _trust_record().get(_repo_key(repo), {}), notes)


def _run_snapshot(hook: Hook, cwd: str, env: Mapping[str, str], timeout: float) -> proc.Result:
    """Run ``hook``'s content from a private copy (the file itself may have changed since it was read)."""
    copy = os.path.join(paths.hook_copies_dir(), f"{hook.name}.{os.getpid()}.{os.urandom(8).hex()}")
    fsio.atomic_write(copy, hook.content, mode=0o700)
    try:
        first = hook.content.split(b"\n", 1)[0]
        if hook.executable and first.startswith(b"#!"):  # the kernel's reading of a #! line, without exec'ing our copy
            interpreter = first[2:].decode("utf-8", "replace").strip().split(None, 1)
            argv = [*interpreter, copy] if interpreter else ["/bin/sh", copy]
        else:
            argv = [copy] if hook.executable else ["/bin/sh", copy]
        return proc.run(argv, cwd=cwd, env={**os.environ, **env, "ECC_HOOK_SOURCE": hook.path}, timeout=timeout)
    finally:
        try:
            fsio.remove(copy, paths.home())
        except OSError:
            pass


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
