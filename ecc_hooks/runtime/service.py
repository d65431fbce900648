"""The supervisor runs session controls for the CLI: ``session create`` without paying for the interpreter's imports.

A command such as ``ecc-hooks session create plan.json --execute`` spends most of its time importing (pydantic, the
runtime) before its first git call. So the supervisor forks, before it opens its database, a *zygote*: a process
with the CLI and the runtime imported that listens on ``$ECC_HOOKS_HOME/supervisor.sock`` (0600 in the 0700
folder; each side checks the other's uid with ``SO_PEERCRED``) and forks, for each request, a child that takes the
caller's environment and folder, runs the control exactly as the CLI would (``cli.main``), and sends back its exit
status and output. The zygote never opens the database (SQLite must not cross a fork with a connection open), holds
no lock of the supervisor's, and exits when the supervisor is gone.

The CLI (``cli.session``) hands a control over only when a supervisor answers; no socket, another user's socket, or
a refused connection: it runs the control itself. Once the request is sent it never runs it again (a lost answer
is an error naming ``session list``, never a second create).

A delegated control runs in the caller's context or not at all: the child takes the caller's umask, and a control
is handed over only when the caller and the zygote share every namespace (net, mnt, user, pid, uts, ipc, cgroup),
the same root folder and the same credentials (uids, gids, groups, capabilities, no_new_privs, seccomp); what
cannot be verified counts as different. The CLI checks it before it sends (the peer's pid from ``SO_PEERCRED``),
and the zygote again when a request arrives, answering "not delegated" so that the CLI runs it itself. No request
waits behind another: the receiving thread forks the child and returns, the zygote's main loop reaps the children,
and beyond ``MAX_CHILDREN`` at once the zygote declines (the CLI runs the control itself).
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import threading
from typing import Any, Optional

SOCKET = b"supervisor.sock"
REQUEST_CAP = 4 << 20
NO_DELEGATE_ENV = "ECC_HOOKS_NO_DELEGATE"  # "1": the CLI runs every control itself
PRELOAD = ("ecc_hooks.cli", "ecc_hooks.cli.session", "ecc_hooks.runtime.plan", "ecc_hooks.runtime.control")
MAX_CHILDREN = 8  # controls run at once by the zygote; beyond that the CLI runs its own
NAMESPACES = ("net", "mnt", "user", "pid", "uts", "ipc", "cgroup")
CREDENTIALS = (b"Uid:", b"Gid:", b"Groups:", b"CapEff:", b"CapBnd:", b"NoNewPrivs:", b"Seccomp:")
DECLINED = {"delegated": False}  # the zygote's answer to a request it will not run: the CLI runs it
_served = False  # True in a child serving a request: it runs the control, never hands it on
_children: set[int] = set()  # the zygote's children still running a control
_children_lock = threading.Lock()


# ---------------------------------------------------------------------------- the caller's context


def context(pid: str) -> Optional[tuple[object, ...]]:
    """What a control's outcome depends on besides its request: process ``pid``'s namespaces, root folder and
    credentials (None when any of it cannot be read)."""
    if pid != "self" and (not pid.isdigit() or int(pid) <= 0):
        return None  # not visible from here (another pid namespace)
    try:
        links = tuple(os.readlink(f"/proc/{pid}/ns/{name}") for name in NAMESPACES)
        root = os.stat(f"/proc/{pid}/root")
        with open(f"/proc/{pid}/status", "rb") as handle:
            status = handle.read(1 << 16).splitlines()
    except (OSError, ValueError):
        return None
    creds = tuple(line for line in status if line.startswith(CREDENTIALS))
    if len(creds) != len(CREDENTIALS):
        return None
    return links, (root.st_dev, root.st_ino), creds


def same_context(peer: int) -> bool:
    """Whether process ``peer`` (a socket's other end) runs in this process's context: a control run by one
    does what the other would."""
    mine = context("self")
    return mine is not None and mine == context(str(peer))


def current_umask() -> int:
    """This process's umask (from ``/proc``, else set and restored: the CLI runs no thread here)."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle.read(1 << 16).splitlines():
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------- the supervisor's side


def handle(conn: socket.socket) -> None:
    """One request: a forked child runs it, in the caller's context (or the caller is told to run it itself);
    this thread never waits for the child (the zygote's main loop reaps it)."""
    from ecc_hooks.core import relay

    with conn:
        if relay.peer_uid(conn) != os.getuid():
            return  # another user's request: closed unread
        conn.settimeout(10)
        chunks, size = [], 0
        while size <= REQUEST_CAP:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        try:
            request = json.loads(b"".join(chunks))
            argv, cwd, env, umask = request["argv"], request["cwd"], request["env"], request.get("umask", 0o022)
            if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv) and isinstance(cwd, str)):
                raise ValueError("argv and cwd")
            if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
                raise ValueError("env")
            if not (isinstance(umask, int) and 0 <= umask <= 0o777):
                raise ValueError("umask")
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        conn.settimeout(None)
        run = same_context(relay.peer_pid(conn))
        with _children_lock:
            run = run and len(_children) < MAX_CHILDREN
            if run:
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child ends with os._exit
                    code = 3
                    try:
                        code = _child(conn, argv, cwd, env, umask)
                    finally:
                        os._exit(code)
                _children.add(pid)
        if not run:
            conn.sendall(json.dumps(DECLINED).encode())  # nothing ran: the CLI runs it itself


