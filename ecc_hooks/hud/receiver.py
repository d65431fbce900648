"""The watcher's loopback endpoint for Claude Code's HTTP hooks (``core.endpoint`` says why and how).

One thread of the watcher serves ``POST /ecc-hooks/v1/event`` on 127.0.0.1: a request is recorded exactly as
the hook command records its stdin (``capture.hook.handle``: bounded, normalized, redacted, one journal line)
before the answer goes back, so when Claude Code moves on, the event is on disk. Refused, with nothing
written: another path or method, a missing or wrong bearer token, a ``Host`` other than the endpoint's
(DNS rebinding), a connection from a socket another user owns, a body over the hook's stdin cap.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from ecc_hooks.capture import hook
from ecc_hooks.core import endpoint as ep
from ecc_hooks.core.errorlog import log_error

READ_TIMEOUT = 10.0  # seconds a connection may take to send its request


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, config: ep.Endpoint) -> None:
        self.config = config
        self.expected_auth = f"Bearer {config.token}".encode()
        self.expected_hosts = {f"127.0.0.1:{config.port}", f"localhost:{config.port}"}
        super().__init__(("127.0.0.1", config.port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: the client may reuse one connection for many events
    timeout = READ_TIMEOUT
    disable_nagle_algorithm = True  # small answers go out at once, not after the peer's delayed ACK
    peer_is_user: Optional[bool] = None  # the connecting socket's owner is this user (asked once per connection)

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
        if self.path not in (ep.PATH, ep.STATUSLINE_PATH):
            return self._refuse(404, "unknown path")
        if self.headers.get("Host", "") not in server.expected_hosts:
            return self._refuse(403, "foreign Host header")
        auth = (self.headers.get("Authorization") or "").encode("utf-8", "replace")
        if not hmac.compare_digest(auth, server.expected_auth):
            return self._refuse(401, "missing or wrong token")
        if self.peer_is_user is None:  # once per connection: Claude Code keeps one open for many events
            self.peer_is_user = ep.peer_uid(self.client_address, server.config.port) == os.getuid()
        if not self.peer_is_user:
            return self._refuse(403, "a socket of another user")
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            return self._refuse(411, "no Content-Length")
        if length < 0 or length > hook.STDIN_CAP:
            return self._refuse(413, f"{length} bytes")
        now = time.time()
        data = self.rfile.read(length)
        if len(data) != length:
            return self._refuse(400, "body cut short")
        if self.path == ep.STATUSLINE_PATH:
            return self._statusline(data, now)
        try:
            hook.handle(data, None, now)
        except Exception as exc:  # never a 5xx that could look like a verdict: logged, answered
            log_error("internal", f"endpoint: {type(exc).__name__}: {exc}")
        self._answer(200)

    def _statusline(self, body: bytes, now: float) -> None:
        """Render a status line row for ``client``: the body is its environment (``K=V\\0``..., then ``\\0``)
        and Claude Code's stdin. A failure answers 500: the client then renders in its own process."""
        from ecc_hooks.core.paths import sanitize_session_id
        from ecc_hooks.statusline import render
        from ecc_hooks.statusline.client import decode_request

        request = decode_request(body)
        if request is None:
            return self._refuse(400, "no environment block")
        env, stdin_data = request
        after: list[Callable[[], None]] = []
        try:
            stdin, refusal = render.parse_stdin(stdin_data, None)
            if stdin is None:
                output = refusal
            else:
                session = sanitize_session_id(stdin.get("session_id"))
                output = render.render_stdin(stdin, session, env, now, after=after)
        except Exception as exc:
            log_error("statusline-render", f"endpoint: {type(exc).__name__}: {exc}")
            return self._answer(500)
        row = (output + "\n").encode("utf-8", "replace")
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(row)}\r\n\r\n"
        self.wfile.write(head.encode("ascii") + row)  # one write: headers and row in one segment
        for write in after:  # the sensor file and the last line: after the row is on its way
            write()


class Receiver:
    """The endpoint's server, run on a daemon thread of the watcher."""

    def __init__(self, config: ep.Endpoint) -> None:
        self.server = _Server(config)
        self.thread = threading.Thread(target=self.server.serve_forever, name="ecc-endpoint", daemon=True)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start() -> Optional[Receiver]:
    """Serve the configured endpoint (None: command transport, or its port is taken; logged)."""
    config = ep.load()
    if config is None:
        return None
    try:
        return Receiver(config).start()
    except OSError as exc:
        log_error("endpoint-unavailable", f"127.0.0.1:{config.port}: {exc}")
        return None
