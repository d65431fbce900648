"""Atomic writes, single-write appends and incremental line reads; the one owner of file I/O details.

Hot path (the hook appends through here): standard library ``os`` only.
"""

from __future__ import annotations

import errno
import os
import sys

from ecc_hooks.core import paths
from ecc_hooks.core.relay import read_payload  # the one stdin reader (lean: the hot path's commands use it)

FILE_MODE = 0o600
DIR_MODE = 0o700
READ_CAP = 64 << 20  # bytes: the most any whole-file read of ours takes
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# File types from st_mode (the ``stat`` module's constants, without importing it on the hot path).
_S_IFMT, _S_IFDIR, _S_IFREG, _S_IFLNK = 0o170000, 0o040000, 0o100000, 0o120000


class UnsafeFile(OSError):
    """A path we refuse to use: a link, a FIFO or device, or a state file or folder owned by someone else."""


class MissingFolder(UnsafeFile, FileNotFoundError):
    """The folder a path is reached from (a ``root``, the state folder) does not exist: a refusal the CLI reports
    with the folder's name, and still a ``FileNotFoundError`` for callers that treat a missing file as none."""


def _check(fd: int, path: str, directory: bool, owned: bool, tighten: bool = False) -> None:
    """Refuse what is not a regular file (or folder), or, when ``owned``, not ours; ``tighten`` a loose mode of ours."""
    st = os.fstat(fd)
    if directory and st.st_mode & _S_IFMT != _S_IFDIR:
        raise UnsafeFile(f"not a directory: {path}")
    if not directory and st.st_mode & _S_IFMT != _S_IFREG:
        raise UnsafeFile(f"not a regular file: {path}")
    if not owned:
        return
    if st.st_uid != os.geteuid():
        raise UnsafeFile(f"owned by uid {st.st_uid}, not by this user: {path}")
    if tighten and st.st_mode & 0o077:
        os.fchmod(fd, DIR_MODE if directory else FILE_MODE)


def _below(path: str, base: str) -> list[str] | None:
    """``path``'s components below ``base`` (both absolute, normalised), or None when it is not below it."""
    base = base.rstrip(os.sep) or os.sep
    prefix = base if base == os.sep else base + os.sep
    if not path.startswith(prefix):
        return None
    parts = path[len(prefix) :].split(os.sep)
    return parts if all(p and p not in (".", "..") for p in parts) else None


def _relative_to_home(path: str) -> list[str] | None:
    """``path``'s components below ``ECC_HOOKS_HOME``, or None when it is not a state path."""
    return _below(path, paths.home())


def _locate(path: str, root: str | None) -> tuple[str, list[str], bool] | None:
    """Where ``path`` is reached from: (the base folder, the components below it, is it the state folder), or
    None for a path with no base (opened as given). With ``root``, ``path`` must be below it."""
    if root is not None:
        parts = _below(os.path.normpath(path), os.path.normpath(root))
        if parts is None:
            raise UnsafeFile(f"not below {root}: {path}")
        return os.path.normpath(root), parts, False
    parts = _relative_to_home(path)
    return (paths.home(), parts, True) if parts is not None else None


