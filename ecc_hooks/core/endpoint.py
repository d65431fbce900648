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
(``endpoint-taken.json``) that the status line, ``status`` and ``doctor`` show: when the port was found taken,
and that calls posted while it was free (since ``released``) may have reached that user.

The watcher itself never lets go of the port while settings still post to it: before it closes (``watch --stop``,
SIGTERM, its idle exit) it ``park``s them (command hooks, recorded as ``parked``) and keeps the port until the
clients reloaded; the next watcher that holds the port ``unpark``s them. Only a watcher killed outright (SIGKILL,
a crash) leaves HTTP hooks pointing at a free port, until the next per-turn hook or watcher finds it taken.

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


def parked_files() -> list[str]:
    """The settings files the watcher switched to command hooks when it stopped (``park``): switched back to
    HTTP hooks by the next watcher that holds the port (``unpark``)."""
    files = _document().get("parked")
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def remember_settings(path: str, http: bool, parked: bool = False) -> None:
    """Record (``http``) or forget that the settings file ``path`` posts tool events to the endpoint; ``parked``:
    it has command hooks only while no watcher holds the port (the watcher's own switch)."""
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import atomic_write

    doc = _document()
    if parse(jsonlite.dumps(doc).encode()) is None:
        return  # no endpoint (command transport throughout): nothing to record
    files = [f for f in settings_files() if f != path] + ([path] if http else [])
    held = [f for f in parked_files() if f != path] + ([path] if parked else [])
    atomic_write(paths.endpoint_path(), jsonlite.dumps({**doc, "settings": files, "parked": held}).encode())


def _mark(**values: object) -> None:
    """Set fields of ``endpoint.json`` (None removes one); nothing without an endpoint."""
    from ecc_hooks.core import paths
    from ecc_hooks.core.fsio import atomic_write

    doc = _document()
    if parse(jsonlite.dumps(doc).encode()) is None or all(doc.get(k) == v for k, v in values.items()):
        return  # no endpoint, or nothing to change: not rewritten
    doc.update(values)
    doc = {k: v for k, v in doc.items() if v is not None}
    atomic_write(paths.endpoint_path(), jsonlite.dumps(doc).encode())


def _switch(files: list[str], transport: str, deadline: float, watcher: bool = True) -> list[str]:
    """Rewrite each settings file's tool hooks to ``transport`` by the installer itself (the one writer of
    settings files), as the watcher's switch (``--watcher``) or, for command, ``fall_back``'s. The files done."""
    import sys
    import time

    from ecc_hooks.core import paths, proc
    from ecc_hooks.core.errorlog import log_error

    done: list[str] = []
    for path in files:
        argv = ["install", "--transport", transport, "--no-statusline", "--settings-file", path]
        argv += ["--watcher"] if watcher else []
        code = paths.launcher_code("ecc_hooks.cli", f"sys.exit(main({argv!r}))")
        ran = proc.run([sys.executable, "-c", code], cwd="/", timeout=max(1.0, deadline - time.monotonic()))
        if ran.code == 0:
            done.append(path)
        else:
            log_error("endpoint-switch", f"{path} -> {transport}: {ran.error or ran.err_text()[-300:]}")
    return done


PARK_WAIT = 2.0  # seconds the watcher keeps the port after parking when it cannot see every session reload


def park(sessions: list[str]) -> list[str]:
    """The watcher is about to stop while it holds the endpoint's port: first turn every settings file with our
    HTTP hooks into command hooks (recorded as parked, for the next watcher to switch back), then keep the port
    until the clients have reloaded: the ConfigChange of each of ``sessions`` (live sessions' journals), within
    ``PARK_WAIT`` seconds (no session known: that long). Only then may the port be released: a call the client
    still posts meanwhile reaches the watcher. The files switched."""
    import time

    files = settings_files()
    if not files:
        return []
    offsets = {sid: _journal_size(sid) for sid in sessions}
    switched = _switch(files, "command", time.monotonic() + 10.0)
    deadline = time.monotonic() + PARK_WAIT
    while time.monotonic() < deadline:
        if offsets and switched and all(_config_changed(sid, max(at, 0)) for sid, at in offsets.items()):
            break
        time.sleep(0.05)
    return switched


def released() -> None:
    """The watcher closed the port (after ``park``): when, for the note should someone else take it."""
    import time

    _mark(released=time.time())


def unpark() -> list[str]:
    """The watcher holds the endpoint's port: switch the files it parked back to HTTP hooks. The files done."""
    import time

    _mark(released=None)
    files = parked_files()
    return _switch(files, "http", time.monotonic() + 10.0) if files else []


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

    The note says when the port was found taken and since when no watcher of ours held it (``released``, or
    unknown: a watcher that was killed says nothing): tool calls posted in between may have reached ``owner``.

    Claude Code 2.1.328 reloads a changed user or project settings file about a second after the write and
    fires ConfigChange (a settings file given with ``--settings`` is never reloaded: a session started with
    one keeps posting to the port until it ends; the note says so)."""
    import time

    from ecc_hooks.core import paths
    from ecc_hooks.core.errorlog import log_error
    from ecc_hooks.core.fsio import atomic_write

    offset = _journal_size(session)
    since = _document().get("released")
    rewritten = _switch(settings_files(), "command", deadline, watcher=False)
    parked = parked_files()
    for path in parked:
        remember_settings(path, False)  # command hooks already (a watcher stopped): they stay so, the user chooses
    note = {
        "port": endpoint.port,
        "uid": owner,
        "at": time.time(),
        "since": since if isinstance(since, (int, float)) else None,
        "files": rewritten + [f for f in parked if f not in rewritten],
    }
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


def taken_text(note: dict[str, object]) -> str:
    """What the note means, in words (``status``, ``doctor``): when the port was found taken and by whom, and
    that tool calls posted there while no watcher of ours held it may have reached that user (never that
    nothing did: the port was free for a while, and who took it when cannot be known)."""
    import time

    def stamp(at: object) -> str | None:
        if isinstance(at, (int, float)) and not isinstance(at, bool):
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
        return None

    found = stamp(note.get("at")) or "?"
    uid = note.get("uid") if type(note.get("uid")) is int else "?"
    since = stamp(note.get("since"))
    window = (
        f"between {since} (the watcher stopped) and {found}"
        if since
        else f"before {found}, since the watcher last stopped (when is unknown: it ended without closing the port)"
    )
    return (
        f"at {found} another user (uid {uid}) was found holding 127.0.0.1:{note.get('port')}, the port Claude Code "
        f"posted tool events to; tool calls posted there {window} may have reached uid {uid}"
    )


def peer_uid(client: tuple[str, int], server_port: int) -> int | None:
    """The uid owning the connecting socket (127.0.0.1:client port -> our port)."""
    return sockdiag.connection_uid(client[1], server_port)
