"""install / uninstall / doctor and the plugin files, on real settings files through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ecc_hooks.cli import install
from tests.helpers import CAPTURES, REPO, journal_lines

SESSION = "0b7c5f7e-1111-4222-8333-944445555666"
FOREIGN = {"type": "command", "command": "/usr/local/bin/notify-me", "timeout": 5}
ORIGINAL = {
    "env": {"FOO": "bar"},
    "permissions": {"allow": ["Bash(ls:*)"], "deny": []},
    "model": "opus",
    "hooks": {
        "PreToolUse": [{"matcher": "*", "hooks": [FOREIGN]}],
        "Stop": [{"hooks": [FOREIGN]}],
        "WorktreeCreate": [{"hooks": [{"type": "command", "command": "make-worktree"}]}],
    },
    "unknownFutureKey": [1, 2.5, None, "\u00e9"],
}
# The events spec section 1 names in its table (the "others" row aside).
SPEC_EVENTS = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
    "PermissionDenied",
    "Notification",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "TaskCreated",
    "TaskCompleted",
    "PreCompact",
    "PostCompact",
    "SessionEnd",
]


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``ecc-hooks ARGS`` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "ecc_hooks", *args],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def write_json(path: Path, document: object) -> bytes:
    """Write a settings file in a formatting of its own (compact), return its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, separators=(",", ":")).encode()
    path.write_bytes(data)
    return data


def our_commands(settings: dict) -> dict[str, list[str]]:
    """event -> our handlers registered for it (a command string, or an HTTP hook's URL)."""
    found: dict[str, list[str]] = {}
    for event, groups in settings.get("hooks", {}).items():
        for group in groups:
            for handler in group.get("hooks", []):
                if install.is_our_handler(handler):
                    found.setdefault(event, []).append(handler.get("command") or handler["url"])
    return found


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".ecc-hooks-*.bak"))


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "cfg" / "settings.json"


# ---------------------------------------------------------------------------- event list and plugin


def test_event_list_covers_the_spec_and_each_event_once() -> None:
    assert set(SPEC_EVENTS) <= set(install.EVENT_NAMES)
    assert len(set(install.EVENT_NAMES)) == len(install.EVENT_NAMES)
    # Registering these would change Claude Code's behaviour, not just observe it.
    assert not {"WorktreeCreate", "WorktreeRemove", "FileChanged"} & set(install.EVENT_NAMES)


def test_checked_in_plugin_hooks_json_is_what_the_code_generates() -> None:
    generated = install.render_json(install.plugin_hooks_document())
    assert (REPO / "hooks" / "hooks.json").read_bytes() == generated, (
        "regenerate with: python -m ecc_hooks.install > hooks/hooks.json"
    )


def test_plugin_manifest_and_shims() -> None:
    manifest = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("ecc-hooks", "0.1.0")
    for shim in (REPO / "hooks" / "ecc-hook", REPO / "statusline" / "ecc-statusline"):
        assert shim.stat().st_mode & stat.S_IXUSR, f"{shim} must be executable"
        assert shim.read_text().startswith("#!/bin/sh\n")
    example = json.loads((REPO / "statusline" / "settings.example.json").read_text())
    assert example["statusLine"]["command"].endswith("/statusline/ecc-statusline")


# ---------------------------------------------------------------------------- merge semantics