def _open_dirs(base: str, parts: list[str], create: bool, state: bool) -> int:
    """A descriptor of the folder ``base/parts...``: every level below ``base`` opened without following a link
    (``O_NOFOLLOW`` relative to its parent's descriptor), every level ours. The state folder's levels are
    tightened to 0700; ``base`` itself is the user's setting (a link there is theirs), created only for state."""
    try:
        fd = os.open(base, _DIR_FLAGS)
    except FileNotFoundError:
        if not (create and state):
            raise MissingFolder(errno.ENOENT, "the folder does not exist", base) from None
        os.makedirs(base, DIR_MODE, exist_ok=True)
        fd = os.open(base, _DIR_FLAGS)
    except NotADirectoryError:
        raise UnsafeFile(f"not a folder: {base}") from None
    try:
        _check(fd, base, True, True, state)
        where = base
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
                try:
                    child = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise UnsafeFile(f"not a folder (a link?): {where}") from None
                    raise
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(f"not a folder (a link?): {where}") from None
                raise
            os.close(fd)
            fd = child
            _check(fd, where, True, True, state)
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_file(path: str, flags: int, mode: int = FILE_MODE, create_dirs: bool = False, root: str | None = None) -> int:
    """Open ``path`` safely; the one way ecc-hooks opens a file.

    A state path (below ``ECC_HOOKS_HOME``), or any path below a given ``root`` (a repository, a worktree, a
    coordination folder), is reached folder by folder without following any link, each folder and the file
    must belong to this user (the state folder's loose modes are tightened to 0700/0600), and ``create_dirs``
    creates missing folders at 0700. Any other path (a transcript) may be reached through links but must be a
    regular file. Either way the open never blocks on a FIFO (``O_NONBLOCK``) and a FIFO, socket or device is
    refused with ``UnsafeFile``.
    """
    where = _locate(path, root)
    if where is None:
        fd = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    else:
        base, parts, state = where
        if not parts:
            raise UnsafeFile(f"not a file below {base}: {path}")
        dfd = _open_dirs(base, parts[:-1], create_dirs, state)
        try:
            fd = os.open(parts[-1], flags | _NOFOLLOW, mode, dir_fd=dfd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO):
                raise UnsafeFile(f"a link or a FIFO: {path}") from None
            raise
        finally:
            os.close(dfd)
    try:
        _check(fd, path, False, where is not None, where is not None and where[2])
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_file(path: str, cap: int = READ_CAP, root: str | None = None) -> bytes:
    """The first ``cap`` bytes of a regular file (``open_file``'s rules); OSError when missing or refused."""
    fd = open_file(path, os.O_RDONLY, root=root)
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


def ensure_state_dir(path: str, root: str | None = None) -> str:
    """Create the state folder ``path`` (and its parents below the home) at 0700, checked as ``open_file`` does;
    with ``root``, the folder ``path`` below ``root`` (``path`` may be ``root`` itself) the same way."""
    if root is not None and os.path.normpath(path) == os.path.normpath(root):
        os.close(_open_dirs(os.path.normpath(root), [], False, False))
        return path
    where = _locate(path, root)
    if where is None:
        if path != paths.home():
            raise UnsafeFile(f"not below ECC_HOOKS_HOME: {path}")
        where = (path, [], True)
    os.close(_open_dirs(*where[:2], True, where[2]))
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


def atomic_write(path: str, data: bytes, mode: int = FILE_MODE, durable: bool = True, root: str | None = None) -> None:
    """Replace ``path`` with ``data`` atomically: temp file in the same folder, fsync, rename.

    ``durable=False`` skips the fsyncs: readers still never see a torn file, but a power cut
    may lose the update. The status line uses it for its sensor file, rewritten every render.
    The temp name is unique per call (pid plus random), so concurrent writers of one path,
    threads included, never share a temp file; a failed write or rename leaves no temp file.
    A state path's folder, or a folder below ``root``, is reached as ``open_file`` does (no links, ours,
    created on demand).
    """
    directory = os.path.dirname(path) or "."
    name = os.path.basename(path)
    where = _locate(path, root)
    if where is not None and not where[1]:
        raise UnsafeFile(f"not a file below {where[0]}: {path}")
    dfd = _open_dirs(where[0], where[1][:-1], True, where[2]) if where is not None else os.open(directory, _DIR_FLAGS)
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


def _split(rel: str) -> list[str]:
    """The components of a relative path; UnsafeFile for an absolute one or one with ``..``."""
    parts = [p for p in rel.split("/") if p and p != "."]
    if not parts or rel.startswith("/") or ".." in parts:
        raise UnsafeFile(f"not a path inside the folder: {rel}")
    return parts


def _remove_at(dfd: int, name: str) -> None:
    """Remove the entry ``name`` of the folder ``dfd``: a link itself (never its target), a file, or a folder
    with everything in it (``shutil.rmtree`` on descriptors, which never follows a link); nothing when missing."""
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if st.st_mode & _S_IFMT == _S_IFDIR:
        _rmtree_at(dfd, name)
    else:
        os.unlink(name, dir_fd=dfd)


