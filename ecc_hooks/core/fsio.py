"""Atomic writes, single-write appends and incremental line reads; the one owner of file I/O details.

Hot path (the hook appends through here): standard library ``os`` only.
"""

from __future__ import annotations

import errno
import os

from ecc_hooks.core import paths
from ecc_hooks.core.relay import read_payload  # the one stdin reader (lean: the hot path's commands use it)

FILE_MODE = 0o600
DIR_MODE = 0o700
READ_CAP = 64 << 20  # bytes: the most any whole-file read of ours takes
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# File types from st_mode (the ``stat`` module's constants, without importing it on the hot path).
_S_IFMT, _S_IFDIR, _S_IFREG = 0o170000, 0o040000, 0o100000


class UnsafeFile(OSError):
    """A path we refuse to use: a link, a FIFO or device, or a state file or folder owned by someone else."""


def _check(fd: int, path: str, directory: bool, state: bool) -> None:
    """Refuse what is not a regular file (or folder), or, for state, not ours; tighten a loose mode of ours."""
    st = os.fstat(fd)
    if directory and st.st_mode & _S_IFMT != _S_IFDIR:
        raise UnsafeFile(f"not a directory: {path}")
    if not directory and st.st_mode & _S_IFMT != _S_IFREG:
        raise UnsafeFile(f"not a regular file: {path}")
    if not state:
        return
    if st.st_uid != os.geteuid():
        raise UnsafeFile(f"owned by uid {st.st_uid}, not by this user: {path}")
    if st.st_mode & 0o077:
        os.fchmod(fd, DIR_MODE if directory else FILE_MODE)


def _relative_to_home(path: str) -> list[str] | None:
    """``path``'s components below ``ECC_HOOKS_HOME``, or None when it is not a state path."""
    home = paths.home()
    if not path.startswith(home + os.sep):
        return None
    parts = path[len(home) + 1 :].split(os.sep)
    return parts if all(p and p not in (".", "..") for p in parts) else None


def _open_state_dir(parts: list[str], create: bool) -> int:
    """A descriptor of the state folder ``home/parts...``: every level checked, no level a link."""
    home = paths.home()
    try:
        fd = os.open(home, _DIR_FLAGS)  # the home itself is the user's setting: a link there is theirs
    except FileNotFoundError:
        if not create:
            raise
        os.makedirs(home, DIR_MODE, exist_ok=True)
        fd = os.open(home, _DIR_FLAGS)
    try:
        _check(fd, home, True, True)
        where = home
        for part in parts:
            where = os.path.join(where, part)
            try:
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, DIR_MODE, dir_fd=fd)
                except FileExistsError:
                    pass
                child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(f"not a folder (a link?): {where}") from None
                raise
            os.close(fd)
            fd = child
            _check(fd, where, True, True)
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_file(path: str, flags: int, mode: int = FILE_MODE, create_dirs: bool = False) -> int:
    """Open ``path`` safely; the one way ecc-hooks opens a file.

    A state path (below ``ECC_HOOKS_HOME``) is reached folder by folder without following any link, each
    folder and the file must belong to this user (loose modes are tightened to 0700/0600), and
    ``create_dirs`` creates missing folders at 0700. Any other path (a transcript, a repository's files)
    may be reached through links but must be a regular file. Either way the open never blocks on a FIFO
    (``O_NONBLOCK``) and a FIFO, socket or device is refused with ``UnsafeFile``.
    """
    parts = _relative_to_home(path)
    if parts is None:
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    else:
        dfd = _open_state_dir(parts[:-1], create_dirs)
        try:
            fd = os.open(parts[-1], flags | _NOFOLLOW, mode, dir_fd=dfd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO):
                raise UnsafeFile(f"a link or a FIFO: {path}") from None
            raise
        finally:
            os.close(dfd)
    try:
        _check(fd, path, False, parts is not None)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_file(path: str, cap: int = READ_CAP) -> bytes:
    """The first ``cap`` bytes of a regular file (``open_file``'s rules); OSError when missing or refused."""
    fd = open_file(path, os.O_RDONLY)
    try:
        chunks = []
        left = cap
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_tail(path: str, size: int) -> bytes:
    """The last ``size`` bytes of a regular file, whatever its length (``open_file``'s rules): where a log says
    how it ended. OSError when missing or refused."""
    fd = open_file(path, os.O_RDONLY)
    try:
        end = os.fstat(fd).st_size
        start = max(end - size, 0)
        chunks = []
        while start < end:
            chunk = os.pread(fd, min(end - start, 1 << 20), start)
            if not chunk:
                break
            chunks.append(chunk)
            start += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def ensure_state_dir(path: str) -> str:
    """Create the state folder ``path`` (and its parents below the home) at 0700, checked as ``open_file`` does."""
    parts = _relative_to_home(path)
    if parts is None:
        if path != paths.home():
            raise UnsafeFile(f"not below ECC_HOOKS_HOME: {path}")
        parts = []
    os.close(_open_state_dir(parts, True))
    return path


