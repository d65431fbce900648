"""The status line command: the resident watcher renders the row when it runs, this process otherwise.

Claude Code starts the status line command after every assistant message and every few seconds. A Python
process that imports the renderer (``os``, eleven core modules, fourteen segment modules) spends most of
its time importing. The watcher already has them loaded and listens on loopback (the http transport), so
this command does only what a bare interpreter must: read stdin, read the endpoint's port and token, check
that the listening socket is the user's own (``core.sockdiag``: another user could bind the port while no
watcher runs, and this request carries the environment), send the stdin and the environment, print the
answer. Any failure (no endpoint, no watcher, a foreign listener, a timeout, an error answer) renders here,
as before, from the stdin already read. Imports: ``posix``, ``_socket``, ``select`` and ``core.sockdiag`` (no
``os``).
"""

import posix
import sys

STDIN_CAP = 4 << 20
STDIN_TIMEOUT = 2.0
ANSWER_TIMEOUT = 1.0  # seconds the watcher has to answer before the row is rendered here
ANSWER_CAP = 1 << 20
PATH = b"/ecc-hooks/v1/statusline"


def _read_stdin() -> tuple[bytes, str | None]:
    """(stdin bytes, problem or None), as the renderer's own reader: capped, bounded in time, drained."""
    import select
    from time import monotonic

    chunks: list[bytes] = []
    size = 0
    deadline = monotonic() + STDIN_TIMEOUT
    while True:
        left = deadline - monotonic()
        if left <= 0 or not select.select([0], [], [], left)[0]:
            return b"".join(chunks), "timeout"
        chunk = posix.read(0, 65536)
        if not chunk:
            return b"".join(chunks), None
        if size < STDIN_CAP:
            chunks.append(chunk[: STDIN_CAP - size])
        size += len(chunk)
        if size > STDIN_CAP:
            while posix.read(0, 65536):  # drain: Claude Code must never see a broken pipe
                pass
            return b"".join(chunks), "oversized"


def _home() -> bytes | None:
    """``paths.home()`` for absolute settings (else None: the full renderer resolves the rest)."""
    env = posix.environ
    base = env.get(b"ECC_HOOKS_HOME")
    if not base:
        config = env.get(b"CLAUDE_CONFIG_DIR") or (env.get(b"HOME", b"") + b"/.claude")
        base = config + b"/ecc"
    return base if base.startswith(b"/") and b"/../" not in base else None


def _endpoint_file(home: bytes) -> bytes | None:
    """``endpoint.json``'s bytes when it is a regular file of the user's and private, else None (the full
    opener, ``fsio.open_file``, would import ``os``)."""
    fd = posix.open(home + b"/endpoint.json", posix.O_RDONLY | posix.O_NOFOLLOW | posix.O_NONBLOCK)
    try:
        st = posix.fstat(fd)
        if (st.st_mode & 0o170000) != 0o100000 or st.st_uid != posix.getuid() or st.st_mode & 0o077:
            return None
        return posix.read(fd, 4096)
    finally:
        posix.close(fd)


def encode_request(environ: "dict[bytes, bytes]", data: bytes) -> bytes:
    """The request body: the environment as ``K=V\\0`` items, one more ``\\0``, then Claude Code's stdin."""
    return b"".join(k + b"=" + v + b"\0" for k, v in environ.items()) + b"\0" + data


def decode_request(body: bytes) -> "tuple[dict[str, str], bytes] | None":
    """``encode_request``'s inverse (the watcher's side): (environment, stdin), or None for a malformed body."""
    if body.startswith(b"\0"):
        return {}, body[1:]
    block, sep, data = body.partition(b"\0\0")
    if not sep:
        return None
    env: dict[str, str] = {}
    for item in block.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            env[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
    return env, data


def ask_watcher(data: bytes) -> bytes | None:
    """The watcher's rendering of ``data`` (the row's bytes), or None when it cannot answer."""
    home = _home()
    if home is None:
        return None
    data_file = _endpoint_file(home)
    if data_file is None:
        return None
    import _socket

    from ecc_hooks.core import endpoint as ep  # only with an endpoint: a command transport loads nothing more

    endpoint = ep.parse(data_file)
    if endpoint is None or ep.listener_uid(endpoint) != posix.getuid():
        return None

    port, token = endpoint.port, endpoint.token.encode("ascii")
    body = encode_request(posix.environ, data)
    head = (
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % (PATH, port, token, len(body))
    )
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sock.settimeout(ANSWER_TIMEOUT)
        sock.connect(("127.0.0.1", port))
        sock.sendall(head + body)
        chunks: list[bytes] = []
        size = 0
        while size <= ANSWER_CAP:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        sock.close()
    answer = b"".join(chunks)
    header, sep, row = answer.partition(b"\r\n\r\n")
    if not sep or not header.startswith(b"HTTP/1.1 200 ") or not row:
        return None
    return row


def main() -> int:
    """Status line entry point: always prints something useful, always returns 0."""
    data, problem = _read_stdin()
    row = None
    if problem is None:
        try:
            row = ask_watcher(data)
        except Exception:  # no endpoint, no watcher, a refusal, a timeout: render here
            row = None
    if row is None:
        from ecc_hooks.statusline import render

        return render.main(data, problem)
    try:
        posix.write(1, row)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