_RMTREE_TAKES_DIR_FD: bool = sys.version_info >= (3, 11)


def _rmtree_at(dfd: int, name: str) -> None:
    """The folder ``name`` of the folder ``dfd`` with everything in it, on descriptors (no link followed):
    ``shutil.rmtree(dir_fd=)`` from Python 3.11, the same walk by hand on 3.10."""
    if _RMTREE_TAKES_DIR_FD:
        import shutil

        shutil.rmtree(name, dir_fd=dfd)
        return
    fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=dfd)
    try:
        for entry in os.scandir(fd):
            if entry.is_dir(follow_symlinks=False):
                _rmtree_at(fd, entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=dfd)


def remove(path: str, root: str) -> None:
    """Remove ``path`` (a file, a link or a folder) below ``root``, reached as ``open_file`` reaches it: nothing
    outside ``root`` is ever removed, even when a folder on the way was swapped for a link."""
    parts = _split(os.path.relpath(os.path.normpath(path), os.path.normpath(root)))
    try:
        dfd = _open_dirs(os.path.normpath(root), parts[:-1], False, False)
    except FileNotFoundError:
        return
    try:
        _remove_at(dfd, parts[-1])
    finally:
        os.close(dfd)


def copy_into(source_root: str, target_root: str, rel: str) -> None:
    """Copy ``rel`` (a file, a link as a link, or a folder and what is in it) from below ``source_root`` to the same
    place below ``target_root``, replacing what is there. Neither side follows a link on the way (every folder is
    opened as ``open_file`` opens one; a link is copied as a link, never read through), so nothing outside
    ``source_root`` is read and nothing outside ``target_root`` is written, replaced or deleted. FileNotFoundError
    when ``rel`` is missing, UnsafeFile when a folder on its way is a link or not ours."""
    parts = _split(rel)
    source = os.path.join(os.path.normpath(source_root), *parts)
    if _below(os.path.normpath(target_root), source) is not None or os.path.normpath(target_root) == source:
        raise UnsafeFile(f"{rel} holds the folder it would be copied into: {target_root}")
    sfd = _open_dirs(os.path.normpath(source_root), parts[:-1], False, False)
    try:
        os.stat(parts[-1], dir_fd=sfd, follow_symlinks=False)  # missing: FileNotFoundError before any change
        dfd = _open_dirs(os.path.normpath(target_root), parts[:-1], True, False)
        try:
            _copy_at(sfd, dfd, parts[-1], os.path.join(source_root, rel))
        finally:
            os.close(dfd)
    finally:
        os.close(sfd)


def _copy_at(sfd: int, dfd: int, name: str, where: str) -> None:
    """Copy the entry ``name`` of folder ``sfd`` to folder ``dfd`` (see ``copy_into``); FIFOs and devices are skipped."""
    st = os.stat(name, dir_fd=sfd, follow_symlinks=False)
    kind = st.st_mode & _S_IFMT
    if kind not in (_S_IFLNK, _S_IFDIR, _S_IFREG):
        return
    _remove_at(dfd, name)
    if kind == _S_IFLNK:
        os.symlink(os.readlink(name, dir_fd=sfd), name, dir_fd=dfd)
        return
    if kind == _S_IFDIR:
        child_s = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=sfd)
        try:
            os.mkdir(name, st.st_mode & 0o777 | 0o700, dir_fd=dfd)
            child_d = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=dfd)
            try:
                for entry in sorted(os.listdir(child_s)):
                    _copy_at(child_s, child_d, entry, os.path.join(where, entry))
            finally:
                os.close(child_d)
        finally:
            os.close(child_s)
        return
    src = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=sfd)
    try:
        _check(src, where, False, False)
        dst = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, st.st_mode & 0o777, dir_fd=dfd)
        try:
            while chunk := os.read(src, 1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(dst, view) :]
            os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(dst)
    finally:
        os.close(src)


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