def append_line(path: str, line: bytes, create_dirs: bool = True) -> bool:
    """Append one complete line with a single ``write()`` on an ``O_APPEND`` descriptor.

    Concurrent writers on a local filesystem never interleave inside one ``write()`` of a regular file
    opened with ``O_APPEND``, so every record stays whole. A write cut short (a full disk) is cut back
    out of the file when nothing was appended after it, else ended with a newline, so a torn line never
    swallows the next record. Returns False when the write was short, in which case the caller logs it.
    """
    if not line.endswith(b"\n"):
        line += b"\n"
    fd = open_file(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE, create_dirs=create_dirs)
    try:
        written = os.write(fd, line)
        if 0 < written < len(line):
            _cut_back(fd, written)
    finally:
        os.close(fd)
    return written == len(line)


def _cut_back(fd: int, written: int) -> None:
    """Remove the ``written`` bytes of a short append (or end them with a newline when others wrote after)."""
    try:
        end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND left the offset just after our bytes
        if os.fstat(fd).st_size == end:
            os.ftruncate(fd, end - written)
        else:
            os.write(fd, b"\n")
    except OSError:
        pass


def append_bounded(path: str, line: bytes, max_bytes: int) -> None:
    """Append a line to a log kept under ``max_bytes``: a full log rolls over to ``path + '.1'``."""
    try:
        if os.lstat(path).st_size + len(line) > max_bytes:
            os.replace(path, path + ".1")
    except FileNotFoundError:
        pass
    append_line(path, line)


