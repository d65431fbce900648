"""The watcher's local socket: the hook and the status line hand their stdin to the resident watcher.

Claude Code starts a process for every command hook and every status line refresh. A Python process that
imports what recording or rendering needs (``os``, ``re``-free parsing, redaction, the renderer's segments)
spends most of its life importing; the watcher has all of it loaded already. So the commands Claude Code runs
do only what a bare interpreter must: read stdin, connect to ``$ECC_HOOKS_HOME/watcher.sock``, send the
request, wait for the answer. When no watcher answers (none runs, it is restarting, it was killed, a timeout,
an error answer) the command does the work itself from the stdin it already read: nothing is lost, only slower.

Trust: the socket lives in the user's private state folder, and each side asks the kernel who is at the other
end (``SO_PEERCRED``): the watcher serves only the user's own processes, and a command sends nothing to a
socket another user bound. Requests and answers are capped.

Wire format (one request per connection): ``kind\\n``, then the fields as ``K=V\\0`` items and one more ``\\0``,
then the stdin bytes; the client shuts down its writing side. The answer is ``0`` followed by the result, or
anything else for a refusal. Hot path: ``posix``, ``_signal`` and ``_socket`` only (no ``os``).
"""

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: no typing import at run time (hot path)
    from typing import Any

SOCKET_NAME = b"watcher.sock"
HOOK = b"hook"  # record a hook event (capture.hook.handle); the answer is empty
STATUSLINE = b"statusline"  # render a status line row (statusline.render); the answer is the row
OK = b"0"
REQUEST_CAP = 8 << 20  # bytes of stdin sent; a larger payload is handled by the command itself
ANSWER_CAP = 1 << 20
SUN_PATH_MAX = 107  # sockaddr_un's path, without its terminating NUL


def home() -> "bytes | None":
    """``paths.home()`` when the settings make it absolute without ``..`` (else None: the full code resolves it)."""
    env = posix.environ
    base = env.get(b"ECC_HOOKS_HOME")
    if not base:
        config = env.get(b"CLAUDE_CONFIG_DIR") or (env.get(b"HOME", b"") + b"/.claude")
        base = config + b"/ecc"
    base = base.rstrip(b"/")
    return base if base.startswith(b"/") and b"/../" not in base + b"/" and b"/./" not in base + b"/" else None


class _Payload:
    """What ``read_payload`` keeps of the bytes it reads."""

    def __init__(self, cap: int, tail_size: int) -> None:
        self.cap, self.tail_size = cap, tail_size
        self.chunks: list[bytes] = []
        self.kept = 0
        self.tail = b""
        self.problem: str | None = None

    def add(self, chunk: bytes) -> None:
        if self.kept < self.cap:
            piece = chunk[: self.cap - self.kept]
            self.chunks.append(piece)
            self.kept += len(piece)
            if len(piece) < len(chunk):
                self.problem = "oversized"
                self.tail = chunk[len(piece) :][-self.tail_size :] if self.tail_size > 0 else b""
        else:
            self.problem = "oversized"
            if self.tail_size > 0:
                self.tail = (self.tail + chunk)[-self.tail_size :]

    def result(self, problem: "str | None" = None) -> "tuple[bytes, bytes, str | None]":
        return b"".join(self.chunks), self.tail, problem or self.problem


class _Expired(Exception):
    pass


def _expire(signum: int, frame: object) -> None:
    raise _Expired


def read_payload(fd: int, cap: int, timeout: float, tail_size: int = 0) -> "tuple[bytes, bytes, str | None]":
    """Read ``fd`` until EOF: the first ``cap`` bytes, the last ``tail_size`` bytes past them, and a problem or None.

    The problem is ``"oversized"`` when more than ``cap`` bytes came (the rest is drained, so Claude Code never
    sees a broken pipe) or ``"timeout"`` when EOF did not come in time. The tail is empty unless the payload
    was oversized; it holds the fields Claude Code writes after a huge ``tool_response`` (``tool_use_id``,
    ``duration_ms``). In a command's main thread the time bound is an interval timer around blocking reads
    (``_signal`` is loaded at every interpreter start; ``select`` is a library to load); where the timer is
    taken or signals cannot be had (another thread), ``select``.
    """
    import _signal  # type: ignore[import-not-found]  # signal's C half (no stubs): loaded at start, no enum

    payload = _Payload(cap, tail_size)
    if _signal.getsignal(_signal.SIGALRM) != _signal.SIG_DFL or _signal.getitimer(_signal.ITIMER_REAL)[0]:
        return _read_polled(fd, timeout, payload)  # the timer is someone else's (a test runner's, say)
    try:
        previous = _signal.signal(_signal.SIGALRM, _expire)
    except ValueError:  # not the main thread: signals are the main thread's
        return _read_polled(fd, timeout, payload)
    try:
        _signal.setitimer(_signal.ITIMER_REAL, timeout)
        while True:
            chunk = posix.read(fd, 1 << 16)
            if not chunk:
                break
            payload.add(chunk)
    except _Expired:
        return payload.result("timeout")
    except OSError:
        pass
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.signal(_signal.SIGALRM, previous)
    return payload.result()


