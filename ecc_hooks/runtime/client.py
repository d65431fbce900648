"""The only way into the runtime for its clients (the CLI, the coming full-screen HUD, scripts): requests in,
replies out (``runtime.records``), whoever runs them.

**What changes state goes to the supervisor.** A mutating request (create, stop, resume, retry, rm, cleanup,
apply, resolve, pr, send, approve, deny) is sent over ``$ECC_HOOKS_HOME/supervisor.sock`` (``runtime.protocol``) to
the supervisor's helper (``runtime.server``), whose forked child runs ``engine.handle`` with the caller's
environment, folder and umask: the helper has the engine imported already, which is what makes a create fast.

**When no supervisor answers, the client starts one and runs this request itself.** Waiting for the new
supervisor's helper would cost the first command of the day its whole start (its imports, then the helper's): a
one-worker create measured 2.7 s that way against 0.9 s run here, on the same machine, interleaved (median of 5).
So the client runs the engine in this process, and what it starts wakes a supervisor (``daemon.wake``: a create,
a resume, a retry, a cleanup), which follows the workers from the store and whose helper serves the next command.

**Where the helper declines, the engine runs here.** The helper runs a request only in the caller's own context
(namespaces, root, credentials: ``runtime.peer``), only ``MAX_CHILDREN`` at once, and only in its own protocol
version; the client checks the context too before it sends. A declined request (and every request when
``ECC_HOOKS_NO_DELEGATE=1``, or when no helper answers) runs in this process through the same ``engine.handle``
under the same session locks: the engine stays the only code that changes a worker's state, wherever it runs, and
the supervisor follows on from the store (woken through ``daemon.wake``). Running it here is what the person
asked, as themselves, where they are; refusing would leave a person in a container or a sandbox with no runtime.

**Once sent, never twice.** After the request is sent, a lost answer is an error naming ``session list``, never
a second run: a create must not be attempted again behind the person's back.

**Reading needs no daemon.** status, list, diff, the queues, attach and preview read the store (read-only) and the
coordination files in this process. status and list first make sure a supervisor runs: when none did, the one
started here is waited for through its first pass (its record: ``daemon.record``), so what they show is
reconciled.
A read-only store is read as it is.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any, Optional

from ecc_hooks.core.errors import UserError
from ecc_hooks.runtime import protocol
from ecc_hooks.runtime import records as rec

NO_DELEGATE_ENV = "ECC_HOOKS_NO_DELEGATE"  # "1": the client runs every request itself
CONNECT_TIMEOUT = 2.0
START_WAIT = 30.0  # seconds a supervisor started here (status, list) gets to show its first pass
FRESH = ("status", "list")  # reading verbs that wait for a supervisor's pass when none ran


def call(request: Any) -> rec.Reply:
    """Run one request where it belongs (see the module docstring); its reply."""
    if request.verb in rec.MUTATIONS:
        reply = _delegate(request)
        return reply if reply is not None else _here(request)
    if request.verb in FRESH:
        _fresh()
    return _here(request)


def expect(reply: rec.Reply) -> Any:
    """The reply's data, or ``records.Refused`` (a UserError) with its kind and decoded follow-up request."""
    if reply.refused is None:
        return reply.data
    follow = reply.refused.follow_up
    try:
        request = protocol.request_from_json(follow) if follow is not None else None
    except protocol.ProtocolError:
        request = None
    raise rec.Refused(reply.refused.kind, reply.refused.message, request)


def run(request: Any) -> Any:
    """``expect(call(request))``: the data, or the refusal raised."""
    return expect(call(request))


def _here(request: Any) -> rec.Reply:
    from ecc_hooks.runtime import engine

    return engine.handle(request)


# ---------------------------------------------------------------------------- the supervisor's helper


class _NotServed(Exception):
    """Nothing was sent, or the helper ran nothing: the request may run elsewhere."""


def _delegate(request: Any) -> Optional[rec.Reply]:
    """The helper's reply, or None when none answers or it declined (nothing ran: the caller runs it here, and is
    not kept waiting for a supervisor to start)."""
    from ecc_hooks.runtime import daemon

    if os.environ.get(NO_DELEGATE_ENV) == "1":
        return None
    running = daemon.running()
    if running and _activity(running) is None:
        return None  # starting, or a supervisor of before this protocol (ecc-hooks upgraded under it): nothing sent
    try:
        return _send(request)
    except _NotServed:
        pass
    return None  # the engine runs here; what it starts wakes a supervisor (``daemon.wake``), whose helper serves next


def _connect() -> socket.socket:
    from ecc_hooks.core import paths, relay
    from ecc_hooks.runtime import peer

    base = os.fsencode(paths.home())  # as this process's environment says now (a long-lived client's may change)
    try:
        sock: socket.socket = relay.connect(base, CONNECT_TIMEOUT, peer.SOCKET)
    except OSError:
        raise _NotServed from None
    try:
        foreign = relay.peer_uid(sock) != os.getuid()
    except OSError:
        foreign = True
    if foreign:
        sock.close()
        raise _NotServed  # another user's socket: it gets nothing, and it is no helper of ours
    return sock


