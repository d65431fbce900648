"""The watcher's loopback event endpoint: where Claude Code's HTTP hooks post tool events (http transport).

A command hook costs Claude Code a process per event (the client's own work plus an interpreter start); an
HTTP hook is one loopback request to the already-resident watcher, which records the event exactly as the
hook command would (``capture.hook.handle``: normalized, redacted, one journal line) before it answers.

``endpoint.json`` (0600, written by ``install``) holds the port and a bearer token. The watcher serves
``POST /ecc-hooks/v1/event`` on 127.0.0.1 only and refuses a request without the token (a web page in the
user's browser can reach loopback but cannot know it), with another ``Host`` (DNS rebinding) or from a socket
another user owns (``core.sockdiag``). The hook commands that remain (SessionStart, prompts, stops: once per
turn, not per tool call) start the watcher when none runs and wait until it listens, so an endpoint is up
before the tools run; what is posted while it is down is backfilled from the transcript by the watcher.

Standard library only, and light at import: the hook reads it (``wait_listening``) when it records an event
itself, so everything heavier is imported where it is used. (The commands' own traffic to the watcher goes over
its local socket, ``core.relay``, under either transport.)
"""

from __future__ import annotations

from ecc_hooks.core import jsonlite, sockdiag

PATH = "/ecc-hooks/v1/event"
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


_TOKEN_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def parse(data: bytes) -> Endpoint | None:
    """``endpoint.json``'s bytes as an Endpoint, or None: a port, and a token of at least 32 URL-safe characters
    (what ``ensure`` writes; nothing that could break out of an HTTP header)."""
    try:
        doc = jsonlite.loads(data)
    except (ValueError, RecursionError):
        return None
    port, token = (doc.get("port"), doc.get("token")) if isinstance(doc, dict) else (None, None)
    if type(port) is not int or not 0 < port < 65536 or not isinstance(token, str) or len(token) < 32:
        return None
    if not set(token.encode("utf-8", "replace")) <= _TOKEN_CHARS:
        return None
    return Endpoint(port, token)


def load() -> Endpoint | None:
    """The configured endpoint, or None (command transport, or a file that is not ours to trust)."""
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import read_file

    try:
        return parse(read_file(paths.endpoint_path(), 4096))
    except OSError:
        return None


def _free_port() -> int:
    import secrets
    import socket

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

    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import atomic_write

    endpoint = Endpoint(_free_port(), secrets.token_urlsafe(32))
    atomic_write(paths.endpoint_path(), jsonlite.dumps({"port": endpoint.port, "token": endpoint.token}).encode())
    return endpoint


def listener_uid(endpoint: Endpoint) -> int | None:
    """Who listens on the endpoint's port: the owning uid, or None when nothing does (no connection is made:
    one ``sock_diag`` query, so probing never wakes the server)."""
    return sockdiag.listener_uid(endpoint.port)


def wait_listening(endpoint: Endpoint, deadline: float) -> bool:
    """Poll until a socket of this user listens on the endpoint, or ``deadline`` (monotonic) passes."""
    import os
    import time

    while True:
        if listener_uid(endpoint) == os.getuid():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def peer_uid(client: tuple[str, int], server_port: int) -> int | None:
    """The uid owning the connecting socket (127.0.0.1:client port -> our port)."""
    return sockdiag.connection_uid(client[1], server_port)