def test_install_keeps_foreign_keys_and_hooks(tmp_path: Path, settings_file: Path) -> None:
    write_json(settings_file, ORIGINAL)
    done = cli("install", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(settings_file.read_text())
    for key in ("env", "permissions", "model", "unknownFutureKey"):
        assert result[key] == ORIGINAL[key]
    assert result["hooks"]["PreToolUse"][0] == {"matcher": "*", "hooks": [FOREIGN]}
    assert result["hooks"]["Stop"][0] == {"hooks": [FOREIGN]}
    assert result["hooks"]["WorktreeCreate"] == ORIGINAL["hooks"]["WorktreeCreate"]
    ours = our_commands(result)
    assert set(ours) == set(install.EVENT_NAMES)
    assert all(len(commands) == 1 for commands in ours.values())
    assert result["hooks"]["PreToolUse"][1]["matcher"] == "*"
    assert result["statusLine"] == install.statusline_entry(install.python_command(install.STATUSLINE_MODULE))
    # No keys of our own in handler entries: Claude Code validates them.
    for groups in result["hooks"].values():
        for group in groups:
            for handler in group["hooks"]:
                assert set(handler) <= {"type", "command", "timeout", "url", "headers"}


def test_install_twice_equals_install_once_byte_for_byte(tmp_path: Path, settings_file: Path) -> None:
    write_json(settings_file, ORIGINAL)
    assert cli("install", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    once = settings_file.read_bytes()
    assert len(backups(settings_file)) == 1
    done = cli("install", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert settings_file.read_bytes() == once
    assert len(backups(settings_file)) == 1  # nothing changed, so nothing was rewritten


def test_reinstall_after_foreign_edits_keeps_them_and_stays_single(tmp_path: Path, settings_file: Path) -> None:
    write_json(settings_file, {})
    assert cli("install", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    settings = json.loads(settings_file.read_text())
    settings["hooks"]["PostToolUse"][0]["hooks"].append(FOREIGN)  # a user's hook inside our group
    settings["theme"] = "dark"
    write_json(settings_file, settings)
    assert cli("install", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    result = json.loads(settings_file.read_text())
    assert result["theme"] == "dark"
    assert {"matcher": "*", "hooks": [FOREIGN]} in result["hooks"]["PostToolUse"]
    assert len(our_commands(result)["PostToolUse"]) == 1


@pytest.mark.parametrize(
    "original",
    [ORIGINAL, {}, {"hooks": {"Stop": [{"hooks": [FOREIGN]}]}, "statusLine": None}],
    ids=["foreign-everything", "empty-object", "foreign-stop-only"],
)
def test_install_then_uninstall_gives_the_original_json(tmp_path: Path, settings_file: Path, original: dict) -> None:
    write_json(settings_file, original)
    assert cli("install", "--settings-file", str(settings_file), "--force", cwd=tmp_path).returncode == 0
    assert our_commands(json.loads(settings_file.read_text()))
    done = cli("uninstall", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = dict(original)
    if expected.get("statusLine", 0) is None:
        del expected["statusLine"]  # --force replaced the null, and uninstall removes ours
    assert json.loads(settings_file.read_text()) == expected


def test_uninstall_keeps_a_foreign_handler_sharing_our_group(tmp_path: Path, settings_file: Path) -> None:
    write_json(settings_file, {})
    assert cli("install", "--settings-file", str(settings_file), "--no-statusline", cwd=tmp_path).returncode == 0
    settings = json.loads(settings_file.read_text())
    settings["hooks"]["PreToolUse"][0]["hooks"].insert(0, FOREIGN)
    settings["statusLine"] = {"type": "command", "command": "my-line"}
    write_json(settings_file, settings)
    assert cli("uninstall", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    assert json.loads(settings_file.read_text()) == {
        "hooks": {"PreToolUse": [{"matcher": "*", "hooks": [FOREIGN]}]},
        "statusLine": {"type": "command", "command": "my-line"},  # not ours: kept
    }


def test_install_drops_our_entries_under_events_no_longer_registered(tmp_path: Path) -> None:
    ours = install.hook_entry(install.python_command(install.HOOK_MODULE))
    stale = {
        "hooks": {"MessageDisplay": [{"hooks": [ours]}], "FileChanged": [{"matcher": ".env", "hooks": [ours, FOREIGN]}]}
    }
    result = install.installed(stale, "settings.json", statusline=False, force=False)
    assert "MessageDisplay" not in result["hooks"]
    assert result["hooks"]["FileChanged"] == [{"matcher": ".env", "hooks": [FOREIGN]}]
    assert stale["hooks"]["MessageDisplay"] == [{"hooks": [ours]}]  # the input is not mutated


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "content",
    [b'{"hooks": {', b"[1, 2, 3]", b'"settings"', b'{"a": NaN}', b"\xff\xfe{}"],
    ids=["truncated", "array", "string", "nan", "not-utf8"],
)
def test_refuses_a_file_that_is_not_a_json_object(tmp_path: Path, settings_file: Path, content: bytes) -> None:
    settings_file.parent.mkdir(parents=True)
    settings_file.write_bytes(content)
    for command in ("install", "uninstall"):
        done = cli(command, "--settings-file", str(settings_file), cwd=tmp_path)
        assert done.returncode == 1
        assert str(settings_file) in done.stderr and "not changed" in done.stderr
        assert "Traceback" not in done.stderr
        assert settings_file.read_bytes() == content
    assert sorted(p.name for p in settings_file.parent.iterdir()) == ["settings.json"]


def test_refuses_hooks_that_is_not_an_object(tmp_path: Path, settings_file: Path) -> None:
    data = write_json(settings_file, {"hooks": ["x"]})
    done = cli("install", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 1 and '"hooks"' in done.stderr
    assert settings_file.read_bytes() == data


def test_foreign_statusline_needs_force(tmp_path: Path, settings_file: Path) -> None:
    theirs = {"type": "command", "command": "~/bin/my-statusline", "padding": 1}
    data = write_json(settings_file, {"statusLine": theirs})
    refused = cli("install", "--settings-file", str(settings_file), cwd=tmp_path)
    assert refused.returncode == 1
    assert "--force" in refused.stderr and "--no-statusline" in refused.stderr
    assert settings_file.read_bytes() == data

    kept = cli("install", "--settings-file", str(settings_file), "--no-statusline", cwd=tmp_path)
    assert kept.returncode == 0, kept.stderr
    result = json.loads(settings_file.read_text())
    assert result["statusLine"] == theirs and our_commands(result)

    forced = cli("install", "--settings-file", str(settings_file), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert install.is_ours(json.loads(settings_file.read_text())["statusLine"]["command"])
    assert any(json.loads(b.read_text()).get("statusLine") == theirs for b in backups(settings_file))
    again = cli("install", "--settings-file", str(settings_file), "--force", cwd=tmp_path)  # ours replaces ours
    assert again.returncode == 0, again.stderr

    removed = cli("uninstall", "--settings-file", str(settings_file), cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(settings_file.read_text()) == {"statusLine": theirs}  # theirs is back, exactly
    assert "replaced is back" in removed.stdout


def test_uninstall_says_what_stays_and_purges_on_request(tmp_path: Path, isolated_home: Path) -> None:
    settings = isolated_home / ".claude" / "settings.json"
    assert not settings.exists()
    assert cli("install", cwd=tmp_path).returncode == 0
    home = isolated_home / ".claude" / "ecc"
    assert settings.exists() and home.is_dir()
    done = cli("uninstall", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not settings.exists() and backups(settings) == []  # install made it; nothing else was in it
    assert "install created it" in done.stdout and f"kept: {home}" in done.stdout and "--purge" in done.stdout
    assert home.is_dir()
    purged = cli("uninstall", "--purge", cwd=tmp_path)
    assert purged.returncode == 0, purged.stderr
    assert not home.exists() and f"purged: {home}" in purged.stdout
    stranger = tmp_path / "not-ours"
    stranger.mkdir()
    (stranger / "thesis.tex").write_text("years of work\n")
    refused = cli("uninstall", "--purge", cwd=tmp_path, env={"ECC_HOOKS_HOME": str(stranger)})
    assert refused.returncode == 1 and "does not look like" in refused.stderr
    assert (stranger / "thesis.tex").exists()


# ---------------------------------------------------------------------------- files


def test_dry_run_writes_nothing(tmp_path: Path, settings_file: Path) -> None:
    done = cli("install", "--settings-file", str(settings_file), "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not settings_file.parent.exists()
    header, _, body = done.stdout.partition("\n")
    assert str(settings_file) in header
    assert set(our_commands(json.loads(body))) == set(install.EVENT_NAMES)

    data = write_json(settings_file, ORIGINAL)
    for command in ("install", "uninstall"):
        assert cli(command, "--settings-file", str(settings_file), "--dry-run", cwd=tmp_path).returncode == 0
    assert settings_file.read_bytes() == data
    assert backups(settings_file) == []


def test_missing_file_is_created_with_its_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "settings.json"
    assert cli("install", "--settings-file", str(target), cwd=tmp_path).returncode == 0
    assert our_commands(json.loads(target.read_text()))
    assert backups(target) == []  # nothing to back up


def test_uninstall_of_a_missing_file_creates_nothing(tmp_path: Path, settings_file: Path) -> None:
    done = cli("uninstall", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not settings_file.parent.exists()


def test_backup_holds_the_old_bytes_and_the_mode_is_kept(tmp_path: Path, settings_file: Path) -> None:
    data = write_json(settings_file, ORIGINAL)
    os.chmod(settings_file, 0o666)  # group/other write: lost through any usual umask unless restored
    assert cli("install", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o666
    (backup,) = backups(settings_file)
    assert backup.read_bytes() == data
    assert stat.S_IMODE(backup.stat().st_mode) == 0o666
    assert cli("uninstall", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o666
    assert len(backups(settings_file)) == 2  # the first backup is never overwritten


def test_a_symlinked_settings_file_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude-settings.json"
    write_json(real, {"model": "opus"})
    link = tmp_path / "home" / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    assert cli("install", "--settings-file", str(link), cwd=tmp_path).returncode == 0
    assert link.is_symlink()
    assert our_commands(json.loads(real.read_text()))


def test_scopes_resolve_in_a_git_repo(tmp_path: Path, isolated_home: Path) -> None:
    repo = tmp_path / "repo"
    sub = repo / "src" / "pkg"
    sub.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, capture_output=True)
    expected = {
        "project": repo / ".claude" / "settings.json",
        "local": repo / ".claude" / "settings.local.json",
        "user": isolated_home / ".claude" / "settings.json",
    }
    for scope, path in expected.items():
        done = cli("install", "--scope", scope, "--no-statusline", cwd=sub)
        assert done.returncode == 0, done.stderr
        assert our_commands(json.loads(path.read_text())), scope
    assert not (sub / ".claude").exists()

    config = tmp_path / "config"
    assert cli("install", "--no-statusline", cwd=sub, env={"CLAUDE_CONFIG_DIR": str(config)}).returncode == 0
    assert (config / "settings.json").exists()
    other = tmp_path / "other-project"
    other.mkdir()
    done = cli("uninstall", "--scope", "local", cwd=sub, env={"CLAUDE_PROJECT_DIR": str(other)})
    assert done.returncode == 0 and not (other / ".claude").exists()
    assert cli("uninstall", "--scope", "local", cwd=sub).returncode == 0
    assert not expected["local"].exists()  # install created it and nothing else was in it


def test_outside_a_git_repo_the_project_is_cwd(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert cli("install", "--scope", "project", cwd=plain).returncode == 0
    assert (plain / ".claude" / "settings.json").exists()


# ---------------------------------------------------------------------------- the commands really run


def _payload(event: str = "SessionStart", cwd: Path | None = None) -> bytes:
    return json.dumps(
        {
            "session_id": SESSION,
            "transcript_path": "/tmp/t.jsonl",
            "cwd": str(cwd or "/tmp"),
            "hook_event_name": event,
            "source": "startup",
        }
    ).encode()


def test_installed_hook_command_runs_without_path(tmp_path: Path, settings_file: Path, ecc_home: Path) -> None:
    assert cli("install", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    commands = {c for cs in our_commands(json.loads(settings_file.read_text())).values() for c in cs}
    (command,) = {c for c in commands if not c.startswith("http://")}  # the tool events are HTTP hooks
    project = tmp_path / "project"
    project.mkdir()
    # A project file shadowing the standard library must not break the hook (-P keeps cwd off sys.path).
    (project / "json.py").write_text("raise SystemExit('shadowed json imported')\n")
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        input=_payload(cwd=project),
        capture_output=True,
        cwd=project,
        env={
            "PATH": "/nonexistent",
            "HOME": os.environ["HOME"],
            "ECC_HOOKS_NO_WATCHER": "1",
            "ECC_HOOKS_HOME": str(ecc_home),
        },
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, b""), done.stderr
    (record,) = journal_lines(ecc_home, SESSION)
    assert (record["event"], record["sessionId"]) == ("SessionStart", SESSION)


def test_installed_statusline_command_prints_a_line(tmp_path: Path, settings_file: Path, ecc_home: Path) -> None:
    assert cli("install", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    command = json.loads(settings_file.read_text())["statusLine"]["command"]
    stdin = (CAPTURES / "statusline-stdin.jsonl").read_bytes().splitlines()[0]
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        env={
            "PATH": "/nonexistent",
            "HOME": os.environ["HOME"],
            "ECC_HOOKS_NO_WATCHER": "1",
            "ECC_HOOKS_HOME": str(ecc_home),
            "COLUMNS": "100",
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0].strip()


def _python_without_the_package() -> str:
    """The venv's base interpreter: it cannot import ecc_hooks unless PYTHONPATH says where."""
    base = getattr(sys, "_base_executable", None) or shutil.which("python3") or ""
    probe = (
        subprocess.run(
            [base, "-c", "import ecc_hooks"],
            capture_output=True,
            cwd="/",
            env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]},
        )
        if base
        else None
    )
    if probe is None or probe.returncode == 0:
        pytest.skip("no interpreter without ecc_hooks installed")  # e.g. installed into the system python
    return base


def test_plugin_hook_shim_writes_a_journal_line_without_pip(tmp_path: Path, ecc_home: Path) -> None:
    python = _python_without_the_package()
    command = install.plugin_hooks_document()["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "ECC_HOOKS_NO_WATCHER": "1",
        "CLAUDE_PLUGIN_ROOT": str(REPO),
        "ECC_HOOKS_HOME": str(ecc_home),
        "ECC_HOOKS_PYTHON": python,
    }
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        input=_payload("Notification"),
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, b""), done.stderr
    (record,) = journal_lines(ecc_home, SESSION)
    assert record["event"] == "Notification"


@pytest.mark.parametrize("shim", ["hooks/ecc-hook", "statusline/ecc-statusline"])
def test_shims_exit_zero_without_any_python(tmp_path: Path, shim: str) -> None:
    for env in ({"PATH": "/nonexistent"}, {"PATH": "/nonexistent", "ECC_HOOKS_PYTHON": "/nonexistent/python3"}):
        done = subprocess.run(
            ["/bin/sh", str(REPO / shim)],
            input=_payload(),
            capture_output=True,
            cwd=tmp_path,
            env={**env, "CLAUDE_PLUGIN_ROOT": str(REPO)},
            timeout=60,
        )
        assert done.returncode == 0, (env, done.stderr)
        if shim.startswith("hooks/"):
            assert done.stdout == b""


def test_statusline_shim_prints_a_line(tmp_path: Path, ecc_home: Path) -> None:
    stdin = (CAPTURES / "statusline-stdin.jsonl").read_bytes().splitlines()[0]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "ECC_HOOKS_NO_WATCHER": "1",
        "ECC_HOOKS_HOME": str(ecc_home),
        "ECC_HOOKS_PYTHON": _python_without_the_package(),
        "COLUMNS": "100",
    }
    done = subprocess.run(
        [str(REPO / "statusline" / "ecc-statusline")],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[0].strip()


# ---------------------------------------------------------------------------- doctor


def test_doctor_on_a_good_install(tmp_path: Path, ecc_home: Path) -> None:
    assert cli("install", cwd=tmp_path).returncode == 0
    ecc_home.mkdir(exist_ok=True)  # install already made it (installed.json)
    (ecc_home / "errors.log").write_text('{"kind":"malformed-json"}\n{"kind":"timeout"}\n{"kind":"malformed-json"}\n')
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"hooks: {len(install.EVENTS)} events (all)" in done.stdout
    assert "statusLine: ours" in done.stdout
    assert "3 entries (malformed-json 2, timeout 1)" in done.stdout
    assert [line.split()[1] for line in done.stdout.splitlines() if line.startswith("  ok ")] == ["hook", "statusline"]
    assert not (ecc_home / "sessions").exists()  # the checks used a scratch home


def test_doctor_on_a_broken_install(tmp_path: Path, isolated_home: Path) -> None:
    assert cli("install", "--no-statusline", cwd=tmp_path).returncode == 0
    user_settings = isolated_home / ".claude" / "settings.json"
    ours = json.dumps(install.python_command(install.HOOK_MODULE))[1:-1]  # as it stands in the JSON text
    text = user_settings.read_text()
    assert ours in text
    # What an install from a virtualenv deleted since leaves: its command, recorded as ours, no longer runs.
    broken = "/nonexistent/python3 -m ecc_hooks.hook # ecc-hooks"
    user_settings.write_text(text.replace(ours, broken))
    install.remember_commands({broken})
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 1
    assert "FAIL" in done.stdout and "/nonexistent/python3" in done.stderr
    assert "ecc-hooks install" in done.stderr
    assert cli("install", "--no-statusline", cwd=tmp_path).returncode == 0  # install rewrites the outdated command
    assert broken not in user_settings.read_text() and ours in user_settings.read_text()


def test_doctor_with_nothing_installed_or_an_unreadable_file(tmp_path: Path) -> None:
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 1 and "ecc-hooks install" in done.stderr
    assert cli("install", cwd=tmp_path).returncode == 0
    (tmp_path / ".claude").mkdir(exist_ok=True)
    (tmp_path / ".claude" / "settings.local.json").write_text("{oops")
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 1 and "settings.local.json is not valid JSON" in done.stderr


def test_doctor_checks_an_extra_settings_file(tmp_path: Path, settings_file: Path) -> None:
    assert cli("install", "--settings-file", str(settings_file), "--no-statusline", cwd=tmp_path).returncode == 0
    done = cli("doctor", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert str(settings_file) in done.stdout and "statusLine: none" in done.stdout


def test_commands_an_earlier_version_wrote_are_flagged_and_rewritten(tmp_path: Path, isolated_home: Path) -> None:
    # What the version before the layered package wrote: the same interpreter, the old module paths.
    assert cli("install", cwd=tmp_path).returncode == 0
    settings = isolated_home / ".claude" / "settings.json"
    text = settings.read_text()
    for new, old in ((install.HOOK_MODULE, "ecc_hooks.hook"), (install.STATUSLINE_MODULE, "ecc_hooks.statusline")):
        text = text.replace(
            json.dumps(install.python_command(new))[1:-1], json.dumps(install.python_command(old))[1:-1]
        )
    (isolated_home / ".claude" / "ecc" / "installed.json").unlink()  # earlier versions kept no record
    settings.write_text(text)
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 1 and "outdated" in done.stdout and "earlier install" in done.stderr
    assert "ok   hook" in done.stdout  # the old paths still run (thin shims)
    assert cli("install", cwd=tmp_path).returncode == 0
    after = settings.read_text()
    assert "ecc_hooks.hook import" not in after and install.HOOK_MODULE in after
    assert sum(len(groups) for groups in json.loads(after)["hooks"].values()) == len(install.EVENTS)  # no duplicates
    assert cli("doctor", cwd=tmp_path).returncode == 0


# ---------------------------------------------------------------------------- transports


HTTP = ("--transport", "http")


def test_the_default_transport_is_command_and_install_says_why(
    tmp_path: Path, settings_file: Path, ecc_home: Path
) -> None:
    """The http transport's port could be taken by another user while no watcher runs: never by default."""
    done = cli("install", "--settings-file", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "transport: command" in done.stdout and "--transport http" in done.stdout and "another" in done.stdout
    text = settings_file.read_text()
    assert '"http"' not in text and "Bearer" not in text
    assert not (ecc_home / "endpoint.json").exists()
    doctor = cli("doctor", "--settings-file", str(settings_file), cwd=tmp_path)
    assert "tool events: command hooks" in doctor.stdout


def test_http_transport_posts_tool_events_to_the_watcher(tmp_path: Path, settings_file: Path, ecc_home: Path) -> None:
    done = cli("install", "--settings-file", str(settings_file), *HTTP, cwd=tmp_path)
    assert done.returncode == 0 and "transport: http (--transport http)" in done.stdout
    config = json.loads((ecc_home / "endpoint.json").read_text())
    assert (ecc_home / "endpoint.json").stat().st_mode & 0o777 == 0o600
    assert len(config["token"]) >= 32 and 20000 <= config["port"] < 60000
    hooks = json.loads(settings_file.read_text())["hooks"]
    for event in install.EVENT_NAMES:
        (handler,) = hooks[event][0]["hooks"]
        if event in install.HTTP_EVENTS:
            assert handler == {
                "type": "http",
                "url": f"http://127.0.0.1:{config['port']}/ecc-hooks/v1/event",
                "headers": {"Authorization": f"Bearer {config['token']}"},
                "timeout": install.HTTP_TIMEOUT,
            }
        else:
            assert handler["type"] == "command" and install.is_ours(handler["command"])
    assert config["settings"] == [str(settings_file)]  # what a fall-back would rewrite
    # a second install keeps the endpoint (and so the file) as it is
    before = settings_file.read_bytes()
    assert cli("install", "--settings-file", str(settings_file), *HTTP, cwd=tmp_path).returncode == 0
    assert settings_file.read_bytes() == before
    # and uninstall removes the HTTP hooks with the commands
    assert cli("uninstall", "--settings-file", str(settings_file), cwd=tmp_path).returncode == 0
    assert not settings_file.exists()  # install created it; the HTTP hooks went with the commands


def test_an_http_install_has_the_watcher_listen_at_once(
    tmp_path: Path, settings_file: Path, ecc_home: Path, daemons
) -> None:
    """A running Claude Code reloads the settings and posts at once: the endpoint is the user's before install
    returns (the watcher is killed by ``daemons`` after the test)."""
    from ecc_hooks.core import endpoint

    done = cli("install", "--settings-file", str(settings_file), *HTTP, cwd=tmp_path, env={"ECC_HOOKS_NO_WATCHER": "0"})
    assert done.returncode == 0, done.stderr
    assert "watcher: started, listens on 127.0.0.1:" in done.stdout
    config = endpoint.load()
    assert config is not None and endpoint.listener_uid(config) == os.getuid()


def test_command_transport_and_switching_back(tmp_path: Path, settings_file: Path, ecc_home: Path) -> None:
    assert cli("install", "--settings-file", str(settings_file), *HTTP, cwd=tmp_path).returncode == 0
    done = cli("install", "--settings-file", str(settings_file), "--transport", "command", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    hooks = json.loads(settings_file.read_text())["hooks"]
    assert all(h["type"] == "command" for groups in hooks.values() for g in groups for h in g["hooks"])
    assert {e for e, cs in our_commands({"hooks": hooks}).items() if len(cs) == 1} == set(install.EVENT_NAMES)
    assert json.loads((ecc_home / "endpoint.json").read_text())["settings"] == []  # nothing posts there now


def test_project_settings_default_to_commands(tmp_path: Path, isolated_home: Path) -> None:
    """The project's settings file is committed: it never carries the endpoint's token."""
    project = tmp_path / "proj"
    project.mkdir()
    assert cli("install", "--scope", "project", cwd=project).returncode == 0
    text = (project / ".claude" / "settings.json").read_text()
    assert '"http"' not in text and "Bearer" not in text
    refused = cli("install", "--scope", "project", *HTTP, cwd=project)
    assert refused.returncode == 1 and "committed" in refused.stderr


def test_a_moved_endpoint_is_flagged_and_rewritten(tmp_path: Path, settings_file: Path, ecc_home: Path) -> None:
    assert cli("install", "--settings-file", str(settings_file), *HTTP, cwd=tmp_path).returncode == 0
    (ecc_home / "endpoint.json").unlink()  # a new endpoint (another port and token) on the next install
    doctor = cli("doctor", "--settings-file", str(settings_file), cwd=tmp_path)
    assert "not the endpoint" in doctor.stdout + doctor.stderr
    assert cli("install", "--settings-file", str(settings_file), *HTTP, cwd=tmp_path).returncode == 0
    config = json.loads((ecc_home / "endpoint.json").read_text())
    urls = {h["url"] for g in json.loads(settings_file.read_text())["hooks"]["PreToolUse"] for h in g["hooks"]}
    assert urls == {f"http://127.0.0.1:{config['port']}/ecc-hooks/v1/event"}


def test_doctor_reports_bad_config_the_watcher_and_the_last_error(tmp_path: Path, ecc_home: Path) -> None:
    assert cli("install", "--settings-file", str(tmp_path / "s.json"), cwd=tmp_path).returncode == 0
    args = ("doctor", "--settings-file", str(tmp_path / "s.json"))
    ok = cli(*args, cwd=tmp_path)
    assert "watcher: not running" in ok.stdout
    (ecc_home / "statusline.toml").write_text('theme = "plain"\n[segment.context]\nbarr = 0\n')
    (ecc_home / "config.toml").write_text(
        "[notify]\ncommand = 'true'\nwhen = ['waiting']\n[hud.keymap]\n'hud.stop' = 'ctrl+c'\n"
    )
    bad = cli(*args, cwd=tmp_path)
    assert bad.returncode == 1
    assert "unknown key 'barr' in [segment.context]" in bad.stdout + bad.stderr
    assert "unknown key notify.when" in bad.stdout + bad.stderr
    assert "hud.keymap.hud.stop: ctrl+c is Claude Code's own" in bad.stdout + bad.stderr
    (ecc_home / "statusline.toml").write_text("theme = \n")  # a syntax error
    broken = cli(*args, cwd=tmp_path)
    assert broken.returncode == 1 and "statusline.toml" in broken.stderr
    # the status line itself says so: on its row, and once in errors.log
    stdin = (CAPTURES / "statusline-stdin.jsonl").read_bytes().splitlines()[-1]
    row = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "statusline"], input=stdin, capture_output=True, cwd=str(REPO)
    )
    assert b"cfg!" in row.stdout
    errors = (ecc_home / "errors.log").read_text()
    assert "statusline-config" in errors
    assert "last:" in cli(*args, cwd=tmp_path).stdout  # doctor names the latest entry
