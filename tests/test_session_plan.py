"""``ecc-hooks session create``'s planning: plans validated with every problem named, names and paths as ECC's
orchestrator makes them (tests/e2e/test_ecc_parity.py compares with ECC's own code), agents checked first."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecc_hooks.core import paths
from ecc_hooks.runtime import agents
from ecc_hooks.runtime import plan as planning
from tests.helpers import REPO, make_repo


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "session", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=60,
    )


@given(st.text(max_size=30))
def test_slugs_are_lower_case_words_joined_by_dashes(name: str) -> None:
    slug = planning.slugify(name)
    assert slug == "worker" or (slug.strip("-") == slug and all(c.isalnum() or c == "-" for c in slug))
    assert slug == slug.lower() and "--" not in slug


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ({"workers": []}, "workers"),
        ({"workers": [{"task": "  ", "agent": "claude"}]}, "task must not be empty"),
        ({"workers": [{"task": "x"}]}, "no launcherCommand and no agent"),
        ({"workers": [{"task": "x", "agent": "claude", "prot": 3}]}, "workers.0.prot"),
        ({"sesionName": "x", "workers": [{"task": "x", "agent": "claude"}]}, "sesionName"),
        ({"workers": [{"task": "x", "agent": "claude", "runtime": "docker"}]}, "workers.0.runtime"),
    ],
)
def test_a_bad_plan_names_every_problem(tmp_path: Path, plan: dict, problem: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    done = cli("create", str(path), cwd=tmp_path)
    assert done.returncode == 1 and problem in done.stderr and "Traceback" not in done.stderr


def test_names_paths_and_commands_follow_eccs_orchestrator(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "My Repo")
    (repo / "seed").mkdir()
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "sessionName": "Feature X!",
                "repoRoot": str(repo),
                "launcherCommand": "run {worker_slug} --in {worktree_path_sh} --task {task_file}",
                "seedPaths": ["seed"],
                "workers": [{"name": "Docs & Tests", "task": "write docs"}, {"task": "second"}],
            }
        )
    )
    done = cli("create", str(plan), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    preview = json.loads(done.stdout)
    assert preview["sessionName"] == "feature-x"
    first, second = preview["workers"]
    assert first["branchName"] == "orchestrator-feature-x-docs-tests"
    assert first["worktreePath"] == str(tmp_path / "My Repo-feature-x-docs-tests")
    assert first["taskFilePath"] == str(repo / ".orchestration" / "feature-x" / "docs-tests" / "task.md")
    assert first["launchCommand"] == (
        f"run docs-tests --in '{tmp_path}/My Repo-feature-x-docs-tests' --task {first['taskFilePath']}"
    )
    assert second["workerName"] == "worker-2" and first["seedPaths"] == ["seed"]
    assert not (repo / ".orchestration").exists()  # a dry run creates nothing
    bad = json.loads(plan.read_text())
    bad["launcherCommand"] = "run {nonsense}"
    plan.write_text(json.dumps(bad))
    assert "unknown template variable" in cli("create", str(plan), cwd=tmp_path).stderr


def fake_agent(bin_dir: Path, name: str, version: str = "1.2.3") -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\necho '{name} {version}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_the_quick_form_and_its_agent_check(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    bin_dir = tmp_path / "bin"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    missing = cli("create", "fix-it", "--task", "a", "--agent", "codex", cwd=repo, env=env)
    assert missing.returncode == 1 and "codex" in missing.stderr and "nothing was created" in missing.stderr
    assert not (repo / ".orchestration").exists()
    fake_agent(bin_dir, "claude")
    done = cli(
        "create", "fix-it", "--task", "fix the bug", "--task", "add a test", "--model", "opus", cwd=repo, env=env
    )
    assert done.returncode == 0, done.stderr
    workers = json.loads(done.stdout)["workers"]
    assert [w["branchName"] for w in workers] == ["orchestrator-fix-it-fix-it-1", "orchestrator-fix-it-fix-it-2"]
    first = workers[0]
    # the task is pasted into its input box by the command itself (in no command line), then claude starts
    started = first["launchCommand"].rpartition(" & ")[2]
    layer = paths.runtime_settings_path()
    assert started == f"claude --session-id {first['sessionId']} --settings {layer} --model opus"
    assert "printf '%s' 'fix the bug' | tmux load-buffer" in first["launchCommand"]
    assert cli("create", "nope", cwd=repo, env=env).returncode == 1  # neither a file nor --task


def test_each_agent_launches_and_resumes_as_it_documents(ecc_home: Path) -> None:
    claude = agents.get("claude")
    layer = ["--settings", str(ecc_home / "runtime" / "claude-settings.json")]  # our hooks, on every start
    argv = claude.launch("do it", model="sonnet", permission_mode="acceptEdits", session_id="s-1")
    assert argv == ["claude", "--session-id", "s-1", *layer, "--model", "sonnet", "--permission-mode", "acceptEdits"]
    assert claude.launch("do it", runtime="claude-bg") == ["claude", "--bg", *layer, "do it"]  # its service's launch
    assert claude.launch("do it", runtime="headless")[:3] == ["claude", "-p", "--output-format"]
    assert claude.launch("do it", runtime="headless")[-2:] == layer
    assert "do it" not in claude.launch("do it", runtime="headless")  # piped to it: see start
    assert claude.resume_argv("s-1") == ["claude", "--resume", "s-1", *layer]
    assert claude.resume_argv("s-1", runtime="claude-bg") == ["claude", "--bg", "--resume", "s-1", *layer]
    assert agents.get("codex").settings_args() == []  # no hooks of ours to give
    assert agents.get("aider").launch("do it") == ["aider"]  # typed into its pane
    assert claude.screen_state("Bash command\n Do you want to proceed?\n ❯ 1. Yes") == "waiting"
    assert set(agents.AGENTS) == {"claude", "codex", "opencode", "gemini", "aider"}
    with pytest.raises(Exception, match="unknown agent"):
        agents.get("cursor")