def _read_polled(fd: int, timeout: float, payload: _Payload) -> "tuple[bytes, bytes, str | None]":
    import select
    from time import monotonic

    deadline = monotonic() + timeout
    while True:
        remaining = deadline - monotonic()
        if remaining <= 0:
            return payload.result("timeout")
        try:
            if not select.select([fd], [], [], remaining)[0]:
                continue
            chunk = posix.read(fd, 1 << 16)
        except InterruptedError:
            continue
        except OSError:
            break
        if not chunk:
            break
        payload.add(chunk)
    return payload.result()


def encode(kind: bytes, fields: "dict[bytes, bytes]", data: bytes) -> bytes:
    """A request: ``kind``, the fields (``environ``-like), then ``data``."""
    return kind + b"\n" + b"".join(k + b"=" + v + b"\0" for k, v in fields.items()) + b"\0" + data


def decode(body: bytes) -> "tuple[bytes, dict[str, str], bytes] | None":
    """``encode``'s inverse (the watcher's side): (kind, fields, data), or None for a malformed request."""
    kind, sep, rest = body.partition(b"\n")
    if not sep or not kind:
        return None
    if rest.startswith(b"\0"):
        return kind, {}, rest[1:]
    block, sep, data = rest.partition(b"\0\0")
    if not sep:
        return None
    fields: dict[str, str] = {}
    for item in block.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            fields[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
    return kind, fields, data


def address(base: bytes, name: bytes = SOCKET_NAME) -> "tuple[bytes, int | None]":
    """The socket's address in ``base`` (the watcher's, or the socket ``name``), and a folder descriptor to
    close after use (or None).

    ``sockaddr_un`` holds 107 bytes; a deeper state folder is reached through ``/proc/self/fd/N``, a
    descriptor of the folder itself (opened without following a symlink in its last component)."""
    path = base + b"/" + name
    if len(path) <= SUN_PATH_MAX:
        return path, None
    fd = posix.open(base, posix.O_PATH | posix.O_DIRECTORY | posix.O_NOFOLLOW | posix.O_CLOEXEC)
    return b"/proc/self/fd/%d/%s" % (fd, name), fd


def peer_uid(sock: "object") -> int:
    """The uid of the process at the other end of a connected Unix socket (``SO_PEERCRED``)."""
    import _socket

    cred = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # type: ignore[attr-defined]
    return int.from_bytes(cred[4:8], "little")


def peer_pid(sock: "object") -> int:
    """The pid of the process at the other end of a connected Unix socket (``SO_PEERCRED``), as this process's
    pid namespace numbers it (0 when that process is not visible from here)."""
    import _socket

    cred = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # type: ignore[attr-defined]
    return int.from_bytes(cred[0:4], "little", signed=True)


def connect(base: bytes, timeout: float, name: bytes = SOCKET_NAME) -> "Any":
    """A socket connected to the watcher's socket (or socket ``name``) in ``base`` (OSError when nobody
    listens there)."""
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(timeout)
        path, fd = address(base, name)
        try:
            sock.connect(path)
        finally:
            if fd is not None:
                posix.close(fd)
    except BaseException:
        sock.close()
        raise
    return sock


def ask(kind: bytes, fields: "dict[bytes, bytes]", data: bytes, timeout: float) -> "bytes | None":
    """The watcher's answer to one request (the bytes after ``OK``), or None when it cannot answer.

    Never raises for a missing, foreign, slow or refusing watcher; the caller then does the work itself."""
    base = home()
    if base is None or len(data) > REQUEST_CAP:
        return None
    import _socket

    try:
        sock: Any = connect(base, timeout)
    except OSError:  # no socket, nobody listening
        return None
    try:
        if peer_uid(sock) != posix.getuid():
            return None  # another user's socket: it gets nothing
        sock.sendall(encode(kind, fields, data))
        sock.shutdown(_socket.SHUT_WR)
        chunks: list[bytes] = []
        size = 0
        while size <= ANSWER_CAP:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        else:
            return None
    except OSError:  # a timeout, a reset
        return None
    finally:
        sock.close()
    answer = b"".join(chunks)
    return answer[1:] if answer[:1] == OK else None
