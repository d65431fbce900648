"""Issue 23, findings 6 and 7: a repository's lifecycle hooks (``.ecc/hooks``, ``.ecc/hooks.local``) run only with
the user's consent, per repository and content (Claude Code asks before a folder's project hooks run), and only as
the user trusted them when the command started: never what a worker wrote or a merge brought in."""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, git, make_repo, wait_until


def run(*args: str, cwd: Path, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """``ecc-hooks ARGS`` with no terminal (stdin from /dev/null, output captured), as a script or CI runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=stdin,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )


def hook(repo: Path, name: str, body: str, folder: str = "hooks", commit: bool = True) -> Path:
    path = repo / ".ecc" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    if commit:
        git(repo, "add", str(path))
        git(repo, "commit", "-qm", f"hook {name}")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", identity=True)
    return repo


def plan(tmp_path: Path, repo: Path, name: str, step: str = "true", **worker: object) -> Path:
    path = tmp_path / f"{name}.json"
    workers = [{"name": "w", "task": "t", "launcherCommand": step, **worker}]
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def states(repo: Path) -> dict[str, str]:
    listed = json.loads(run("session", "list", "--json", cwd=repo).stdout)
    return {f"{s['session']}/{w['id']}": w["state"] for s in listed for w in s["workers"]}


# ---------------------------------------------------------------------------- finding 7: consent


def test_without_a_terminal_or_the_flag_create_is_refused_and_runs_nothing(
    tmp_path: Path, repo: Path, runtime: str
) -> None:
    ran = tmp_path / "ran"
    path = hook(repo, "worktree_created", f"echo $ECC_WORKER >> {ran}")  # a fresh clone's committed hook
    done = run("session", "create", str(plan(tmp_path, repo, "fresh")), "--execute", cwd=repo)
    assert not ran.exists()  # nothing ran
    assert done.returncode == 1, done.stderr
    assert "not trusted" in done.stderr and "--trust-hooks" in done.stderr and str(path) in done.stderr
    assert not (tmp_path / "repo-fresh-w").exists() and git(repo, "branch", "--list", "orchestrator-*") == ""
    assert "Traceback" not in done.stderr


def test_the_dry_run_lists_the_hooks_and_the_setup_commands(tmp_path: Path, repo: Path, ecc_home: Path) -> None:
    ran = tmp_path / "ran"
    path = hook(repo, "worktree_created", f"echo $ECC_WORKER >> {ran}")
    done = run("session", "create", str(plan(tmp_path, repo, "dry", setup=["make deps"])), cwd=repo)
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    [listed] = preview["hooks"]
    assert listed["hook"] == "worktree_created" and listed["path"] == str(path) and listed["trusted"] is False
    assert listed["origin"] == "repository" and len(listed["sha256"]) == 64
    assert preview["workers"][0]["setup"] == ["make deps"]
    assert not ran.exists()


def test_the_flag_records_trust_once_per_content_and_a_changed_hook_asks_again(
    tmp_path: Path, repo: Path, runtime: str, ecc_home: Path
) -> None:
    ran = tmp_path / "ran"
    hook(repo, "worktree_created", f"echo $ECC_SESSION >> {ran}")
    first = run("session", "create", str(plan(tmp_path, repo, "one")), "--execute", "--trust-hooks", cwd=repo)
    assert first.returncode == 0, first.stderr
    assert ran.read_text() == "one\n"
    record = ecc_home / "trusted-hooks.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    again = run("session", "create", str(plan(tmp_path, repo, "two")), "--execute", cwd=repo)  # same content
    assert again.returncode == 0, again.stderr
    assert ran.read_text() == "one\ntwo\n"
    hook(repo, "worktree_created", f"echo changed $ECC_SESSION >> {ran}")  # a pull brings a new version
    changed = run("session", "create", str(plan(tmp_path, repo, "three")), "--execute", cwd=repo)
    assert changed.returncode == 1 and "not trusted" in changed.stderr, changed.stderr
    assert ran.read_text() == "one\ntwo\n"


def _at_a_terminal(args: list[str], cwd: Path, answer: bytes) -> tuple[int, str]:
    """Run ``ecc-hooks ARGS`` with a terminal for stdin and stderr, typing ``answer``: (exit status, what it said)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecc_hooks", *args],
        cwd=cwd,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    os.close(slave)
    os.write(master, answer)
    said = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the process closed its terminal
            break
        if not chunk:
            break
        said += chunk
    os.close(master)
    assert proc.stdout is not None
    proc.stdout.read()
    return proc.wait(timeout=60), said.decode("utf-8", "replace")


def test_at_a_terminal_the_user_is_asked_and_no_is_the_default(tmp_path: Path, repo: Path, runtime: str) -> None:
    ran = tmp_path / "ran"
    path = hook(repo, "worktree_created", f"echo $ECC_SESSION >> {ran}")
    code, said = _at_a_terminal(["session", "create", str(plan(tmp_path, repo, "no")), "--execute"], repo, b"\n")
    assert code == 1 and str(path) in said and "[y/N]" in said, said
    assert not ran.exists()
    code, said = _at_a_terminal(["session", "create", str(plan(tmp_path, repo, "yes")), "--execute"], repo, b"y\n")
    assert code == 0, said
    assert ran.read_text() == "yes\n"


# ---------------------------------------------------------------------------- only trusted snapshots run


def test_a_hook_changed_after_consent_is_not_run_by_the_supervisor(
    tmp_path: Path, repo: Path, runtime: str, ecc_home: Path
) -> None:
    ran = tmp_path / "ran"
    path = hook(repo, "worker_finished", f"echo trusted >> {ran}")
    step = f"printf '#!/bin/sh\\necho worker-wrote >> {ran}\\n' > {path}"  # the agent rewrites the repo's hook
    done = run("session", "create", str(plan(tmp_path, repo, "fin", step)), "--execute", "--trust-hooks", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: states(repo).get("fin/w") == "completed", 30, lambda: str(states(repo)))
    errors = ecc_home / "errors.log"
    wait_until(lambda: errors.exists() and "runtime.hook-untrusted" in errors.read_text(), 30, "the refusal")
    assert not ran.exists()
    assert "not trusted, not run" in (ecc_home / "runtime" / "fin" / "w" / "hooks.log").read_text()


# ---------------------------------------------------------------------------- finding 6: merge time


@pytest.mark.parametrize(
    ("strategy", "trust"), [("merge", False), ("rebase", False), ("squash", False), ("merge", True)]
)
def test_a_hook_a_worker_commits_never_runs_at_merge(
    tmp_path: Path, repo: Path, runtime: str, ecc_home: Path, strategy: str, trust: bool
) -> None:
    """Even ``--trust-hooks`` trusts only what was there when the command started, not what a merge brings in."""
    ran = tmp_path / "ran"
    step = (
        "mkdir -p .ecc/hooks && "
        f"printf '#!/bin/sh\\necho worker-hook >> {ran}\\n' > .ecc/hooks/post_merge && chmod +x .ecc/hooks/post_merge"
        " && git add .ecc && git -c user.name=w -c user.email=w@x commit -qm 'a helpful hook'"
    )
    done = run("session", "create", str(plan(tmp_path, repo, "mq", step)), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: states(repo).get("mq/w") == "completed", 30, lambda: str(states(repo)))
    flag = ["--trust-hooks"] if trust else []
    applied = run("session", "merge-queue", "mq", "--apply", "--strategy", strategy, *flag, cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert f"merged orchestrator-mq-w into main ({strategy})" in applied.stdout
    assert (repo / ".ecc" / "hooks" / "post_merge").exists()  # merged in, as the worker committed it
    assert not ran.exists()  # but never run: the hooks were read before the first merge


def test_an_untrusted_pre_merge_gate_stops_the_merge_and_says_so(
    tmp_path: Path, repo: Path, runtime: str, ecc_home: Path
) -> None:
    ran = tmp_path / "ran"
    step = "echo x > x.txt && git add x.txt && git -c user.name=w -c user.email=w@x commit -qm x"
    done = run("session", "create", str(plan(tmp_path, repo, "gate", step)), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: states(repo).get("gate/w") == "completed", 30, lambda: str(states(repo)))
    path = hook(repo, "pre_merge", f"echo gate >> {ran}", folder="hooks.local", commit=False)
    before = git(repo, "rev-parse", "HEAD")
    refused = run("session", "merge-queue", "gate", "--apply", cwd=repo)
    assert refused.returncode == 1 and "not trusted" in refused.stderr and str(path) in refused.stderr
    assert f"note: the pre_merge hook {path} is not trusted" in refused.stdout  # said in the output too
    assert git(repo, "rev-parse", "HEAD") == before and not ran.exists()
