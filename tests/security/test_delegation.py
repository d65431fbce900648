"""A create handed to the supervisor's helper (the zygote) runs in the caller's context, or in the caller itself
(issue 23, finding 9): the caller's umask applies, a caller in another network namespace is not served by a
helper in this one, and no request waits behind another's slow setup."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, make_repo, wait_until

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="unshare -rn and the checks below run as root")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", identity=True)
    return repo


@pytest.fixture
def served(runtime: str, ecc_home: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A running supervisor (with its zygote listening), started with the usual umask 022."""
    old = os.umask(0o022)
    try:
        supervise = subprocess.Popen(
            [sys.executable, "-m", "ecc_hooks", "session", "supervise"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    finally:
        os.umask(old)
    try:
        wait_until((ecc_home / "supervisor.sock").exists, 60, "the supervisor's socket")
        yield supervise
    finally:
        supervise.kill()
        supervise.wait(timeout=30)
        wait_until(lambda: not (ecc_home / "supervisor.sock").exists(), 30, "its zygote to follow it")


def plan(path: Path, repo: Path, name: str, **worker: Any) -> Path:
    spec = {"name": "w", "task": "t", "runtime": "headless", "launcherCommand": "true", **worker}
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": [spec]}))
    return path


def create(repo: Path, plan_file: Path, prefix: list[str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    argv = [*(prefix or []), sys.executable, "-m", "ecc_hooks", "session", "create", str(plan_file), "--execute"]
    return subprocess.Popen(
        [*argv, "--trust-hooks"],  # the tests' own hooks: trusted (issue 23, finding 7)
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> None:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out + err


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        data = handle.read()
    return int(data[data.rfind(b")") + 2 :].split()[1])


def hook(repo: Path, body: str) -> None:
    hooks = repo / ".ecc" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    (hooks / "worktree_created").write_text("#!/bin/sh\n" + body)
    (hooks / "worktree_created").chmod(0o755)


def test_a_delegated_create_takes_the_callers_umask(
    tmp_path: Path, repo: Path, served: subprocess.Popen[bytes]
) -> None:
    # the hook makes a file and a folder, says which process ran it (the zygote's child: delegated), and holds
    # until the test has looked at that process
    hook(
        repo,
        'touch made.txt && mkdir made.d && echo "$PPID" > ../runner.tmp && mv ../runner.tmp ../runner\n'
        "while [ ! -e ../go ]; do sleep 0.1; done\n",
    )
    proc = create(repo, plan(tmp_path / "p.json", repo, "private"), umask=0o077)
    try:
        runner = int(wait_until(lambda: (tmp_path / "runner").exists() and (tmp_path / "runner").read_text(), 60,
                                "the hook"))  # fmt: skip
        assert parent_of(parent_of(runner)) == served.pid, "the create was not delegated"
    finally:
        (tmp_path / "go").touch()
    finish(proc)
    worktree = tmp_path / "repo-private-w"
    modes = {name: stat.S_IMODE((worktree / name).stat().st_mode) for name in ("a.txt", "made.txt", "made.d", ".git")}
    assert modes == {"a.txt": 0o600, "made.txt": 0o600, "made.d": 0o700, ".git": 0o600}, {
        k: oct(v) for k, v in modes.items()
    }


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_a_caller_in_another_network_namespace_creates_in_its_own(
    tmp_path: Path, repo: Path, served: subprocess.Popen[bytes]
) -> None:
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -rn is not allowed here")
    hook(repo, "readlink /proc/self/ns/net > ../seen\n")
    expected = tmp_path / "expected"
    shell = f'readlink /proc/self/ns/net > {expected} && exec "$@"'
    proc = create(repo, plan(tmp_path / "p.json", repo, "isolated"), ["unshare", "-rn", "/bin/sh", "-c", shell, "sh"])
    finish(proc)
    mine = os.readlink("/proc/self/ns/net")
    assert expected.read_text().strip() != mine  # the caller really was elsewhere
    assert (tmp_path / "seen").read_text() == expected.read_text()  # and its create ran there


def test_no_create_waits_behind_another_ones_slow_setup(
    tmp_path: Path, repo: Path, served: subprocess.Popen[bytes]
) -> None:
    release = tmp_path / "release"
    slow: list[subprocess.Popen[str]] = []
    quick: list[subprocess.Popen[str]] = []
    try:
        for n in range(4):
            setup = f"touch {tmp_path}/setup-{n}; while [ ! -e {release} ]; do sleep 0.1; done"
            slow.append(create(repo, plan(tmp_path / f"slow{n}.json", repo, f"slow{n}", setup=[setup])))
        wait_until(lambda: all((tmp_path / f"setup-{n}").exists() for n in range(4)), 120, "the four setups")
        # the four are held until the fifth has returned: on a helper that waits for each request's child in
        # one of its four threads, the fifth never gets an answer before the release (the timeout fails it)
        quick.append(create(repo, plan(tmp_path / "quick.json", repo, "quick")))
        finish(quick[0], timeout=90)
        assert not release.exists()
    finally:
        release.touch()
        for proc in slow + quick:
            try:
                proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
    for proc in slow:
        assert proc.returncode == 0


def test_the_helper_itself_declines_a_caller_in_another_namespace(
    tmp_path: Path, ecc_home: Path, served: subprocess.Popen[bytes]
) -> None:
    """Defence in depth: a request sent past the CLI's own check (here by hand, from another network namespace)
    is answered "not delegated" and nothing runs."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rn", "true"]).returncode != 0:
        pytest.skip("unshare -rn is not available")
    from ecc_hooks.runtime import protocol, records

    context = protocol.Context(str(tmp_path), {**os.environ, "ECC_HOOKS_HOME": str(ecc_home)}, 0o022)
    request = protocol.encode_request(records.ListSessions(), context).decode()
    code = (
        "import socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);s.sendall(sys.argv[2].encode());"
        "s.shutdown(socket.SHUT_WR);sys.stdout.write(s.makefile('rb').read().decode())"
    )
    done = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c", code, str(ecc_home / "supervisor.sock"), request],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == {"v": protocol.VERSION, "declined": "context"}, done.stdout + done.stderr


def test_beyond_its_bound_the_helper_declines(ecc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``MAX_CHILDREN`` requests running, the next one is declined at once (the client runs it)."""
    import socket

    from ecc_hooks.runtime import protocol, records, server

    monkeypatch.setattr(server, "_children", {-(n + 2) for n in range(server.MAX_CHILDREN)})  # slots taken
    ours, theirs = socket.socketpair()
    with ours:
        ours.sendall(protocol.encode_request(records.ListSessions(), protocol.Context("/", {}, 0o022)))
        ours.shutdown(socket.SHUT_WR)
        server.handle(theirs)
        assert json.loads(ours.makefile("rb").read()) == {"v": protocol.VERSION, "declined": "context"}
