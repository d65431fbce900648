"""The watcher's loopback event endpoint: where Claude Code's HTTP hooks post tool events (http transport).

A command hook costs Claude Code a process per event (the client's own work plus an interpreter start); an
HTTP hook is one loopback request to the already-resident watcher, which records the event exactly as the
hook command would (``capture.hook.handle``: normalized, redacted, one journal line) before it answers.

``endpoint.json`` (0600, written by ``install``) holds the port and a bearer token. The watcher serves
``POST /ecc-hooks/v1/event`` on 127.0.0.1 only and refuses a request without the token (a web page in the
user's browser can reach loopback but cannot know it), with another ``Host`` (DNS rebinding) or from a socket
another user owns (``/proc/net/tcp``). The hook commands that remain (SessionStart, prompts, stops: once per
turn, not per tool call) start the watcher when none runs and wait until it listens, so an endpoint is up
before the tools run; what is posted while it is down is backfilled from the transcript by the watcher.

Standard library only: the hot path reads it (``wait_listening``).
"""

from __future__ import annotations

import os
import socket
import time

from ecc_hooks.core import jsonlite, paths, sockdiag
from ecc_hooks.core.fsio import atomic_write, read_file

PATH = "/ecc-hooks/v1/event"
STATUSLINE_PATH = "/ecc-hooks/v1/statusline"  # statusline.client asks the watcher to render a row
PORT_RANGE = (20000, 60000)
LISTEN_WAIT = 5.0  # seconds a hook waits for a watcher it started to listen


class Endpoint(tuple[int, str]):
    """(port, token)."""

    __slots__ = ()

    def __new__(cls, port: int, token: str) -> Endpoint:
        return tuple.__new__(cls, (port, token))

    @property
    def port(self) -> int:
        """The loopback TCP port."""
        return int(self[0])

    @property
    def token(self) -> str:
        """The bearer token a request must carry."""
        return str(self[1])

    @property
    def url(self) -> str:
        """What the HTTP hooks post to."""
        return f"http://127.0.0.1:{self.port}{PATH}"


def load() -> Endpoint | None:
    """The configured endpoint, or None (command transport, or a file that is not ours to trust)."""
    try:
        doc = jsonlite.loads(read_file(paths.endpoint_path(), 4096))
    except (OSError, ValueError):
        return None
    port, token = (doc.get("port"), doc.get("token")) if isinstance(doc, dict) else (None, None)
    if type(port) is not int or not 0 < port < 65536 or not isinstance(token, str) or len(token) < 32:
        return None
    return Endpoint(port, token)


def _free_port() -> int:
    import secrets

    for _ in range(200):
        port = PORT_RANGE[0] + secrets.randbelow(PORT_RANGE[1] - PORT_RANGE[0])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free loopback port in 20000-60000")


def ensure() -> Endpoint:
    """The configured endpoint, created (a free port, a fresh 256-bit token, 0600) when there is none."""
    current = load()
    if current is not None:
        return current
    import secrets

    endpoint = Endpoint(_free_port(), secrets.token_urlsafe(32))
    atomic_write(paths.endpoint_path(), jsonlite.dumps({"port": endpoint.port, "token": endpoint.token}).encode())
    return endpoint


def listening(endpoint: Endpoint, timeout: float = 0.2) -> bool:
    """Whether something accepts connections on the endpoint's port."""
    try:
        with socket.create_connection(("127.0.0.1", endpoint.port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_listening(endpoint: Endpoint, deadline: float) -> bool:
    """Poll until the endpoint accepts connections or ``deadline`` (monotonic) passes."""
    while True:
        if listening(endpoint):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def peer_uid(client: tuple[str, int], server_port: int) -> int | None:
    """The uid owning the connecting socket (127.0.0.1:client port -> our port)."""
    return sockdiag.connection_uid(client[1], server_port)


def listener_is_ours(endpoint: Endpoint) -> bool:
    """Whether the socket listening on the endpoint's port is the user's (not another user's squatting it)."""
    return sockdiag.listener_uid(endpoint.port) == os.getuid()