def reap() -> None:
    """Collect the zygote's children that ended (no zombie); their slots are free again."""
    with _children_lock:
        for pid in list(_children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                _children.discard(pid)


def _child(conn: socket.socket, argv: list[str], cwd: str, env: dict[str, str], umask: int) -> int:
    keep = conn.fileno()
    os.closerange(3, keep)  # the zygote's socket and pipes are not the child's
    os.closerange(keep + 1, 1 << 16)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.umask(umask)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    global _served
    _served = True
    out, err = io.StringIO(), io.StringIO()
    sys.stdout, sys.stderr = out, err
    from ecc_hooks.cli import main

    try:
        code = main(["session", *argv])
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    reply = json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}).encode()
    conn.sendall(reply)
    conn.close()
    return code


def start_zygote(close_fds: tuple[int, ...] = ()) -> Optional[int]:
    """Fork the zygote (the caller has opened no database yet); its pid once it listens, or None."""
    ready_r, ready_w = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the zygote ends with os._exit
        os.close(ready_r)
        for fd in close_fds:  # the supervisor's lock is the supervisor's alone
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            _zygote(parent, ready_w)
        finally:
            os._exit(0)
    os.close(ready_w)
    try:
        import select

        readable, _, _ = select.select([ready_r], [], [], 30)
        ok = bool(readable) and os.read(ready_r, 1) == b"1"
    finally:
        os.close(ready_r)
    return pid if ok else None


def _zygote(parent: int, ready: int) -> None:
    import signal
    import time

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import importlib

    for module in PRELOAD:  # what a request runs, loaded once here
        importlib.import_module(module)
    from ecc_hooks.core import paths
    from ecc_hooks.hud.receiver import LocalReceiver

    receiver = LocalReceiver(paths.home(), name=SOCKET, handler=handle, workers=4).start()
    os.write(ready, b"1")
    os.close(ready)
    try:
        while os.getppid() == parent:  # the supervisor is gone (even by kill -9): so is its zygote
            reap()
            time.sleep(0.2)
    finally:
        receiver.stop()


# ---------------------------------------------------------------------------- the CLI's side


def delegate(argv: list[str]) -> Optional[int]:
    """Run ``ecc-hooks session ARGV`` in the supervisor: its exit status (its output written here), or None when
    no supervisor of this user answers (the caller runs the control itself)."""
    from ecc_hooks.core import relay
    from ecc_hooks.core.errors import UserError

    if _served or os.environ.get(NO_DELEGATE_ENV) == "1":
        return None
    base = relay.home()
    if base is None:
        return None
    try:
        sock: Any = relay.connect(base, 2.0, SOCKET)
    except OSError:
        return None
    try:
        try:
            if relay.peer_uid(sock) != os.getuid():
                return None  # another user's socket: it gets nothing
            if not same_context(relay.peer_pid(sock)):
                return None  # another namespace, root or credentials: the control runs here, as the caller
            request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": current_umask()}
            sock.sendall(json.dumps(request).encode())
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return None  # nothing was received: run it here
        sock.settimeout(None)  # a create may run its setup commands for minutes
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            reply = json.loads(b"".join(chunks))
            if reply == DECLINED:
                return None  # the zygote ran nothing: run it here
            code, stdout, stderr = int(reply["code"]), str(reply["stdout"]), str(reply["stderr"])
        except (OSError, ValueError, KeyError, TypeError):
            raise UserError(
                "the supervisor took the request but gave no answer; see what it did: ecc-hooks session list"
            ) from None
    finally:
        sock.close()
    sys.stdout.write(stdout)
    sys.stdout.flush()
    sys.stderr.write(stderr)
    return code