def _send(request: Any) -> rec.Reply:
    """Send ``request`` to the helper and wait for its reply (``_NotServed``: nothing ran)."""
    from ecc_hooks.core import relay
    from ecc_hooks.runtime import peer

    sock = _connect()
    try:
        try:
            if not peer.same_context(relay.peer_pid(sock)):
                raise _NotServed  # another namespace, root or credentials: it runs here, as the caller
            context = protocol.Context(os.getcwd(), dict(os.environ), peer.current_umask())
            sock.sendall(protocol.encode_request(request, context))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            raise _NotServed from None  # nothing was received: run it here
        sock.settimeout(None)  # a create may run its setup commands for minutes
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            reply = protocol.decode_reply(b"".join(chunks))
        except (OSError, protocol.ProtocolError):
            raise UserError(
                "the supervisor took the request but gave no answer; see what it did: ecc-hooks session list"
            ) from None
    finally:
        sock.close()
    if reply is None:
        raise _NotServed  # the helper ran nothing
    return reply


# ---------------------------------------------------------------------------- reading


def _activity(pid: int) -> Optional[dict[str, Any]]:
    """Supervisor ``pid``'s record (``daemon.record``) when it is that supervisor's and its helper speaks this
    protocol; None otherwise (not written yet, another supervisor's, or one of before this protocol)."""
    from ecc_hooks.runtime import daemon

    found = daemon.record()
    if found.get("pid") != pid or found.get("protocol") != protocol.VERSION:
        return None
    return found


def _ready(pid: int) -> bool:
    """Whether supervisor ``pid`` has made its first pass."""
    found = _activity(pid)
    return bool(found and found.get("ready") is True)


def _read_only() -> bool:
    """Whether the store exists and cannot be written, or not be used at all (it is read as it is, the engine here
    says what is wrong, and no supervisor is started for it)."""
    from ecc_hooks.runtime import store as st

    if not os.path.exists(st.db_path()):
        return False
    try:
        opened = st.Store(reading=True)
    except UserError:
        return True
    try:
        return opened.read_only
    finally:
        opened.close()


def _fresh() -> None:
    """Make sure a supervisor runs before reading (a read-only store is read as it is); one started here is
    waited for through its first pass, so what is read is reconciled."""
    from ecc_hooks.runtime import daemon

    if daemon.running() or _read_only():
        return
    daemon.spawn()
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        pid = daemon.running()
        if pid and _ready(pid):
            return
        time.sleep(0.05)


def follow_logs(name: str, worker: Optional[str], out: Callable[[str], None]) -> None:
    """Print one worker's output so far, then what it prints as it does, until it finishes (read here, from its
    log or its pane: a stream, not a request). KeyboardInterrupt ends it earlier."""
    from ecc_hooks.runtime import logs
    from ecc_hooks.runtime import store as st

    opened = st.Store(reading=True)
    session, workers = opened.targets(name, worker)
    if len(workers) != 1:
        raise UserError(f"-f follows one worker: name it with --worker ({', '.join(w.slug for w in workers)})")
    logs.follow(opened, session.name, workers[0].slug, out)


# ---------------------------------------------------------------------------- the supervisor itself


def supervise() -> int:
    """Run the supervisor in this process (``session supervise``)."""
    from ecc_hooks.runtime import supervisor

    return supervisor.run_foreground()


def supervisor_status() -> dict[str, Any]:
    """``supervise --status``: whether one runs, its pid, since when, the sessions it watches, a restart pending."""
    from ecc_hooks.runtime import daemon

    return daemon.status()


def stop_supervisor() -> Optional[int]:
    """``supervise --stop``: SIGTERM the supervisor and wait until it is gone; its pid, or None when none ran."""
    from ecc_hooks.runtime import daemon

    return daemon.stop()


def supervisor_pid() -> Optional[int]:
    """The running supervisor's pid, or None."""
    from ecc_hooks.runtime import daemon

    return daemon.running()


def supervisor_lock_path() -> str:
    from ecc_hooks.runtime import daemon

    return daemon.lock_path()


def live_sessions() -> list[str]:
    """The sessions with workers that still run or start (read-only; none when there is no store)."""
    from ecc_hooks.runtime import store as st

    if not os.path.exists(st.db_path()):
        return []
    try:
        opened = st.Store(reading=True)
    except UserError:
        return []  # a database that is not ours or unusable: nothing of it can run
    try:
        return sorted({w.session for w in opened.workers() if w.state in ("starting", *st.LIVE)})
    finally:
        opened.close()
