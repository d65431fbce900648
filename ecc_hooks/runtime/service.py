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
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
from typing import Any, Optional

SOCKET = b"supervisor.sock"
REQUEST_CAP = 4 << 20
NO_DELEGATE_ENV = "ECC_HOOKS_NO_DELEGATE"  # "1": the CLI runs every control itself
PRELOAD = ("ecc_hooks.cli", "ecc_hooks.cli.session", "ecc_hooks.runtime.plan", "ecc_hooks.runtime.control")
_served = False  # True in a child serving a request: it runs the control, never hands it on


# ---------------------------------------------------------------------------- the supervisor's side


def handle(conn: socket.socket) -> None:
    """One request: a forked child runs it; this thread waits for the child (no zombie)."""
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
            argv, cwd, env = request["argv"], request["cwd"], request["env"]
            if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv) and isinstance(cwd, str)):
                raise ValueError("argv and cwd")
            if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
                raise ValueError("env")
        except (ValueError, KeyError, TypeError):
            return
        conn.settimeout(None)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child ends with os._exit
            code = 3
            try:
                code = _child(conn, argv, cwd, env)
            finally:
                os._exit(code)
    os.waitpid(pid, 0)


def _child(conn: socket.socket, argv: list[str], cwd: str, env: dict[str, str]) -> int:
    keep = conn.fileno()
    os.closerange(3, keep)  # the zygote's socket and pipes are not the child's
    os.closerange(keep + 1, 1 << 16)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
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
            time.sleep(0.5)
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
            request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
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
