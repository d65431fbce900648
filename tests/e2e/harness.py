"""Run the real Claude Code client offline: find it, build a throwaway HOME and git work dir, run it.

``make_workspace`` writes a settings file with OUR installer (``python -m ecc_hooks install``) and adds a
raw-capture hook for every hook event, so a test can compare our journal with what Claude Code really
sent. ``run_claude`` runs ``claude -p`` against a :class:`~tests.e2e.api_server.ScriptedAPI` and returns a
:class:`RunResult` with everything a test needs (requests, raw payloads, journal, transcripts, cost-state).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e import install_deps
from tests.e2e.api_server import ScriptedAPI, SeenRequest
from tests.leakcheck import MARKER as LEAK_MARKER

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parent.parent
CAPTURE_HOOK = E2E_DIR / "capture_hook.py"
VERSION_FILE = E2E_DIR / "CLAUDE_CODE_VERSION"

# The real user's home, resolved at import time: tests/conftest.py swaps HOME for every test.
REAL_HOME = install_deps.REAL_HOME

API_KEY = "sk-ant-api03-e2e-offline-test-key-0123456789abcdefghijKLMNOPQRST"
RUN_TIMEOUT = 90.0  # seconds; a scripted run takes a few

# Every hook event Claude Code documents (spec section 1), captured raw. The client accepts names it
# does not fire, so listing one costs nothing; one it fires that our installer does not record shows up
# in tests/e2e/checks.py. Left out: WorktreeCreate / WorktreeRemove, whose command hooks REPLACE the client's own git
# worktree handling (a capture hook there would change what the client does).
HOOK_EVENTS = (
    "SessionStart",
    "Setup",
    "InstructionsLoaded",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "PermissionRequest",
    "PermissionDenied",
    "Notification",
    "MessageDisplay",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "TaskCreated",
    "TaskCompleted",
    "TeammateIdle",
    "PreCompact",
    "PostCompact",
    "ConfigChange",
    "CwdChanged",
    "DirectoryAdded",
    "FileChanged",
    "Elicitation",
    "ElicitationResult",
    "PreModelSwitch",
    "PostModelSwitch",
    "SessionEnd",
)
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest", "PermissionDenied"})


def claude_version() -> str:
    """The pinned Claude Code version (one file: tests/e2e/CLAUDE_CODE_VERSION)."""
    return VERSION_FILE.read_text().strip()


def claude_bin() -> Path | None:
    """``$ECC_CLAUDE_BIN``, else the pinned version under the real user's cache dir; None when absent (the paths are
    install_deps', the script that installs it)."""
    candidate = install_deps.claude_binary()
    return candidate if os.access(candidate, os.X_OK) else None


def install_hint() -> str:
    """Why the client is missing (what the run's install found), and how to get it."""
    why = install_deps.why_missing("claude-code")
    how = f"python3 tests/e2e/install_deps.py installs it into {install_deps.claude_prefix()} (or set ECC_CLAUDE_BIN)"
    return f"{why}; {how}" if why else how


