"""Finding 7: faults lose no data and write nothing that is not what it claims: a full disk, a read-only
state folder, an out-of-range number in settings, the hook's time bound, and commands printed for a person."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecc_hooks.capture import hook
from ecc_hooks.cli import install
from ecc_hooks.core import fsio
from tests.helpers import journal_lines, wait_until
from tests.security.support import cli, run_installed, session_payload

SESSION = "5ec0717e-0000-4000-8000-00000000d15c"
ROOT = os.geteuid() == 0


def big_event(n: int) -> bytes:
    return session_payload(
        SESSION,
        Path("/tmp"),
        "PreToolUse",
        tool_name="Bash",
        tool_use_id=f"t{n}",
        tool_input={"command": f"echo {n} " + "x" * 60_000},
    )


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 KiB tmpfs (root), unmounted afterwards; None when mounting is not possible here."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if (
        not ROOT
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
        ).returncode
        != 0
    ):
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until about ``leave`` bytes are free; the filler file."""
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while shutil.disk_usage(disk).free > leave:
                out.write(b"\0" * 4096)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_write_cut_short_by_a_full_disk_never_swallows_the_next_event(
    small_disk: Path | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if small_disk is not None:  # a real full disk
        home = small_disk / "ecc"
        monkeypatch.setenv("ECC_HOOKS_HOME", str(home))
        assert (
            run_installed(
                "ecc_hooks.capture.hook",
                big_event(1),
                Path("/tmp"),
                {"ECC_HOOKS_HOME": str(home), "ECC_HOOKS_RAW": "1"},
            ).returncode
            == 0
        )
        filler = fill(small_disk, 20_000)  # less room than the next event needs
        assert (
            run_installed(
                "ecc_hooks.capture.hook",
                big_event(2),
                Path("/tmp"),
                {"ECC_HOOKS_HOME": str(home), "ECC_HOOKS_RAW": "1"},
            ).returncode
            == 0
        )
        filler.unlink()
        assert (
            run_installed(
                "ecc_hooks.capture.hook",
                big_event(3),
                Path("/tmp"),
                {"ECC_HOOKS_HOME": str(home), "ECC_HOOKS_RAW": "1"},
            ).returncode
            == 0
        )
    else:
        pytest.skip("no tmpfs here: test_an_injected_short_write_is_cut_back shows the same")
    records = journal_lines(home, SESSION)  # every line parses: no torn bytes glued to a record
    assert [r["toolUseId"] for r in records] == ["t1", "t3"]
    assert b"\n\n" not in (home / "sessions" / SESSION / "events.jsonl").read_bytes()


def test_an_injected_short_write_is_cut_back(ecc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same guarantee where no tmpfs can be mounted: os.write returns half of what it was given once.
    monkeypatch.setenv("ECC_HOOKS_RAW", "1")  # records of 60 KB, as raw mode keeps them
    hook.handle(big_event(1), None, time.time())
    real_write = os.write
    calls = {"n": 0}

    def short(fd: int, data: bytes) -> int:
        calls["n"] += 1
        return real_write(fd, data[: len(data) // 2]) if calls["n"] == 1 else real_write(fd, data)

    monkeypatch.setattr(fsio.os, "write", short)
    hook.handle(big_event(2), None, time.time())
    monkeypatch.setattr(fsio.os, "write", real_write)
    hook.handle(big_event(3), None, time.time())
    assert [r["toolUseId"] for r in journal_lines(ecc_home, SESSION)] == ["t1", "t3"]
    assert "short-write" in (ecc_home / "errors.log").read_text()


def test_the_watcher_survives_a_full_disk_and_catches_up(small_disk: Path | None) -> None:
    if small_disk is None:
        pytest.skip("needs a tmpfs (root)")
    home = small_disk / "ecc"
    env = {**os.environ, "ECC_HOOKS_HOME": str(home)}
    run_installed("ecc_hooks.capture.hook", session_payload(SESSION, Path("/tmp")), Path("/tmp"), env)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "watch", "--foreground", "--idle-exit", "60"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        hud = home / "sessions" / SESSION / "hud.json"
        wait_until(hud.exists, 20, "no first snapshot")
        turn = lambda: json.loads(hud.read_text())["context"]["turnState"]  # noqa: E731
        assert turn() == "idle"
        filler = fill(small_disk, 0)  # no free page: the journal's last page still takes a small record
        run_installed(
            "ecc_hooks.capture.hook",
            session_payload(SESSION, Path("/tmp"), "UserPromptSubmit", prompt="hi"),
            Path("/tmp"),
            env,
        )
        assert [r["event"] for r in journal_lines(home, SESSION)] == ["SessionStart", "UserPromptSubmit"]
        time.sleep(1.5)  # the watcher tries, and fails, to write its state and snapshot
        assert watcher.poll() is None, "the watcher died on a full disk"
        assert turn() == "idle"
        filler.unlink()
        wait_until(lambda: turn() == "running", 20, "the watcher never caught up once the disk had room")
    finally:
        watcher.terminate()
        _, err = watcher.communicate(timeout=30)
    assert b"Traceback" not in err


def test_a_read_only_state_folder_makes_the_watcher_exit_cleanly(small_disk: Path | None) -> None:
    if small_disk is None:
        pytest.skip("needs a tmpfs (root)")
    home = small_disk / "ecc"
    env = {**os.environ, "ECC_HOOKS_HOME": str(home)}
    run_installed("ecc_hooks.capture.hook", session_payload(SESSION, Path("/tmp")), Path("/tmp"), env)
    assert subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "watch", "--foreground", "--idle-exit", "1"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1 and b"Traceback" not in done.stderr and b"watcher lock" in done.stderr


def test_install_never_writes_what_is_not_json(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text('{"model": "opus", "someLimit": 1e999, "tiny": -1e-999, "n": [1E400]}\n')
    assert cli("install", "--settings-file", str(settings), cwd=tmp_path).returncode == 0
    text = settings.read_text()
    assert "Infinity" not in text and "1e999" in text and "1E400" in text

    def refuse(name: str) -> None:
        raise ValueError(name)

    json.loads(text, parse_constant=refuse)  # strict JSON: no NaN/Infinity
    node = shutil.which("node")
    if node:  # what Claude Code itself runs on
        assert (
            subprocess.run(
                [node, "-e", "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))", str(settings)],
                capture_output=True,
            ).returncode
            == 0
        )


def test_the_installed_timeout_exceeds_every_bound_of_the_hook(tmp_path: Path, ecc_home: Path) -> None:
    assert install.HOOK_TIMEOUT >= 2 * hook.TIME_BOUND > hook.STDIN_TIMEOUT
    # A real hook whose stdin never closes returns by itself, within what Claude Code allows it.
    proc = subprocess.Popen(
        install.python_argv("ecc_hooks.capture.hook"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    proc.stdin.write(session_payload(SESSION, tmp_path, "Stop")[:-1])  # no closing brace, no EOF
    proc.stdin.flush()
    try:
        assert proc.wait(timeout=install.HOOK_TIMEOUT) == 0  # stdin still open: the hook ended it itself
    finally:
        proc.stdin.close()
        proc.kill()
    assert proc.stdout.read() == b""
    assert json.loads((ecc_home / "errors.log").read_text().splitlines()[-1])["kind"] == "timeout"


@pytest.mark.parametrize("session", ["--dangerously-skip-permissions", "-p"])
def test_a_printed_resume_command_passes_the_id_as_a_value(tmp_path: Path, ecc_home: Path, session: str) -> None:
    cwd = tmp_path / 'it\'s a "dir" $(x)'
    cwd.mkdir()
    run_installed("ecc_hooks.capture.hook", session_payload(session, cwd), cwd)
    run_installed("ecc_hooks.capture.hook", session_payload(session, cwd, "UserPromptSubmit", prompt="go"), cwd)
    done = cli("inspect", "--target-type", "session-id", "--markdown", "--", session)
    assert done.returncode == 0, done.stderr
    command = re.search(rb"`(cd .* && claude [^`]*)`", done.stdout).group(1).decode()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "claude").write_text('#!/bin/sh\npwd\nfor a in "$@"; do echo "arg:$a"; done\n')
    (fake / "claude").chmod(0o755)
    ran = subprocess.run(
        ["sh", "-c", command],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"},
    )
    lines = ran.stdout.splitlines()
    assert lines[0] == str(cwd)
    # "--resume" then "-p" as two arguments is read as two flags: the id must travel inside the option
    assert lines[1:] == [f"arg:--resume={session}"]
