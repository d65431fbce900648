"""What the security tests share: the installed commands run as Claude Code runs them, the CLI, and a
repository whose own config names a command for every key git would run one for."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from ecc_hooks.cli import install
from tests.helpers import REPO, git, make_repo

# Every command-valued key a hostile repository can set, each running a script that leaves a marker.
HOSTILE_KEYS = (
    "core.fsmonitor",
    "core.hooksPath",
    "core.pager",
    "core.editor",
    "core.askPass",
    "core.sshCommand",
    "core.gitProxy",
    "sequence.editor",
    "pager.log",
    "pager.status",
    "diff.external",
    "diff.evil.command",
    "diff.evil.textconv",
    "filter.evil.clean",
    "filter.evil.smudge",
    "filter.evil.process",
    "merge.evil.driver",
    "credential.helper",
    "credential.https://example.invalid.helper",
    "gpg.program",
    "gpg.ssh.program",
    "remote.origin.uploadpack",
    "remote.origin.receivepack",
    "interactive.diffFilter",
)


def run_installed(
    module: str, stdin: bytes, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """The command ``ecc-hooks install`` writes for ``module`` (hook or status line), run in ``cwd`` with stdin."""
    return subprocess.run(
        install.python_argv(module),
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m ecc_hooks ARGS`` in a subprocess (bytes out: the tests look for raw control characters)."""
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", *args],
        capture_output=True,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        input=stdin,
    )


def marker_script(folder: Path, name: str) -> Path:
    """An executable that records that it ran (``folder/ran-<name>``) and passes stdin through."""
    script = folder / f"evil-{name.replace('/', '_').replace(':', '_')}.sh"
    script.write_text(f"#!/bin/sh\necho ran >> '{folder}/ran-{script.stem}'\ncat\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def hostile_repo(path: Path, markers: Path) -> Path:
    """A real repository whose .git/config names a marker-leaving command for every key in ``HOSTILE_KEYS``,
    whose .gitattributes route every file through the ``evil`` filter and diff drivers, with a hook of
    every common kind, a local-path ``origin``, a committed file and a racy modification."""
    markers.mkdir(parents=True, exist_ok=True)
    repo = make_repo(path)
    origin = make_repo(path.parent / (path.name + "-origin"))
    git(repo, "remote", "add", "origin", str(origin))
    (repo / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    hooks = repo / "evil-hooks"
    hooks.mkdir()
    for hook in (
        "pre-commit",
        "post-checkout",
        "post-commit",
        "pre-push",
        "post-merge",
        "reference-transaction",
        "fsmonitor-watchman",
        "pre-auto-gc",
        "post-index-change",
    ):
        target = hooks / hook
        target.write_text(f"#!/bin/sh\necho ran >> '{markers}/ran-hook-{hook}'\n")
        target.chmod(0o755)
        (repo / ".git" / "hooks" / hook).write_text(target.read_text())
        (repo / ".git" / "hooks" / hook).chmod(0o755)
    for key in HOSTILE_KEYS:
        value = str(hooks) if key == "core.hooksPath" else str(marker_script(markers, key))
        git(repo, "config", key, value)
    (repo / "a.txt").write_text("two\n")  # same size as the committed "one\n": status must hash it
    os.utime(repo / "a.txt", (1e9, 1e9))
    return repo


def ran(markers: Path) -> list[str]:
    """The markers left by commands that ran."""
    return sorted(p.name for p in markers.glob("ran-*"))


def session_payload(session: str, cwd: Path, event: str = "SessionStart", **extra: object) -> bytes:
    """A hook payload shaped like Claude Code's."""
    return json.dumps(
        {
            "session_id": session,
            "hook_event_name": event,
            "cwd": str(cwd),
            "transcript_path": str(cwd / f"{session}.jsonl"),
            **extra,
        }
    ).encode()
