"""fsio: appends, bounded logs, atomic writes and incremental line reads on real files."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from ecc_hooks.core import fsio
from ecc_hooks.core.fsio import Cursor, read_new_block


def read_new_lines(path: str, cursor: Cursor, max_bytes: int | None = None) -> tuple[list[bytes], Cursor]:
    """``read_new_block`` split into lines, as its callers do (on b"\n" only: a stray b"\r" stays in its line)."""
    block = read_new_block(path, cursor, max_bytes if max_bytes is not None else 1 << 62)
    return (block.data[:-1].split(b"\n") if block.data else []), block.cursor


def test_append_line_adds_the_newline_and_uses_0600(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    assert fsio.append_line(str(path), b'{"a":1}')
    assert fsio.append_line(str(path), b'{"b":2}\n')
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_append_bounded_rolls_over(tmp_path: Path) -> None:
    path, cap = tmp_path / "errors.log", 1000
    sent = [b"%04d" % i + b"x" * 95 + b"\n" for i in range(25)]
    for line in sent:
        fsio.append_bounded(str(path), line, cap)
    rolled = Path(str(path) + ".1")
    assert path.stat().st_size <= cap and rolled.stat().st_size <= cap
    kept = rolled.read_bytes() + path.read_bytes()
    assert kept.endswith(sent[-1])
    count = kept.count(b"\n")
    assert kept == b"".join(sent[-count:])  # a contiguous, whole-line suffix of what was written
    assert count >= cap // len(sent[0])  # at least one full log's worth survives a roll


# ------------------------------------------------------------------------ read_new_lines


def test_half_written_last_line_waits(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b"one\ntwo\nthr")
    lines, cursor = read_new_lines(str(path), Cursor())
    assert lines == [b"one", b"two"]
    assert cursor.offset == len(b"one\ntwo\n")
    again, same = read_new_lines(str(path), cursor)
    assert (again, same) == ([], cursor)
    with open(path, "ab") as f:
        f.write(b"ee\nfour\n")
    lines, cursor = read_new_lines(str(path), cursor)
    assert lines == [b"three", b"four"]
    assert cursor.offset == path.stat().st_size


def test_no_newline_at_all(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b"partial")
    lines, cursor = read_new_lines(str(path), Cursor())
    assert lines == [] and cursor.offset == 0 and cursor.ino == path.stat().st_ino


def test_missing_file(tmp_path: Path) -> None:
    assert read_new_lines(str(tmp_path / "nope"), Cursor(1, 2, 3)) == ([], Cursor())


def test_truncation_reads_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b"a\nb\nc\n")
    _, cursor = read_new_lines(str(path), Cursor())
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(b"x\n")
    lines, cursor2 = read_new_lines(str(path), cursor)
    assert lines == [b"x"] and cursor2.offset == 2


def test_replacement_reads_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b"old1\nold2\nold3\n")
    _, cursor = read_new_lines(str(path), Cursor())
    fsio.atomic_write(str(path), b"new1\nnew2\nnew3\nnew4\n")  # longer than the offset: only the inode tells
    lines, cursor2 = read_new_lines(str(path), cursor)
    assert lines == [b"new1", b"new2", b"new3", b"new4"]
    st = path.stat()
    assert (cursor2.dev, cursor2.ino) == (st.st_dev, st.st_ino) != (cursor.dev, cursor.ino)


def test_max_bytes_bounds_a_call_and_the_rest_follows(tmp_path: Path) -> None:
    path = tmp_path / "j"
    lines_in = [b"%03d" % i for i in range(100)]
    path.write_bytes(b"\n".join(lines_in) + b"\n")
    got, cursor, calls = [], Cursor(), 0
    while True:
        lines, cursor = read_new_lines(str(path), cursor, max_bytes=50)
        if not lines:
            break
        assert sum(len(x) + 1 for x in lines) <= 50
        got += lines
        calls += 1
    assert got == lines_in
    assert calls >= len(path.read_bytes()) // 50


def test_a_line_longer_than_max_bytes_still_completes(tmp_path: Path) -> None:
    path = tmp_path / "j"
    long = b"L" * 5000
    path.write_bytes(b"a\n" + long + b"\nb\n")
    lines, cursor = read_new_lines(str(path), Cursor(), max_bytes=10)
    assert lines == [b"a"]
    lines, cursor = read_new_lines(str(path), cursor, max_bytes=10)
    assert lines[0] == long
    rest, cursor = read_new_lines(str(path), cursor, max_bytes=10)
    assert (lines[1:] + rest) == [b"b"]
    assert cursor.offset == path.stat().st_size


def test_a_long_line_still_being_written_is_not_returned(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(b"a\n" + b"L" * 5000)
    lines, cursor = read_new_lines(str(path), Cursor(), max_bytes=10)
    lines2, cursor2 = read_new_lines(str(path), cursor, max_bytes=10)
    assert lines == [b"a"] and lines2 == [] and cursor2 == cursor


def test_lines_split_on_newline_only(tmp_path: Path) -> None:
    """A stray carriage return (or form feed) is data, not a line break: one record stays one line."""
    path = tmp_path / "j"
    path.write_bytes(b'{"a":"x\ry"}\n{"b":"\x0c\x1c"}\n\n')
    lines, _ = read_new_lines(str(path), Cursor())
    assert lines == [b'{"a":"x\ry"}', b'{"b":"\x0c\x1c"}', b""]


# ------------------------------------------------------------------------ atomic_write


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("durable", [True, False])
def test_atomic_write_replaces_and_leaves_no_temp(tmp_path: Path, durable: bool) -> None:
    path = tmp_path / "hud.json"
    fsio.atomic_write(str(path), b"first", durable=durable)
    fsio.atomic_write(str(path), b"second", durable=durable)
    assert path.read_bytes() == b"second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hud.json"]


def test_atomic_write_failure_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "adir"
    target.mkdir()
    (target / "keep").write_text("x")  # a non-empty directory cannot be replaced by a file
    with pytest.raises(OSError):
        fsio.atomic_write(str(target), b"data")
    assert leftovers(tmp_path) == []
    assert (target / "keep").read_text() == "x"


def test_atomic_write_from_many_threads(tmp_path: Path) -> None:
    """Threads of one process writing one path: each result is one whole write, no errors, no temp files."""
    path = tmp_path / "snap.json"
    writes = {bytes([65 + t]) * (20_000 + t) for t in range(16)}
    errors: list[BaseException] = []

    def writer(data: bytes) -> None:
        try:
            for _ in range(20):
                fsio.atomic_write(str(path), data, durable=False)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(data,)) for data in writes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_bytes() in writes
    assert leftovers(tmp_path) == []


def test_cursor_is_a_plain_tuple() -> None:
    assert Cursor() == (0, 0, 0)
    assert Cursor(1, 2, 3)._replace(offset=9) == Cursor(dev=1, ino=2, offset=9)
