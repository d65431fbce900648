"""The agent registry against the real command-line tools, at the versions pinned in tests/e2e/AGENT_VERSIONS
(installed by .ci/run into ~/.cache/ecc-hooks/agents/<package>@<version>):

- the install check finds each one and reads its version;
- every flag the runtime passes (interactive launch, headless launch, resume) is in the tool's own ``--help`` for
  that subcommand;
- a headless worker launched through the runtime with no credentials ends ``failed``, with the tool's own error
  text in its reason or handoff (no network here: each fails on its missing key or login, never on a hang).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from ecc_hooks.runtime import agents
from tests.e2e import install_deps
from tests.e2e.conftest import _missing
from tests.helpers import REPO, ecc, make_repo, wait_until

pytestmark = pytest.mark.e2e

PINNED = {
    line.split()[3]: line.split()
    for line in (REPO / "tests" / "e2e" / "AGENT_VERSIONS").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}
# what each tool says when it has no credentials, and how it is launched for that (a model whose provider
# needs a key: opencode and aider would otherwise try a free hosted default over the network)
NO_CREDENTIALS = {
    "codex": (None, r"Not logged in"),
    "gemini": (None, r"set an Auth method"),
    "opencode": ("anthropic/claude-sonnet-4-5", r"Error"),
    "aider": ("anthropic/claude-sonnet-4-5", r"not able to authenticate you"),
}


def bin_dir(name: str) -> Path:
    registry, package, version, binary = PINNED[name]
    agent = install_deps.Agent(registry, package, version, binary)
    if not (agent.bin_dir / binary).exists():
        why = install_deps.why_missing(f"{package}@{version}") or f"not in {agent.root}"
        _missing(f"{package} {version} ({why}; python3 tests/e2e/install_deps.py installs it)")
    return agent.bin_dir


def scratch_env(home: Path, name: str) -> dict[str, str]:
    """No credentials of any kind: a fresh HOME, no *_API_KEY, the pinned tool first on PATH."""
    env = {k: v for k, v in os.environ.items() if not re.search(r"API_KEY|TOKEN|OPENAI|ANTHROPIC|GEMINI|GOOGLE", k)}
    env.update(HOME=str(home), PATH=f"{bin_dir(name)}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    return env


def help_text(name: str, subcommand: list[str], env: dict[str, str]) -> str:
    binary = str(bin_dir(name) / PINNED[name][3])
    done = subprocess.run([binary, *subcommand, "--help"], capture_output=True, text=True, env=env, timeout=120)
    return done.stdout + done.stderr


def flags(argv: list[str]) -> list[str]:
    return [a.split("=", 1)[0] for a in argv[1:] if a.startswith("-")]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_install_check_finds_the_pinned_version(name: str, tmp_path: Path) -> None:
    found, problem = agents.check_installed(agents.get(name), path=str(bin_dir(name)))
    assert problem is None and found is not None
    assert PINNED[name][2] in found


@pytest.mark.parametrize("name", sorted(PINNED))
def test_every_flag_we_pass_is_in_the_tools_own_help(name: str, tmp_path: Path) -> None:
    agent, env = agents.get(name), scratch_env(tmp_path, name)
    cases = {
        "tmux": agent.launch("p", runtime="tmux", model="m", permission_mode="default", session_id="s"),
        "headless": agent.launch(
            "p", runtime="headless", model="m", permission_mode="default", session_id="s", allowed_tools="Read"
        ),  # fmt: skip
        "resume": agent.resume_argv("s"),
        "auth": [agent.binary, *agent.auth_check],
    }
    subcommands = {
        "tmux": [],
        "headless": agents.leading_words(agent.headless),
        "resume": agents.leading_words(agent.resume),
        "auth": list(agent.auth_check[:1]),
    }
    assert cases["resume"], f"{name} has no resume command"
    missing = []
    for case, argv in cases.items():
        text = help_text(name, subcommands[case], env)
        for flag in flags(argv):
            if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
                missing.append(f"{case}: {flag} (not in `{name} {' '.join(subcommands[case])} --help`)")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_launch_without_credentials_ends_failed_with_the_tools_words(
    name: str, tmp_path: Path, runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = scratch_env(home, name)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(key)
    repo = make_repo(tmp_path / "repo")
    model, words = NO_CREDENTIALS[name]
    worker = {"name": name, "task": "say hello", "agent": name, "runtime": "headless"}
    if model:
        worker["model"] = model
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "nocreds", "repoRoot": str(repo), "workers": [worker]}))
    created = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert created.returncode == 0, created.stderr

    def state() -> dict[str, str]:
        done = ecc("session", "list", "--json", cwd=repo)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)[0]["workers"][0]

    wait_until(lambda: state()["state"] in ("completed", "failed"), 180, lambda: f"{name} to end: {state()}")
    final = state()
    handoff = (repo / ".orchestration" / "nocreds" / name / "handoff.md").read_text()
    assert final["state"] == "failed", (final, handoff)
    assert re.search(words, (final["reason"] or "") + handoff), (final, handoff)
