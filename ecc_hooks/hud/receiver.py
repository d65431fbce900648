"""What the watcher serves: Claude Code's HTTP hooks on loopback, and its own commands on a local socket.

- ``HttpReceiver``: ``POST /ecc-hooks/v1/event`` on 127.0.0.1 (``core.endpoint`` says why and how). A request
  is recorded exactly as the hook command records its stdin (``capture.hook.handle``: bounded, normalized,
  redacted, one journal line) before the answer goes back, so when Claude Code moves on, the event is on
  disk. A connection from a socket another user owns is closed at accept time, before it costs a thread; the
  user's own are served by a fixed pool of threads, each request under one deadline (not one per read), so
  nobody else can starve the endpoint. Refused, with nothing written: another path or method, a missing or
  wrong bearer token, a ``Host`` other than the endpoint's (DNS rebinding), a body over the hook's stdin cap.
  A post that fails anyway is not lost: the watcher recovers the call from the transcript (``hud.backfill``,
  through ``SessionWatch.reconcile``).
- ``LocalReceiver``: ``$ECC_HOOKS_HOME/watcher.sock`` (``core.relay`` says why and how): the hook command's
  events, recorded the same way before the answer, and the status line command's rows, rendered here.
  Refused: a peer of another user, a request over the cap or malformed.
"""

from __future__ import annotations

import hmac
import io
import os
import queue
import socket
import socketserver
import stat
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, Optional, Union

from ecc_hooks.capture import client, hook
from ecc_hooks.core import endpoint as ep
from ecc_hooks.core import paths, relay
from ecc_hooks.core.errorlog import log_error

READ_TIMEOUT = 10.0  # seconds a connection may take to send its request (the whole request, not each read)
WORKERS = 8  # HTTP connections served at once (each a thread started once, never one per connection)
WAITING = 64  # the user's accepted connections that may wait for a worker; beyond that a new one is closed
IDLE_SLICE = 0.2  # seconds a kept-alive connection waits between checks that nobody else waits for its worker


class _DeadlineReader(io.RawIOBase):
    """The connection's reads, bounded by one deadline for the whole request (a peer sending a byte every few
    seconds gets no more time than one sending nothing), which the handler sets again at each request. While a
    kept-alive connection has not yet sent a byte of its next request and another connection waits for a
    worker, it reads as closed: the waiting one is served instead of an idle one holding the thread."""

    def __init__(self, sock: socket.socket, server: _Server) -> None:
        self.sock = sock
        self.server = server
        self.deadline = time.monotonic() + READ_TIMEOUT
        self.idle = False  # between requests: no byte of the next one read yet

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("request deadline passed")
            if self.idle and not self.server.waiting.empty():
                return 0  # EOF: the handler closes this connection and the worker takes the waiting one
            self.sock.settimeout(min(remaining, IDLE_SLICE) if self.idle else remaining)
            try:
                got = self.sock.recv_into(buffer)
            except TimeoutError:
                if self.idle:
                    continue
                raise
            self.idle = False
            return got


