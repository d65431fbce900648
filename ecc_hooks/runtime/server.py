"""The supervisor's helper (the *zygote*): it runs the runtime's requests (``runtime.engine``) without paying for
the interpreter's imports, in the caller's context or not at all.

A command such as ``ecc-hooks session create plan.json --execute`` would spend most of its time importing (pydantic,
the runtime) before its first git call. So the supervisor forks, before it opens its database, a process with the
engine imported that listens on ``$ECC_HOOKS_HOME/supervisor.sock`` (0600 in the 0700 folder; each side checks
the other's uid with ``SO_PEERCRED``) and forks, for each request (``runtime.protocol``), a child that takes the
caller's environment, folder and umask, runs ``engine.handle(request)``, and sends back the reply. The zygote never
opens the database (SQLite must not cross a fork with a connection open), holds no lock of the supervisor's, and
exits when the supervisor is gone. It imports nothing of the CLI: the runtime answers in records, and each client
formats them.

A request runs in the caller's context or not at all (``runtime.peer``): the child takes the caller's umask, and
the zygote declines ("declined": the client runs the request itself, see ``runtime.client``) a caller in another
namespace, root or credentials, a request of another protocol version, and any request beyond ``MAX_CHILDREN``
running at once, and a request it cannot read (not JSON, a verb newer than this helper, a wrong field): none of
these runs here. No request waits behind another: the receiving thread forks the child and returns, and the
zygote's main loop reaps the children. Another user's request is closed unread.
"""

from __future__ import annotations

import os
import socket
import threading
import traceback
from typing import Any, Optional

from ecc_hooks.runtime import peer, protocol

SOCKET = peer.SOCKET
REQUEST_CAP = protocol.CAP
PRELOAD = ("ecc_hooks.runtime.engine", "ecc_hooks.runtime.plan")  # what the mutating verbs run
MAX_CHILDREN = 8  # requests run at once by the zygote; beyond that the client runs its own
_children: set[int] = set()  # the zygote's children still running a request
_children_lock = threading.Lock()


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
            request, context = protocol.decode_request(b"".join(chunks))
        except protocol.VersionMismatch:
            conn.sendall(protocol.encode_declined("version"))  # another version's client: it runs its own
            return
        except protocol.ProtocolError:  # e.g. a verb newer than this helper: nothing runs, the client runs it
            conn.sendall(protocol.encode_declined("unreadable"))
            return
        conn.settimeout(None)
        run = peer.same_context(relay.peer_pid(conn))
        with _children_lock:
            run = run and len(_children) < MAX_CHILDREN
            if run:
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child ends with os._exit
                    code = 3
                    try:
                        code = _child(conn, request, context)
                    finally:
                        os._exit(code)
                _children.add(pid)
        if not run:
            conn.sendall(protocol.encode_declined("context"))  # nothing ran: the client runs it itself


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


def _child(conn: socket.socket, request: Any, context: protocol.Context) -> int:
    keep = conn.fileno()
    os.closerange(3, keep)  # the zygote's socket and pipes are not the child's
    os.closerange(keep + 1, 1 << 16)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.umask(context.umask)
    os.environ.clear()
    os.environ.update(context.env)
    from ecc_hooks.runtime import engine, records

    try:
        os.chdir(context.cwd)
        reply = engine.handle(request)
    except Exception as exc:  # the engine answers what it expects; anything else is logged, and said
        where = _log_crash(exc)
        reply = records.Reply(request.verb, refused=records.Refusal("internal", f"internal error; details in {where}"))
    try:
        data = protocol.encode_reply(reply)
    except protocol.ProtocolError as exc:  # a reply over the cap
        data = protocol.encode_reply(records.Reply(request.verb, refused=records.Refusal("error", str(exc))))
    conn.sendall(data)
    conn.close()
    return 0 if reply.ok else 1


def _log_crash(exc: BaseException) -> str:
    """The traceback, redacted, into ``cli-errors.log`` (where the CLI logs its own); where it went."""
    from ecc_hooks.core import errorlog, fsio, paths
    from ecc_hooks.core.redact import redact

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    path = paths.cli_errors_log_path()
    try:
        fsio.append_bounded(path, redact(text, limit=None).encode("utf-8", "replace"), 1 << 20)
    except OSError:
        errorlog.log_error("runtime.server", text[-2000:])
        return "errors.log"
    return path


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
