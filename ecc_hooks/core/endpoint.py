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

The port is only safe while the user's watcher holds it: while none runs, another local user may bind it and
Claude Code would post each tool call's input and output to them (the client does not check who listens). So
the http transport is never the default (``install`` writes command hooks unless told ``--transport http``),
and whenever a hook or the watcher finds the port held by another user, ``fall_back`` rewrites every settings
file with our HTTP hooks (recorded here, in ``endpoint.json``) to command hooks, waits until the running
Claude Code has reloaded them (its ConfigChange event, in the session's journal) and leaves a note
(``endpoint-taken.json``) that the status line, ``status`` and ``doctor`` show.

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


def ensure(renew: bool = False) -> Endpoint:
    """The configured endpoint, created (a free port, a fresh 256-bit token, 0600) when there is none or
    ``renew`` (the files recorded as posting to it are kept)."""
    current = load()
    if current is not None and not renew:
        return current
    import secrets

    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import atomic_write

    endpoint = Endpoint(_free_port(), secrets.token_urlsafe(32))
    doc = {"port": endpoint.port, "token": endpoint.token, "settings": settings_files()}
    atomic_write(paths.endpoint_path(), jsonlite.dumps(doc).encode())
    return endpoint


def listener_uid(endpoint: Endpoint) -> int | None:
    """Who listens on the endpoint's port: the owning uid, or None when nothing does (no connection is made:
    one ``sock_diag`` query, so probing never wakes the server)."""
    return sockdiag.listener_uid(endpoint.port)


def wait_owner(endpoint: Endpoint, deadline: float) -> int | None:
    """Poll until a socket listens on the endpoint (its owner's uid: this user's watcher, or another user who
    holds the port, which no watcher of ours can then take), or ``deadline`` (monotonic) passes (None)."""
    import time

    while True:
        owner = listener_uid(endpoint)
        if owner is not None:
            return owner
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def wait_listening(endpoint: Endpoint, deadline: float) -> bool:
    """A socket of this user listens on the endpoint before ``deadline`` (monotonic)."""
    import os

    return wait_owner(endpoint, deadline) == os.getuid()


# ---------------------------------------------------------------------------- the port held by someone else


def _document() -> dict[str, object]:
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import read_file

    try:
        doc = jsonlite.loads(read_file(paths.endpoint_path(), 1 << 16))
    except (OSError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def settings_files() -> list[str]:
    """The settings files ``install --transport http`` wrote HTTP hooks to this endpoint into."""
    files = _document().get("settings")
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def remember_settings(path: str, http: bool) -> None:
    """Record (``http``) or forget that the settings file ``path`` posts tool events to the endpoint."""
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import atomic_write

    doc = _document()
    if parse(jsonlite.dumps(doc).encode()) is None:
        return  # no endpoint (command transport throughout): nothing to record
    files = [f for f in settings_files() if f != path] + ([path] if http else [])
    atomic_write(paths.endpoint_path(), jsonlite.dumps({**doc, "settings": files}).encode())


def taken() -> dict[str, object] | None:
    """The note ``fall_back`` left (``port``, ``uid``, ``at``, ``files``), or None."""
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import read_file

    try:
        doc = jsonlite.loads(read_file(paths.endpoint_taken_path(), 1 << 16))
    except (OSError, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) and type(doc.get("port")) is int else None


def clear_taken() -> None:
    """Forget the note (``install`` does, having told the user which transport it chose and why)."""
    import os

    from ecc_hooks.core import paths

    try:
        os.unlink(paths.endpoint_taken_path())
    except FileNotFoundError:
        pass


def _journal_size(session: str | None) -> int:
    import os

    from ecc_hooks.core import paths

    if not session:
        return -1
    try:
        return os.stat(paths.journal_path(session)).st_size
    except OSError:
        return 0


def _config_changed(session: str, offset: int) -> bool:
    """The session's journal gained a ConfigChange record after ``offset`` (the client reloaded its settings)."""
    import os

    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import open_file

    try:
        fd = open_file(paths.journal_path(session), os.O_RDONLY)
    except OSError:
        return False
    try:
        return b'"ConfigChange"' in os.pread(fd, 1 << 20, offset)
    finally:
        os.close(fd)


def fall_back(endpoint: Endpoint, owner: int, session: str | None, deadline: float) -> list[str]:
    """Another user (``owner``) holds the endpoint's port: stop posting there. Every settings file with our
    HTTP hooks is rewritten to command hooks by the installer itself, the note for the user is written, and
    with a ``session`` (a SessionStart or per-turn hook, which the client waits for before any tool call)
    this waits until the client has reloaded its settings, or ``deadline`` (monotonic). The files rewritten.

    Claude Code 2.1.328 reloads a changed user or project settings file about a second after the write and
    fires ConfigChange (a settings file given with ``--settings`` is never reloaded: a session started with
    one keeps posting to the port until it ends; the note says so)."""
    import sys
    import time

    from ecc_hooks.core import paths, proc
    from ecc_hooks.core.errorlog import log_error
    from ecc_hooks.core.fsio import atomic_write

    offset = _journal_size(session)
    rewritten: list[str] = []
    for path in settings_files():
        argv = ["install", "--transport", "command", "--no-statusline", "--settings-file", path]
        code = paths.launcher_code("ecc_hooks.cli", f"sys.exit(main({argv!r}))")
        done = proc.run([sys.executable, "-c", code], cwd="/", timeout=max(1.0, deadline - time.monotonic()))
        if done.code == 0:
            rewritten.append(path)
        else:
            log_error("endpoint-fallback", f"{path}: {done.error or done.err_text()[-300:]}")
    note = {"port": endpoint.port, "uid": owner, "at": time.time(), "files": rewritten}
    try:
        atomic_write(paths.endpoint_taken_path(), jsonlite.dumps(note).encode())
    except OSError as exc:
        log_error("endpoint-fallback", f"note: {exc}")
    log_error(
        "endpoint-taken",
        f"127.0.0.1:{endpoint.port} is held by uid {owner}: tool events go through command hooks now "
        f"({', '.join(rewritten) or 'no settings file rewritten'})",
    )
    if session and rewritten:
        while time.monotonic() < deadline and not _config_changed(session, max(offset, 0)):
            time.sleep(0.05)
    return rewritten


def peer_uid(client: tuple[str, int], server_port: int) -> int | None:
    """The uid owning the connecting socket (127.0.0.1:client port -> our port)."""
    return sockdiag.connection_uid(client[1], server_port)