def atomic_write(path: str, data: bytes, mode: int = FILE_MODE, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically: temp file in the same folder, fsync, rename.

    ``durable=False`` skips the fsyncs: readers still never see a torn file, but a power cut
    may lose the update. The status line uses it for its sensor file, rewritten every render.
    The temp name is unique per call (pid plus random), so concurrent writers of one path,
    threads included, never share a temp file; a failed write or rename leaves no temp file.
    A state path's folder is reached as ``open_file`` does (no links, ours, created on demand).
    """
    directory = os.path.dirname(path) or "."
    name = os.path.basename(path)
    parts = _relative_to_home(path)
    dfd = _open_state_dir(parts[:-1], True) if parts is not None else os.open(directory, _DIR_FLAGS)
    try:
        tmp = f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dfd)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise
        if durable:
            try:
                os.fsync(dfd)
            except OSError:
                pass
    finally:
        os.close(dfd)


def _field(index: int, doc: str) -> property:
    """A read-only named view of one tuple item (what namedtuple generates, without importing collections)."""
    return property(lambda self: self[index], doc=doc)


class Cursor(tuple[int, int, int]):
    """Where an incremental reader stopped: the file's identity (``dev``, ``ino``) and the byte ``offset`` read up to.

    A plain tuple subclass rather than a namedtuple: ``collections`` would cost the status line's
    ``python -S`` start-up eight modules for three fields.
    """

    __slots__ = ()
    dev = _field(0, "Device of the file read.")
    ino = _field(1, "Inode of the file read.")
    offset = _field(2, "Bytes consumed (always just after a newline).")

    def __new__(cls, dev: int = 0, ino: int = 0, offset: int = 0) -> Cursor:
        return tuple.__new__(cls, (dev, ino, offset))

    def __getnewargs__(self) -> tuple[object, ...]:
        return tuple(self)

    def _replace(self, **fields: int) -> Cursor:
        """A copy with some fields changed (namedtuple's spelling)."""
        return Cursor(fields.get("dev", self[0]), fields.get("ino", self[1]), fields.get("offset", self[2]))

    def __repr__(self) -> str:
        return f"Cursor(dev={self[0]}, ino={self[1]}, offset={self[2]})"


class Block(tuple[bytes, "Cursor", bool]):
    """What ``read_new_block`` returns: complete lines as one bytes object (``data``), the new
    ``cursor``, and whether the file was read again from the start (``reset``: replaced,
    truncated or rewritten in place)."""

    __slots__ = ()
    data = _field(0, "The complete lines read, newline-terminated.")
    cursor = _field(1, "Where the next read starts.")
    reset = _field(2, "True when the file was read again from the start.")

    def __new__(cls, data: bytes, cursor: Cursor, reset: bool) -> Block:
        return tuple.__new__(cls, (data, cursor, reset))

    def __getnewargs__(self) -> tuple[object, ...]:
        return tuple(self)


def read_new_block(path: str, cursor: Cursor, max_bytes: int = 1 << 22, guard: bytes = b"") -> Block:
    """Read the complete lines appended since ``cursor`` as one bytes object (no per-line split).

    The incremental reader: complete lines only, as one bytes object (callers split or filter at the byte level). ``guard`` is the
    tail of what the caller already consumed (the bytes just before ``cursor.offset``): when the
    file no longer holds those bytes there, it was rewritten in place (truncated and grown again
    past the offset between two reads) and is read from the start, with ``reset`` set. A missing
    file gives no data, an empty cursor, and ``reset`` when the cursor pointed somewhere; so does anything
    ``open_file`` refuses (a FIFO never hangs the reader).
    """
    try:
        fd = open_file(path, os.O_RDONLY)
    except (FileNotFoundError, UnsafeFile):  # a FIFO or a link planted in its place reads as missing
        return Block(b"", Cursor(), cursor != Cursor())
    try:
        st = os.fstat(fd)
        offset = cursor.offset
        reset = False
        if (st.st_dev, st.st_ino) != (cursor.dev, cursor.ino) or st.st_size < offset:
            reset = offset > 0 or (cursor.dev, cursor.ino) != (0, 0)
            offset = 0
        elif guard and offset >= len(guard) and os.pread(fd, len(guard), offset - len(guard)) != guard:
            reset, offset = True, 0
        want = min(st.st_size - offset, max_bytes)
        if want <= 0:
            return Block(b"", Cursor(st.st_dev, st.st_ino, offset), reset)
        chunks = []
        pos = offset
        while pos < offset + want:
            chunk = os.pread(fd, min(offset + want - pos, 1 << 22), pos)
            if not chunk:
                break
            chunks.append(chunk)
            pos += len(chunk)
        # A single line longer than max_bytes must still complete: read on to its newline.
        while chunks and pos < st.st_size and b"\n" not in chunks[-1]:
            chunk = os.pread(fd, 1 << 20, pos)
            if not chunk:
                break
            chunks.append(chunk)
            pos += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    end = data.rfind(b"\n")
    if end < 0:
        return Block(b"", Cursor(st.st_dev, st.st_ino, offset), reset)
    return Block(data[: end + 1], Cursor(st.st_dev, st.st_ino, offset + end + 1), reset)


# ---------------------------------------------------------------------------- stdin (hook and status line)


def read_stdin(fd: int, cap: int, timeout: float) -> tuple[bytes, str | None]:
    """Read stdin until EOF, keeping at most ``cap`` bytes; return the bytes and a problem or None.

    The problem is ``"oversized"`` when more than ``cap`` bytes came (the rest is drained, so
    Claude Code never sees a broken pipe) or ``"timeout"`` when EOF did not come in time.
    """
    data, _, problem = read_payload(fd, cap, timeout, tail_size=0)
    return data, problem
