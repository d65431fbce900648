"""``session logs NAME [--worker W] [-f]`` with real workers in real tmux (a private socket) and headless: a headless
worker's log, a pane's whole scrollback while it is there and the saved one after, redacted and inert in a terminal;
``-f`` prints as the worker does and returns when it finishes. ``attach`` on a headless-only session points there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, ecc, make_repo, wait_until

KEY = "sk-ant-api03-" + "k" * 40


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def state(name: str, slug: str) -> str:
    from ecc_hooks.runtime import store

    return store.Store().worker(name, slug).state


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", identity=True)


def follow(repo: Path, out: Path, *args: str) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks", "session", "logs", *args, "-f"],
            cwd=repo, stdout=sink, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip


def finish(process: subprocess.Popen[bytes]) -> int:
    """Its exit status (killed if it still runs after 60 s: a follow that never returns fails the test)."""
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9
    finally:
        assert process.stderr is not None
        process.stderr.close()


def test_a_headless_workers_log_read_and_followed_redacted_and_inert(tmp_path: Path, repo: Path, runtime: str) -> None:
    go = tmp_path / "go"
    step = (
        f"echo first line; echo 'key {KEY}'; printf 'red \\033[31mtext\\033[0m \\033]0;title\\007done\\n'; "
        f"while [ ! -e {go} ]; do sleep 0.1; done; echo second line; printf 'no newline at the end'"
    )
    workers = [{"name": "w", "task": "t", "runtime": "headless", "launcherCommand": step}]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "hl", workers)), "--execute", cwd=repo).returncode
        == 0
    )
    wait_until(lambda: state("hl", "w") == "running", 30, lambda: state("hl", "w"))
    out = tmp_path / "followed"
    process = follow(repo, out, "hl", "--worker", "w")
    wait_until(lambda: b"first line" in out.read_bytes(), 30, lambda: out.read_text())
    assert process.poll() is None  # it waits for more while the worker runs
    go.write_text("")
    assert finish(process) == 0  # and returns by itself once the worker finished
    text = out.read_text()
    assert text.splitlines()[0] == "first line" and "second line\nno newline at the end" in text
    assert KEY not in text and "\x1b" not in text and "\x07" not in text and "red text done" in text
    once = ecc("session", "logs", "hl", "--worker", "w", cwd=repo)
    assert once.returncode == 0, once.stderr
    assert once.stdout == text  # read once: the same
    attach = ecc("session", "attach", "hl", cwd=repo)
    assert attach.returncode == 1 and "no pane" in attach.stderr and "session logs hl" in attach.stderr


def test_a_panes_scrollback_live_followed_and_after_it_is_gone(tmp_path: Path, repo: Path, runtime: str) -> None:
    go = tmp_path / "go"
    step = (
        f"i=1; while [ $i -le 300 ]; do echo row $i; i=$((i+1)); done; echo 'key {KEY}'; "
        f"while [ ! -e {go} ]; do sleep 0.1; done; echo last row; exit 3"
    )
    workers = [
        {"name": "w", "task": "t", "launcherCommand": step},
        {"name": "idle", "task": "t", "launcherCommand": "sleep 300"},
    ]
    assert (
        ecc("session", "create", str(plan(tmp_path / "p.json", repo, "tm", workers)), "--execute", cwd=repo).returncode
        == 0
    )
    wait_until(lambda: "row 300" in ecc("session", "logs", "tm", "--worker", "w", cwd=repo).stdout, 30, "the rows")
    live = ecc("session", "logs", "tm", "--worker", "w", cwd=repo).stdout.splitlines()
    assert live[:300] == [f"row {i}" for i in range(1, 301)]  # the history too, not only the screen
    assert KEY not in "\n".join(live)
    both = ecc("session", "logs", "tm", cwd=repo)
    assert both.returncode == 0 and "==> w (tmux): pane %" in both.stdout and "==> idle (tmux)" in both.stdout
    several = ecc("session", "logs", "tm", "-f", cwd=repo)
    assert several.returncode == 1 and "--worker" in several.stderr
    out = tmp_path / "followed"
    process = follow(repo, out, "tm", "--worker", "w")
    wait_until(lambda: "row 300" in out.read_text(), 30, lambda: out.read_text()[-300:])
    go.write_text("")
    assert finish(process) == 0
    followed = out.read_text().splitlines()
    assert followed[0] == "row 1" and "last row" in followed and followed.count("row 300") == 1
    from ecc_hooks.runtime import store

    wait_until(lambda: store.Store().worker("tm", "w").handoff_done, 30, lambda: state("tm", "w"))  # it finished
    ended = ecc("session", "logs", "tm", "--worker", "w", cwd=repo).stdout.rstrip("\n").splitlines()
    assert ended[-1] == "last row", ended[-3:]  # what it printed last: no blank rows, no tmux "Pane is dead" line
    subprocess.run(["tmux", "-L", runtime, "kill-server"], capture_output=True)  # every pane gone
    kept = ecc("session", "logs", "tm", "--worker", "w", cwd=repo)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.splitlines()[:300] == [f"row {i}" for i in range(1, 301)] and "last row" in kept.stdout
    assert KEY not in kept.stdout
    none = ecc("session", "logs", "tm", "--worker", "idle", cwd=repo)
    assert none.returncode == 0 and "no output kept for idle" in none.stdout


def test_a_dead_panes_text_ends_where_the_workers_output_does() -> None:
    """A pane whose program ended shows tmux's own line under its output and the screen's blank rows below it (the
    trial saw 40 of them): neither is the worker's."""
    from ecc_hooks.runtime.logs import _tidy

    screen = "row 1\nlast row\n\nPane is dead (status 3, Mon Dec  7 05:00:00 2026)\n" + "\n" * 40
    assert _tidy(screen) == "row 1\nlast row"
    assert _tidy("row 1\n  \n") == "row 1" and _tidy(None) is None