class _Server(socketserver.TCPServer):
    """127.0.0.1:port, served by ``WORKERS`` threads. A connection is checked at accept time, before it costs a
    thread: one from another user's socket (``core.sockdiag``) is closed at once; the user's own wait in a
    bounded queue. Another user can fill the listen backlog but never a worker, so the user's posts are
    answered whatever else connects."""

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, config: ep.Endpoint, workers: int = WORKERS) -> None:
        self.config = config
        self.expected_auth = f"Bearer {config.token}".encode()
        self.expected_hosts = {f"127.0.0.1:{config.port}", f"localhost:{config.port}"}
        self.waiting: queue.Queue[Optional[tuple[socket.socket, Any]]] = queue.Queue(WAITING)
        self.refused = 0  # foreign connections closed since the last errors.log line about them
        self.refused_logged = 0.0
        self.workers: list[threading.Thread] = []  # none yet: a failed bind closes the server before they start
        super().__init__(("127.0.0.1", config.port), _Handler)
        self.workers = [
            threading.Thread(target=self._work, name=f"ecc-endpoint-{n}", daemon=True) for n in range(workers)
        ]
        for worker in self.workers:
            worker.start()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Only a socket this user owns gets further than ``accept`` (logged at most once a second)."""
        if ep.peer_uid(client_address, self.config.port) == os.getuid():
            return True
        self.refused += 1
        now = time.monotonic()
        if now - self.refused_logged >= 1.0:
            log_error(
                "endpoint-refused", f"{self.refused} connection(s) from a socket of another user, closed at accept"
            )
            self.refused, self.refused_logged = 0, now
        return False

    def process_request(self, request: Any, client_address: Any) -> None:
        try:
            self.waiting.put_nowait((request, client_address))
        except queue.Full:
            log_error("endpoint-busy", f"{WAITING} connections wait already: one closed")
            self.shutdown_request(request)

    def _work(self) -> None:
        while True:
            item = self.waiting.get()
            if item is None:
                return
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception as exc:  # a worker never dies of one connection
                log_error("internal", f"endpoint: {type(exc).__name__}: {exc}")
            finally:
                self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        for _ in self.workers:
            try:
                self.waiting.put(None, timeout=1.0)
            except queue.Full:
                break


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: the client may reuse one connection for many events
    disable_nagle_algorithm = True  # small answers go out at once, not after the peer's delayed ACK

    def setup(self) -> None:
        super().setup()
        self.reader = _DeadlineReader(self.connection, self.server)
        self.rfile = io.BufferedReader(self.reader)

    def handle(self) -> None:
        """Requests until the peer closes, one fails, or the deadline of one passes (each its own deadline)."""
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.reader.deadline = time.monotonic() + READ_TIMEOUT
            self.reader.idle = True
            self.handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        return  # nothing to stderr: the daemon's stdio is /dev/null anyway

    def _answer(self, status: int) -> None:
        self.send_response_only(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _refuse(self, status: int, why: str) -> None:
        log_error("endpoint-refused", f"{status} {why} from {self.client_address[0]}:{self.client_address[1]}")
        self.close_connection = True
        self._answer(status)

    def do_GET(self) -> None:
        self._refuse(405, "not a POST")

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def do_POST(self) -> None:
        server = self.server
        if self.path != ep.PATH:
            return self._refuse(404, "unknown path")
        if self.headers.get("Host", "") not in server.expected_hosts:
            return self._refuse(403, "foreign Host header")
        auth = (self.headers.get("Authorization") or "").encode("utf-8", "replace")
        if not hmac.compare_digest(auth, server.expected_auth):
            return self._refuse(401, "missing or wrong token")
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            return self._refuse(411, "no Content-Length")
        if length < 0 or length > client.STDIN_CAP:
            return self._refuse(413, f"{length} bytes")
        now = time.time()
        data = self.rfile.read(length)
        if len(data) != length:
            return self._refuse(400, "body cut short")
        try:
            hook.handle(data, None, now, dedupe=True)  # no environment says whose: a runtime worker's may run twice
        except Exception as exc:  # never a 5xx that could look like a verdict: logged, answered
            log_error("internal", f"endpoint: {type(exc).__name__}: {exc}")
        self._answer(200)


def render_row(env: dict[str, str], data: bytes, now: float) -> tuple[bytes, list[Callable[[], None]]]:
    """The status line row for Claude Code's stdin ``data`` (as ``statusline.render.main`` prints it), and the
    writes to do once it is sent (the sensor file and the last line)."""
    from ecc_hooks.statusline import render

    after: list[Callable[[], None]] = []
    stdin, refusal = render.parse_stdin(data, None)
    if stdin is None:
        output = refusal
    else:
        session = paths.sanitize_session_id(stdin.get("session_id"))
        output = render.render_stdin(stdin, session, env, now, after=after)
    return (output + "\n").encode("utf-8", "replace"), after


def _serve_local(conn: socket.socket) -> None:
    """One ``core.relay`` request: read to EOF (capped), answer, close."""
    with conn:
        conn.settimeout(READ_TIMEOUT)
        try:
            if relay.peer_uid(conn) != os.getuid():
                return log_error("relay-refused", "a peer of another user")
            chunks: list[bytes] = []
            size = 0
            limit = relay.REQUEST_CAP + (1 << 20)  # the stdin cap plus the kind and the fields
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    return log_error("relay-refused", f"request over {limit} bytes")
                chunks.append(chunk)
            if not chunks:
                return  # connected and closed, nothing sent: a liveness probe (doctor's), not a request
            now = time.time()
            request = relay.decode(b"".join(chunks))
            if request is None:
                return log_error("relay-refused", "malformed request")
            kind, fields, data = request
            if kind == relay.HOOK:
                _record(conn, fields, data, now)
            elif kind == relay.STATUSLINE:
                _statusline(conn, fields, data, now)
            else:
                log_error("relay-refused", f"unknown kind {kind[:40]!r}")
        except OSError as exc:  # the command gave up (its timeout) or went away: it does the work itself
            log_error("relay-io", f"{type(exc).__name__}: {exc}")


def _record(conn: socket.socket, fields: dict[str, str], data: bytes, now: float) -> None:
    try:
        now = float(fields.get("now", ""))  # when the hook started: the journal's order is Claude Code's
    except ValueError:
        pass
    try:
        tmux = (fields["tmux"], fields.get("pane")) if "tmux" in fields else None  # the hook's pane, not the watcher's
        runtime = (fields["rsession"], fields.get("rworker", "")) if fields.get("rsession") else None
        hook.handle(data, None, now, raw=fields.get("raw") == "1", start=False, dedupe=fields.get("dedupe") == "1",
                    tmux=tmux, harness=fields.get("harness", ""), runtime=runtime)  # fmt: skip
    except Exception as exc:  # logged; recorded as far as it got: answering "failed" could record it twice
        log_error("internal", f"relay: {type(exc).__name__}: {exc}")
    conn.sendall(relay.OK)


def _statusline(conn: socket.socket, env: dict[str, str], data: bytes, now: float) -> None:
    try:
        row, after = render_row(env, data, now)
    except Exception as exc:  # no answer: the command renders in its own process
        return log_error("statusline-render", f"relay: {type(exc).__name__}: {exc}")
    conn.sendall(relay.OK + row)
    conn.shutdown(socket.SHUT_RDWR)  # the command has its row: it need not wait for the writes below
    for write in after:  # the sensor file and the last line: after the row is on its way
        write()


class HttpReceiver:
    """The HTTP endpoint's server, run on a daemon thread of the watcher."""

    def __init__(self, config: ep.Endpoint) -> None:
        self.server = _Server(config)
        self.thread = threading.Thread(target=self.server.serve_forever, name="ecc-endpoint", daemon=True)

    def start(self) -> HttpReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LocalReceiver:
    """The local socket, served by a few threads that each block in ``accept`` (no thread started per request:
    the commands wait for the answer, so its latency is theirs). The watcher holds the single-instance lock,
    so a socket left at the path is a dead watcher's: it is replaced."""

    WORKERS = 4  # requests served at once (a stalled peer holds one for at most READ_TIMEOUT)

    def __init__(
        self,
        base: str,
        name: bytes = relay.SOCKET_NAME,
        handler: Optional[Callable[[socket.socket], None]] = None,
        workers: int = WORKERS,
    ) -> None:
        """Serve ``base``/``name`` (the watcher's socket; the runtime's supervisor serves its own with
        ``handler``, which gets each connection)."""
        self.handler = handler or _serve_local
        self.path = os.path.join(base, name.decode())
        try:
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        address, fd = relay.address(os.fsencode(base), name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            old = os.umask(0o177)  # born 0600 (its folder is 0700 already)
            try:
                self.sock.bind(address)
            finally:
                os.umask(old)
            self.sock.listen(64)
        except BaseException:
            self.sock.close()
            raise
        finally:
            if fd is not None:
                os.close(fd)
        self.inode = os.lstat(self.path).st_ino
        self.threads = [
            threading.Thread(target=self._accept, name=f"ecc-relay-{n}", daemon=True) for n in range(workers)
        ]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed: the watcher stops
                return
            try:
                self.handler(conn)
            except Exception as exc:  # a worker never dies of one request
                log_error("internal", f"relay: {type(exc).__name__}: {exc}")

    def start(self) -> LocalReceiver:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in accept
        except OSError:
            pass
        self.sock.close()
        try:
            if os.lstat(self.path).st_ino == self.inode:  # ours still (not a successor's)
                os.unlink(self.path)
        except OSError:
            pass


Receiver = Union[HttpReceiver, LocalReceiver]


def start() -> list[Receiver]:
    """Serve the local socket, and the configured HTTP endpoint (http transport); what cannot start is logged."""
    started: list[Receiver] = []
    base = paths.home()
    try:
        started.append(LocalReceiver(base).start())
    except OSError as exc:
        log_error("relay-unavailable", f"{base}: {exc}")
    config = ep.load()
    if config is not None:
        try:
            started.append(HttpReceiver(config).start())
        except OSError as exc:
            log_error("endpoint-unavailable", f"127.0.0.1:{config.port}: {exc}")
            owner = ep.listener_uid(config)
            if owner is not None and owner != os.getuid() and (ep.settings_files() or ep.parked_files()):
                ep.fall_back(config, owner, None, time.monotonic() + 30.0)  # nothing more may be posted there
    return started