@dataclass
class Workspace:
    """A throwaway HOME, git work dir, ECC_HOOKS_HOME and settings file for one client."""

    root: Path
    home: Path
    work: Path
    ecc_home: Path
    settings: Path
    raw_file: Path
    claude: Path

    @property
    def projects_dir(self) -> Path:
        """Where Claude Code keeps this work dir's transcripts."""
        slug = "".join(c if c.isalnum() else "-" for c in str(self.work))
        return self.home / ".claude" / "projects" / slug

    def settings_data(self) -> dict[str, Any]:
        return json.loads(self.settings.read_text())

    def write_settings(self, data: dict[str, Any]) -> None:
        self.settings.write_text(json.dumps(data, indent=2) + "\n")

    def raw_payloads(self) -> list[dict[str, Any]]:
        """Every hook payload Claude Code sent so far, in arrival order."""
        if not self.raw_file.exists():
            return []
        return [json.loads(line) for line in self.raw_file.read_bytes().splitlines() if line.strip()]

    def journal(self, session_id: str) -> list[dict[str, Any]]:
        """Our journal records of one session (fails on a torn line)."""
        path = self.ecc_home / "sessions" / session_id / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_bytes().splitlines()]

    def journal_sessions(self) -> list[str]:
        base = self.ecc_home / "sessions"
        return sorted(p.name for p in base.iterdir() if (p / "events.jsonl").exists()) if base.exists() else []

    def env(self, api: ScriptedAPI, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The client's whole environment: nothing leaks in from the developer's own setup."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "USER": os.environ.get("USER", "root"),
            "LANG": "C.UTF-8",
            "TERM": "xterm-256color",
            "SHELL": "/bin/bash",
            "ANTHROPIC_BASE_URL": api.base_url,
            "ANTHROPIC_API_KEY": API_KEY,
            "ECC_HOOKS_HOME": str(self.ecc_home),
            # SessionStart would start a watcher daemon that outlives the test; the watcher's own
            # e2e test opts in with ECC_HOOKS_NO_WATCHER=0 and stops it.
            "ECC_HOOKS_NO_WATCHER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "TMPDIR": str(self.root / "tmp"),
        }
        if os.environ.get("TMUX_TMPDIR"):  # where tmux keeps its sockets: the tests' own tmux calls look there too
            env["TMUX_TMPDIR"] = os.environ["TMUX_TMPDIR"]
        if os.environ.get(LEAK_MARKER):  # the end-of-run check finds whatever this client leaves running
            env[LEAK_MARKER] = os.environ[LEAK_MARKER]
        env.update(extra or {})
        return env


def _git(work: Path, *args: str, dated: str | None = None) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "e2e",
        "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
        "GIT_COMMITTER_NAME": "e2e",
        "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
    }
    if dated:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = dated
    subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True, timeout=30)


def install_ecc_hooks(
    settings: Path, env: dict[str, str], transport: str | None = "command", statusline: bool = False
) -> None:
    """Write our hooks (and with ``statusline`` the status line) into ``settings`` with our own installer,
    exactly as a user would. Command transport by default (the installer's own default too: ``transport=None``):
    these runs have no watcher (``ECC_HOOKS_NO_WATCHER=1``), and the http transport posts the tool events to the
    watcher (tests/e2e/test_http_transport.py opts in to it)."""
    args = ["--settings-file", str(settings)]
    args += [] if statusline else ["--no-statusline"]
    args += ["--transport", transport] if transport else []
    proc = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "install", *args],
        env=env,
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"installer failed ({proc.returncode}): {proc.stdout}{proc.stderr}"


def add_raw_capture(settings: Path, raw_file: Path) -> None:
    """Beside whatever is installed, a hook that appends every payload verbatim to ``raw_file``."""
    data = json.loads(settings.read_text()) if settings.exists() else {}
    hooks = data.setdefault("hooks", {})
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(CAPTURE_HOOK))} {shlex.quote(str(raw_file))}"
    for event in HOOK_EVENTS:
        hooks.setdefault(event, []).append({"hooks": [{"type": "command", "command": command, "timeout": 30}]})
    settings.write_text(json.dumps(data, indent=2) + "\n")


