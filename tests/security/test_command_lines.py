"""No environment value of the caller in any command line the runtime starts (issue 23, finding 1).

``/proc/PID/cmdline`` (``ps``) is readable by every local user: the tmux server kept ``-eK=V`` for every variable
for its life, and the wrappers exported the worker's environment in their ``sh -c`` line. Here the caller's
environment holds canary secrets; sessions with tmux and headless workers are made once by the CLI itself and once
through a running supervisor's helper, with a ``worktree_created`` hook held open; while everything is alive,
every process's command line is scanned: no canary anywhere on the machine, and no ``NAME=value`` of the caller's
environment in any process the runtime started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import REPO, ecc, make_repo, wait_until


def canaries() -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": "sk-ant-api03-" + secrets.token_urlsafe(60),
        "GH_TOKEN": "ghp_" + secrets.token_hex(18),
        "ECC_CANARY": secrets.token_hex(16),
        "ECC_CANARY_SPACED": "two words " + secrets.token_hex(16),
    }


def processes() -> Iterator[tuple[int, bytes, bytes]]:
    """(pid, command line, environment) of every process this test may read (another's environ is skipped)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            environ = b""
        yield int(entry), cmdline, environ


def ours(environ: bytes, home: Path) -> bool:
    """A process the runtime started for this test (it carries this test's ECC_HOOKS_HOME)."""
    return f"ECC_HOOKS_HOME={home}".encode() in environ.split(b"\0")


def leaks(home: Path, secret: dict[str, str]) -> list[str]:
    """Every command line holding a canary (any process), or a ``NAME=value`` of the caller (the runtime's)."""
    pairs = [f"{k}={v}".encode() for k, v in os.environ.items() if v]
    found = []
    for pid, cmdline, environ in processes():
        shown = cmdline.replace(b"\0", b" ")
        hit = [k for k, v in secret.items() if v.encode() in cmdline]
        if ours(environ, home):
            hit += [p.split(b"=", 1)[0].decode() for p in pairs if p in cmdline]
        if hit:
            found.append(f"{pid}: {sorted(set(hit))} in {shown[:300]!r}")
    return found


def started(home: Path) -> list[str]:
    """The command lines of the runtime's processes (what was scanned)."""
    return [cmd.replace(b"\0", b" ").decode("utf-8", "replace")[:120] for _, cmd, env in processes() if ours(env, home)]


def sleepers(home: Path) -> list[bytes]:
    """The environments of the workers' ``sleep 60`` processes."""
    return [env for _, cmd, env in processes() if cmd == b"sleep\x0060\x00" and ours(env, home)]


def kill_ours(home: Path) -> None:
    """Whatever the runtime started for this test and is still there (headless workers, the supervisor)."""
    for pid, _, environ in processes():
        if ours(environ, home):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def plan(path: Path, repo: Path, name: str) -> Path:
    workers = [
        {"name": "pane", "task": "t", "launcherCommand": "sleep 60"},
        {"name": "bg", "task": "t", "runtime": "headless", "launcherCommand": "sleep 60"},
    ]
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def create_held(repo: Path, plan_file: Path, gate: Path, tag: str) -> tuple[subprocess.Popen[str], list[int]]:
    """Start a create whose ``worktree_created`` hook holds until ``gate`` exists; once the hook runs: the
    create and the pids of the process that ran the hook (the CLI, or the zygote's child)."""
    create = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", "session", "create", str(plan_file), "--execute", "--trust-hooks"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marker = gate.parent / f"hook-{tag}"
    wait_until(lambda: marker.exists() and marker.read_text().endswith("\n"), 60, f"the {tag} create's hook")
    return create, [int(x) for x in marker.read_text().split()]


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        stat = handle.read()
    return int(stat[stat.rfind(b")") + 2 :].split()[1])


def test_no_process_the_runtime_starts_shows_the_callers_environment(
    tmp_path: Path, runtime: str, ecc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecc_hooks.runtime import daemon

    secret = canaries()
    for key, value in secret.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ECC_HOOKS_SUPERVISOR_TICK", "0.3")
    repo = make_repo(tmp_path / "repo", identity=True)
    hooks = repo / ".ecc" / "hooks"
    hooks.mkdir(parents=True)
    gate = tmp_path / "gate"
    # the hook says who ran it ($PPID: the create's process), then holds until the test has scanned
    (hooks / "worktree_created").write_text(
        f'#!/bin/sh\necho "$PPID" > {tmp_path}/hook-$ECC_SESSION.tmp\n'
        f"mv {tmp_path}/hook-$ECC_SESSION.tmp {tmp_path}/hook-$ECC_SESSION\n"
        f"while [ ! -e {gate}-$ECC_SESSION ]; do sleep 0.1; done\n"
    )
    (hooks / "worktree_created").chmod(0o755)
    creates: list[subprocess.Popen[str]] = []
    scanned: list[str] = []
    try:
        for name, delegated in (("direct", False), ("served", True)):
            gate_file = Path(f"{tmp_path / 'gate'}-{name}")
            if delegated:  # the first create left a supervisor running: this one goes through its zygote
                wait_until(lambda: (ecc_home / "supervisor.sock").exists(), 60, "the supervisor's socket")
            create, (runner,) = create_held(repo, plan(tmp_path / f"{name}.json", repo, name), gate_file, name)
            creates.append(create)
            if delegated:
                zygote = parent_of(runner)
                assert runner != create.pid and parent_of(zygote) == daemon.running(), "not delegated"
            else:
                assert runner == create.pid
            found = leaks(ecc_home, secret)  # the hook, the CLI, the supervisor and the zygote, any pane alive
            assert not found, "\n".join(found)
            gate_file.touch()
            out, err = create.communicate(timeout=120)
            assert create.returncode == 0, out + err
        wait_until(lambda: len(sleepers(ecc_home)) >= 4, 60, lambda: "\n".join(started(ecc_home)))
        scanned = started(ecc_home)
        found = leaks(ecc_home, secret)  # the tmux server, its panes, the wrappers, the headless workers
        assert not found, "\n".join(found)
        assert any(c.startswith("tmux") for c in scanned), scanned  # the tmux server was among them
        # the workers still got the caller's environment (through theirs, not their command lines)
        for environ in sleepers(ecc_home):
            assert f"ECC_CANARY_SPACED={secret['ECC_CANARY_SPACED']}".encode() in environ.split(b"\0")
            assert b"ECC_WORKER=" in environ
    finally:
        for name in ("direct", "served"):
            Path(f"{tmp_path / 'gate'}-{name}").touch()
        for create in creates:
            if create.poll() is None:
                create.kill()
            create.communicate(timeout=60)
        for name in ("direct", "served"):
            ecc("session", "stop", name, "--grace", "1", cwd=repo)
        kill_ours(ecc_home)  # the runtime fixture then kills the tmux server and waits for the supervisor


FAKE_CLAUDE = """#!/bin/sh
# a stand-in for Claude Code: its version; else its prompt, piped (headless) or pasted into its input box
[ "$1" = --version ] && { echo "2.1.0 (Claude Code)"; exit 0; }
if [ -t 0 ]; then printf '\\342\\235\\257 \\n'; read -r line; echo "$line" > "$0.prompt-$$"
else cat > "$0.prompt-$$"; fi
exec sleep 60
"""


def test_no_command_line_shows_a_workers_task(
    tmp_path: Path, runtime: str, ecc_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task holding a secret: in no wrapper's command line (the command travels in the environment), not in a
    headless Claude Code's (its prompt is piped to ``claude -p``), not an interactive one's (pasted into its input
    box through a ``tmux`` buffer loaded from stdin), not in a script worker's."""
    canary = "ghp_" + secrets.token_hex(18)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    fake.write_text(FAKE_CLAUDE)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    repo = make_repo(tmp_path / "repo")
    task = f"deploy with token {canary} now"
    workers = [
        {"name": "pane", "task": task, "agent": "claude"},
        {"name": "bg", "task": task, "agent": "claude", "runtime": "headless"},
        {"name": "script", "task": task, "launcherCommand": f": {canary}; exec sleep 60"},
        {"name": "script-bg", "task": task, "runtime": "headless", "launcherCommand": f": {canary}; exec sleep 60"},
    ]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"sessionName": "tasks", "repoRoot": str(repo), "workers": workers}))
    try:
        done = ecc("session", "create", str(plan_file), "--execute", cwd=repo)
        assert done.returncode == 0, done.stdout + done.stderr
        wait_until(lambda: len(sleepers(ecc_home)) >= 4, 60, lambda: "\n".join(started(ecc_home)))
        shown = [(pid, cmdline.replace(b"\0", b" ")) for pid, cmdline, _ in processes()]
        found = [f"{pid}: {line[:300]!r}" for pid, line in shown if canary.encode() in line]
        assert not found, "\n".join(found)
        # both Claude Code workers got their task (headless: on stdin; in a pane: pasted once its box is up)
        prompts = lambda: [p.read_text() for p in bin_dir.glob("claude.prompt-*")]  # noqa: E731
        wait_until(lambda: sum(canary in p for p in prompts()) == 2, 30, lambda: str(prompts()))
    finally:
        ecc("session", "stop", "tasks", "--grace", "1", cwd=repo)
        kill_ours(ecc_home)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=200))
def test_a_piped_prompt_reaches_the_agent_byte_for_byte(tmp_path: Path, prompt: str) -> None:
    """Whatever the task holds (quotes, ``$``, backticks, newlines, a leading ``-``): the wrapper, given the
    command through its environment, pipes exactly the prompt to the agent."""
    from ecc_hooks.runtime import agents, launch

    command = agents.get("claude").command(["cat"], stdin=prompt)
    exit_file = tmp_path / "exit"
    argv, carried = launch.wrapper(command, worktree=str(tmp_path), exit_file=str(exit_file))
    done = subprocess.run(argv, env={"PATH": os.defpath, **carried}, capture_output=True, timeout=30)
    assert done.stdout == prompt.encode() and exit_file.read_text() == "0\n"
    other, _ = launch.wrapper("true", worktree=str(tmp_path), exit_file=str(exit_file))
    assert argv == other  # its command line is the same whatever it runs
