"""A read-only ``runtime.db`` (mode 0400) is still read: ``session list``, ``status``, ``diff``, ``conflicts`` and
``merge-queue`` show what it holds, while a command that writes it (``stop``, ``merge-queue --apply``) refuses
with what to do, never "internal error". Nothing is written: the file's bytes, time and mode stay, and no
``-wal``, ``-shm`` or journal appears beside it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tests.helpers import ecc, make_repo
from tests.test_runtime_store import new_store, worker


def test_a_read_only_runtime_db_is_read_and_only_writes_refuse(ecc_home: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    opened = new_store("ro", [worker("w1", "ro"), worker("w2", "ro")])
    opened.db.execute("UPDATE sessions SET repo_root = ?, coordination_dir = ?",
                      (str(repo), str(repo / ".orchestration" / "ro")))  # fmt: skip
    opened.close()
    (repo / ".orchestration" / "ro").mkdir(parents=True)
    path = ecc_home / "runtime.db"
    path.chmod(0o400)
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_mode)
    beside = sorted(os.listdir(ecc_home))
    listed = ecc("session", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(s["session"], [w["id"] for w in s["workers"]]) for s in json.loads(listed.stdout)] == [
        ("ro", ["w1", "w2"])
    ]
    human = ecc("session", "list", cwd=tmp_path)
    assert human.returncode == 0 and "ro  2 pending" in human.stdout, (human.stdout, human.stderr)
    assert "read-only" in human.stderr  # said once, on stderr: nothing could be brought up to date
    for args in (("status", "ro"), ("diff", "ro", "--stat"), ("conflicts", "ro"), ("merge-queue", "ro")):
        done = ecc("session", *args, cwd=tmp_path)
        assert "internal error" not in done.stderr and "chmod u+w" not in done.stderr, (args, done.stderr)
        assert done.returncode == 0 or args[0] != "status", (args, done.returncode, done.stderr)
    for args in (("stop", "ro"), ("merge-queue", "ro", "--apply")):
        done = ecc("session", *args, cwd=tmp_path)
        assert done.returncode == 1, (args, done.returncode, done.stderr)
        assert "read-only" in done.stderr and f"chmod u+w {path}" in done.stderr, (args, done.stderr)
        assert "internal error" not in done.stderr
    after = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_mode)
    assert after == before
    assert sorted(os.listdir(ecc_home)) == beside  # no -wal, -shm or journal made beside it


def test_an_empty_read_only_runtime_db_says_what_to_do(ecc_home: Path, tmp_path: Path) -> None:
    ecc_home.mkdir(mode=0o700)
    path = ecc_home / "runtime.db"
    path.write_bytes(b"")
    path.chmod(0o400)
    done = ecc("session", "list", cwd=tmp_path)
    assert done.returncode == 1 and f"chmod u+w {path}" in done.stderr and "internal error" not in done.stderr
    assert path.read_bytes() == b"" and sorted(os.listdir(ecc_home)) == ["runtime.db"]