def make_workspace(root: Path, claude: Path) -> Workspace:
    """Temp HOME (onboarded, work dir trusted, key approved), a git repo with a commit, our settings file."""
    home, work, ecc_home = root / "home", root / "work", root / "ecc-home"
    for directory in (home / ".claude", work, root / "tmp"):
        directory.mkdir(parents=True)
    work = work.resolve()
    (home / ".claude.json").write_text(
        json.dumps(
            {
                "hasCompletedOnboarding": True,
                "lastOnboardingVersion": claude_version(),
                "numStartups": 1,
                "customApiKeyResponses": {"approved": [API_KEY[-20:]], "rejected": []},
                "projects": {
                    str(work): {
                        "hasTrustDialogAccepted": True,
                        "hasCompletedProjectOnboarding": True,
                        "allowedTools": [],
                    }
                },
            },
            indent=2,
        )
    )
    _git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text("e2e work dir\n")
    (work / "CLAUDE.md").write_text("# Project notes\nKeep answers short.\n")  # real repos have one
    _git(work, "add", "README.md", "CLAUDE.md")
    # Dated an hour back, as a project's history is older than the session: git keeps commit times to the
    # second, so a commit made in the session's first second would otherwise look like part of it to
    # time-based readers (the transcript-only history adapter has no start commit to go by).
    _git(work, "commit", "-q", "-m", "initial", dated=f"@{int(time.time()) - 3600} +0000")
    settings = root / "settings.json"
    ws = Workspace(
        root=root,
        home=home,
        work=work,
        ecc_home=ecc_home,
        settings=settings,
        raw_file=root / "raw-hooks.jsonl",
        claude=claude,
    )
    install_ecc_hooks(settings, {**os.environ, "HOME": str(home), "ECC_HOOKS_HOME": str(ecc_home)})
    add_raw_capture(settings, ws.raw_file)
    return ws


@dataclass
class RunResult:
    """What one ``claude -p`` run produced."""

    returncode: int
    stdout: str
    stderr: str
    requests: list[SeenRequest]
    raw_payloads: list[dict[str, Any]]  # every payload of the workspace so far (this run's start at raw_start)
    raw_start: int
    session_id: str | None
    journal: list[dict[str, Any]]  # our records of session_id
    transcript: Path | None
    subagent_transcripts: list[Path] = field(default_factory=list)
    cost_state: dict[str, Any] | None = None

    @property
    def new_payloads(self) -> list[dict[str, Any]]:
        """Payloads this run produced."""
        return self.raw_payloads[self.raw_start :]

    def transcript_lines(self, path: Path | None = None) -> list[dict[str, Any]]:
        path = path or self.transcript
        if path is None or not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_cost_state(transcript: Path | None) -> dict[str, Any] | None:
    """The transcript's last ``cost-state`` line: Claude Code's own cost roll-up (the cost oracle)."""
    if transcript is None or not transcript.exists():
        return None
    found = None
    for line in transcript.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("type") == "cost-state":
            found = entry
    return found


def run_claude(
    ws: Workspace,
    api: ScriptedAPI,
    prompt: str,
    *,
    model: str = "claude-sonnet-4-5",
    allowed_tools: str = "Bash Read Write Edit Agent",
    resume: str | None = None,
    extra_args: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> RunResult:
    """Run ``claude -p PROMPT`` in the work dir against ``api``; never hangs past ``timeout``."""
    raw_start = len(ws.raw_payloads())
    seen_before = len(api.requests)
    args = [
        str(ws.claude),
        "-p",
        prompt,
        "--settings",
        str(ws.settings),
        "--model",
        model,
        "--allowedTools",
        allowed_tools,
    ]
    if resume:
        args += ["--resume", resume]
    args += extra_args or []
    try:
        proc = subprocess.run(
            args,
            cwd=ws.work,
            env=ws.env(api, extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"claude did not finish in {timeout}s; stdout={exc.stdout!r} stderr={exc.stderr!r}"
        ) from None
    payloads = ws.raw_payloads()
    new = payloads[raw_start:]
    session_id = next((p.get("session_id") for p in new if p.get("session_id")), None)
    transcript = None
    for payload in new:
        if payload.get("transcript_path") and not payload.get("agent_id"):
            transcript = Path(payload["transcript_path"])
            break
    subagents: list[Path] = []
    if transcript is not None:
        sub_dir = transcript.with_suffix("") / "subagents"
        subagents = sorted(sub_dir.glob("*.jsonl")) if sub_dir.exists() else []
    return RunResult(
        returncode=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        requests=api.requests[seen_before:],
        raw_payloads=payloads,
        raw_start=raw_start,
        session_id=session_id,
        journal=ws.journal(session_id) if session_id else [],
        transcript=transcript,
        subagent_transcripts=subagents,
        cost_state=read_cost_state(transcript),
    )
