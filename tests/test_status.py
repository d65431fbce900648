"""``python -m ecc_hooks.status`` and ``ecc-hooks status`` as real subprocesses over journals the real hook wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests import usage_lines as ul
from tests.helpers import run_hook

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "schemas" / "ecc.hud-status.v1.schema.json").read_text())


def status(*args: str, env: dict[str, str] | None = None, module: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "ecc_hooks.status"] if module else [sys.executable, "-m", "ecc_hooks", "status"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}, cwd=str(REPO)
    )


def hook(session: str, event: str, cwd: Path, transcript: Path, **payload: Any) -> None:
    body = {
        "session_id": session,
        "hook_event_name": event,
        "cwd": str(cwd),
        "transcript_path": str(transcript),
        **payload,
    }
    assert run_hook(json.dumps(body).encode()).returncode == 0


def make_session(tmp_path: Path, session: str, *, fail: bool = False) -> Path:
    """A session recorded by the real hook: a git work dir, a transcript, a Bash check (failing if asked)."""
    work = tmp_path / f"work-{session}"
    work.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True)
    transcript = tmp_path / f"{session}.jsonl"
    ul.append(transcript, ul.assistant(f"{session}-m1", inp=1000, out=100, cw=2000, cr=5000))
    hook(session, "SessionStart", work, transcript, source="startup")
    hook(session, "UserPromptSubmit", work, transcript, prompt="run the tests")
    tool = {"tool_name": "Bash", "tool_input": {"command": "pytest -q"}, "tool_use_id": f"{session}-t1"}
    hook(session, "PreToolUse", work, transcript, **tool)
    if fail:
        hook(session, "PostToolUseFailure", work, transcript, error="Exit code 1", is_interrupt=False, **tool)
    else:
        hook(session, "PostToolUse", work, transcript, tool_response={"stdout": "ok"}, **tool)
    hook(session, "Stop", work, transcript)
    return work


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ``root`` with its size, mode and mtime (ns)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[path] = (st.st_size, st.st_mode, st.st_mtime_ns)
    return out


def test_one_session_json_matches_journal_and_changes_nothing(ecc_home: Path, tmp_path: Path) -> None:
    work = make_session(tmp_path, "s-one")
    before = snapshot(ecc_home)
    time.sleep(0.02)  # so a rewrite, even of identical bytes, would show in the mtimes
    proc = status("--json", "--session", "s-one")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert snapshot(ecc_home) == before
    journal = [json.loads(line) for line in (ecc_home / "sessions" / "s-one" / "events.jsonl").read_text().splitlines()]
    tool_ids = {r["toolUseId"] for r in journal if "toolUseId" in r}
    assert doc["context"]["sessionId"] == "s-one"
    assert doc["context"]["worktree"] == str(work.resolve()) and doc["context"]["branch"] == "main"
    assert doc["toolCalls"]["total"] == len(tool_ids)
    assert doc["checks"]["local"] == [
        {"command": "pytest -q", "status": "pass", "at": [r["ts"] for r in journal if r["event"] == "PostToolUse"][0]}
    ]
    assert doc["cost"]["computedUsd"] == pytest.approx(
        float(ul.expected_usd("sonnet-4", inp=1000, c5=2000, cr=5000, out=100))
    )
    assert doc["risk"]["dirtyWorktree"] is False


def test_latest_is_the_default_and_all_is_an_array(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "older")
    make_session(tmp_path, "newer", fail=True)
    # mtimes decide "latest"; set them explicitly so the test does not depend on the clock's resolution
    os.utime(ecc_home / "sessions" / "older" / "events.jsonl", (1_000_000, 1_000_000))
    default = status("--json")
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout)["context"]["sessionId"] == "newer"
    assert json.loads(status("--latest", "--json").stdout)["context"]["sessionId"] == "newer"
    everything = json.loads(status("--all", "--json").stdout)
    assert [d["context"]["sessionId"] for d in everything] == ["newer", "older"]
    for doc in everything:
        jsonschema.validate(doc, SCHEMA)


def test_exit_code_two_on_attention_only(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "good")
    make_session(tmp_path, "bad", fail=True)
    bad = status("--session", "bad", "--exit-code", "--json")
    assert bad.returncode == 2 and json.loads(bad.stdout)["risk"]["status"] == "attention"
    good = status("--session", "good", "--exit-code", "--json")
    assert json.loads(good.stdout)["risk"]["status"] != "attention" and good.returncode == 0
    assert status("--session", "bad").returncode == 0  # no --exit-code: a verdict is not an error
    assert status("--all", "--exit-code").returncode == 2


@pytest.mark.parametrize("bad_id", ["../etc", "nope", "a/b", ""])
def test_bad_or_unknown_session_is_a_user_error(ecc_home: Path, tmp_path: Path, bad_id: str) -> None:
    make_session(tmp_path, "exists")
    proc = status("--session", bad_id)
    assert proc.returncode == 1
    assert proc.stdout == "" and "session" in proc.stderr and "Traceback" not in proc.stderr


def test_no_sessions_and_usage_errors(ecc_home: Path) -> None:
    empty = status()
    assert empty.returncode == 1 and "no sessions" in empty.stderr
    assert json.loads(status("--all", "--json").stdout) == []
    assert status("--all").stdout == "No sessions recorded.\n"
    assert status("--session", "x", "--all").returncode == 1  # mutually exclusive: usage error exits 1
    assert not ecc_home.exists()  # reading nothing created nothing


def test_markdown_and_the_cli_entry(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "md", fail=True)
    proc = status("--markdown", "--session", "md", module=False)  # ecc-hooks status
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("## Session md")
    assert "**Risk:** attention" in proc.stdout and "`pytest -q` fail" in proc.stdout


def test_budget_and_linear_from_env(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "cfg")
    env = {
        "ECC_HOOKS_BUDGET_USD": "0.000001",
        "ECC_HOOKS_LINEAR_PROJECT": "ECC GA",
        "ECC_HOOKS_LINEAR_CAPACITY_BLOCKED": "true",
    }
    doc = json.loads(status("--session", "cfg", "--json", env=env).stdout)
    assert doc["cost"]["budgetUsd"] == 0.000001 and doc["cost"]["trend"] == "over-budget"
    assert doc["sync"]["Linear"]["project"] == "ECC GA" and doc["sync"]["Linear"]["issueCapacityBlocked"] is True
    assert json.loads(status("--session", "cfg", "--json").stdout)["sync"]["Linear"] is None


def test_handoff_record(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "ho")
    doc_path = tmp_path / "handoff.md"
    (ecc_home / "sessions" / "ho" / "handoff.json").write_text(json.dumps({"path": str(doc_path)}))
    assert json.loads(status("--session", "ho", "--json").stdout)["sync"]["handoff"] == {
        "path": str(doc_path),
        "written": False,
    }
    doc_path.write_text("# handoff\n")
    assert json.loads(status("--session", "ho", "--json").stdout)["sync"]["handoff"] == {
        "path": str(doc_path),
        "written": True,
    }


# ---------------------------------------------------------------------------- the view for a person


def test_the_default_view_is_a_line_per_session_those_waiting_first(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "aaaa1111-idle")
    make_session(tmp_path, "bbbb2222-fails", fail=True)
    work = make_session(tmp_path, "cccc3333-asks")
    transcript = tmp_path / "cccc3333-asks.jsonl"
    hook("cccc3333-asks", "UserPromptSubmit", work, transcript, prompt="clean the build folder")
    hook("cccc3333-asks", "PermissionRequest", work, transcript, tool_name="Bash", tool_input={"command": "rm -rf b"})
    os.utime(ecc_home / "sessions" / "cccc3333-asks" / "events.jsonl", (1_000_000_000, 1_000_000_000))  # oldest
    proc = status("--all", env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["SESSION", "AGENT", "STATE", "CONTEXT", "COST", "TOOLS", "WHERE", "WHAT"]
    ids = [line.split()[0] for line in lines[1:4]]
    assert [line.split()[1] for line in lines[1:4]] == ["claude"] * 3
    assert ids == ["cccc3333", "bbbb2222", "aaaa1111"]  # waiting, then attention, then the rest
    assert "WAITING" in lines[1] and "needs permission to use Bash" in lines[1]
    assert "1 failed" in lines[2] and "failing checks: pytest -q" in lines[2]
    assert "run the tests" in lines[3] and "idle" in lines[3]  # the objective: the first prompt
    assert lines[-1] == "1 session(s) waiting for you"
    assert all(len(line) <= 160 for line in lines)
    assert status("--all", "--exit-code").returncode == 2


def test_a_unique_prefix_names_a_session_anywhere_an_id_goes(ecc_home: Path, tmp_path: Path) -> None:
    make_session(tmp_path, "5f0c2a7e-1b7d-4c55-9a43-b3b1d2f0a9e1")
    make_session(tmp_path, "5f0c9999-0000-4000-8000-000000000000")
    doc = json.loads(status("--session", "5f0c2a", "--json").stdout)
    assert doc["context"]["sessionId"] == "5f0c2a7e-1b7d-4c55-9a43-b3b1d2f0a9e1"
    ambiguous = status("--session", "5f0c")
    assert ambiguous.returncode == 1 and "matches 2 sessions" in ambiguous.stderr
    inspected = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "inspect", "5f0c99"], capture_output=True, text=True, cwd=str(REPO)
    )
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["session"]["id"] == "5f0c9999-0000-4000-8000-000000000000"
