"""ECC's own session history (``~/.claude/session-data/*-session.tmp``) read by ``inspect`` as ECC's
``claude-history`` adapter reads it (``handoff.adapters._ecc_history``), the ``claude:`` targets' order, and
transcripts that start with a byte order mark. ECC itself answers the same files in
tests/e2e/test_history_generated.py; here the rules are pinned without node.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.cli.inspect import Probe, guess_target_type
from ecc_hooks.handoff.adapters import Context, Target, TargetError, claude_history
from ecc_hooks.handoff.adapters._ecc_history import parse_filename, parse_metadata
from tests.helpers import REPO

SUMMARY = """# Session: fix the parser
**Date:** 2026-12-01
**Started:** 10:00
**Last Updated:** 11:30
**Branch:** feat/x
**Worktree:** /src/wt

### Completed
- [x] wrote tests
- [x] fixed bug

### In Progress
- [ ] docs

### Notes for Next Session
check CI

### Context to Load
```
src/a.py
  src/b.py
```
"""


def session_file(home: Path, name: str, text: str = SUMMARY, mtime: int = 1_700_000_000, folder: str = "session-data"):
    path = home / ".claude" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return path


def inspect(value: str, type_: str = "claude-history", cwd: str = "/") -> dict[str, Any]:
    ctx = Context(now=datetime(2026, 12, 7, tzinfo=timezone.utc), cwd=cwd)
    return claude_history.inspect(Target(type=type_, value=value), ctx).snapshot.model_dump(mode="json")


def test_a_session_file_reads_as_eccs_adapter_describes_it(isolated_home: Path) -> None:
    path = session_file(isolated_home, "2026-12-01-abc12345-session.tmp")
    snap = inspect(str(path), "session-file")
    assert snap["adapterId"] == "claude-history"
    assert snap["session"] == {
        "id": "abc12345",
        "kind": "history",
        "state": "recorded",
        "repoRoot": "/src/wt",
        "sourceTarget": {"type": "session-file", "value": str(path)},
    }
    (worker,) = snap["workers"]
    assert worker["label"] == "Session: fix the parser" and worker["branch"] == "feat/x"
    assert worker["runtime"] == {
        "kind": "claude-session",
        "command": "claude",
        "pid": None,
        "active": False,
        "dead": True,
    }
    assert worker["intent"] == {"objective": "docs", "seedPaths": ["src/a.py", "src/b.py"]}
    assert worker["outputs"] == {
        "summary": ["wrote tests", "fixed bug"],
        "validation": [],
        "remainingRisks": ["check CI"],
    }
    assert worker["artifacts"]["sessionFile"] == str(path)
    assert worker["artifacts"]["context"] == "src/a.py\n  src/b.py"


def test_claude_ids_aliases_and_latest_name_session_files(isolated_home: Path) -> None:
    session_file(isolated_home, "2026-12-01-abc12345-session.tmp", mtime=1_700_000_000)
    newer = session_file(
        isolated_home, "2026-12-02-session.tmp", "# Old style\n", mtime=1_700_000_100, folder="sessions"
    )
    (isolated_home / ".claude" / "session-aliases.json").write_text(
        json.dumps({"aliases": {"mine": {"sessionPath": str(newer)}}})
    )
    assert inspect("claude:abc1")["session"]["id"] == "abc12345"  # a prefix of the short id
    assert inspect("claude: 2026-12-01-abc12345-session.tmp ")["session"]["sourceTarget"] == {
        "type": "claude-history",
        "value": "2026-12-01-abc12345-session.tmp",
    }
    latest = inspect("claude:latest")
    assert latest["session"]["id"] == "2026-12-02-session" and latest["workers"][0]["label"] == "Old style"
    assert inspect("history:2026-12-02")["session"]["id"] == "2026-12-02-session"  # an old name by its date
    assert inspect("claude-history:mine")["session"]["sourceTarget"] == {"type": "claude-alias", "value": "mine"}
    for missing in ("claude:nope", "claude:", "history:  ", "claude:../x"):
        with pytest.raises(TargetError):
            inspect(missing)


def test_files_of_the_same_age_are_ordered_by_name_as_nodes_readdir_lists_them(isolated_home: Path) -> None:
    """ECC sorts by age, stably, what Node's readdir listed (names in byte order); the directory's own order (a
    hash on ext4) must not decide which of the files a ``cp -p`` left with one mtime is the latest."""
    names = [f"2026-{11 + i % 2:02d}-{10 + (i * 7) % 19:02d}-{i:x}{i:x}aa00bb-session.tmp" for i in range(1, 13)]
    for name in names:
        session_file(isolated_home, name, mtime=1_700_000_000)
    first = min(names, key=str.encode)
    assert inspect("history:latest")["session"]["id"] == first.split("-")[3]


def test_claude_prefers_a_transcript_history_prefers_eccs_files(isolated_home: Path) -> None:
    session_file(isolated_home, "2026-12-01-abc12345-session.tmp", mtime=1_700_000_000)
    sid = "5ec0717e-0000-4000-8000-000000000001"
    transcript = isolated_home / ".claude" / "projects" / "-src" / f"{sid}.jsonl"
    transcript.parent.mkdir(parents=True)
    line = {"type": "user", "message": {"role": "user", "content": "hi"}, "timestamp": "2026-12-01T00:00:00Z"}
    transcript.write_text(json.dumps(line) + "\n")
    assert inspect("claude:latest")["session"]["id"] == sid
    assert inspect(f"claude:{sid}")["session"]["id"] == sid
    assert inspect("claude-history:latest")["session"]["id"] == "abc12345"
    assert inspect("history:latest")["session"]["id"] == "abc12345"


def test_agent_data_home_follows_eccs_variable(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECC_AGENT_DATA_HOME", "~/elsewhere")
    path = isolated_home / "elsewhere" / "session-data" / "2026-12-01-zz-session.tmp"
    path.parent.mkdir(parents=True)
    path.write_text("# There\n")
    assert inspect("history:zz")["workers"][0]["label"] == "There"


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("2026-02-01-a1b2c3d4-session.tmp", ("2026-02-01", "a1b2c3d4")),
        ("2026-02-01-session.tmp", ("2026-02-01", "no-id")),
        ("2024-02-29-x-session.tmp", ("2024-02-29", "x")),
        ("2026-02-29-x-session.tmp", None),
        ("0048-02-29-session.tmp", ("0048-02-29", "no-id")),  # JavaScript's Date: year 48 is 1948, a leap year
        ("0000-02-29-session.tmp", None),  # ... and year 0 is 1900, which is not
        ("2026-02-01--x-session.tmp", None),
        ("2026-02-01-x-session.tmp\n", None),
        ("2026-02-01-x-session.tmpx", None),
        ("٢٠٢٦-02-01-session.tmp", None),  # JavaScript's \d is ASCII
    ],
)
def test_file_names_as_ecc_parses_them(name: str, parsed: object) -> None:
    assert parse_filename(name) == parsed


def test_metadata_uses_javascripts_white_space_and_line_ends() -> None:
    text = "x\n# Title\u00a0\r\n**Branch:**\u2028b2\r\n### Completed\r\n- [x] one\r\n- [x]\x85two\n"
    meta = parse_metadata(text)
    assert meta["title"] == "Title"  # U+00A0 trimmed, \r ends the line
    assert meta["branch"] == "b2"  # \s crosses U+2028 and $ stops at \r
    assert meta["completed"] == ["one", "\x85two"]  # \x85 is no JavaScript white space: trim keeps it
    assert parse_metadata("\ufeff" + text[2:])["title"] is None  # ^# : a byte order mark is the first character
    assert parse_metadata("#\u0085x\n")["title"] is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*"#*-[]x: \n\r\t\u00a0\u2028\ufeff\x85`aB0", "### ", "- [x] ", "- [ ] "])).map("".join)
)
def test_metadata_parses_any_text(text: str) -> None:
    meta = parse_metadata(text)
    assert all(isinstance(item, str) for item in meta["completed"] + meta["inProgress"])
    assert meta["title"] is None or "\n" not in meta["title"]


def test_targets_guess_session_files_and_eccs_prefixes() -> None:
    probe = Probe(
        path_kind=lambda p: "file" if p.endswith(".tmp") else None,
        journal=lambda _: False,
        orchestration=lambda _: False,
        transcript=lambda _: False,
    )
    assert guess_target_type("x/2026-12-01-session.tmp", probe) == "session-file"
    for target in ("history:latest", "claude-history:abc", "claude:mine"):
        assert guess_target_type(target, probe) == "claude-history"


@pytest.mark.parametrize("body", [b"", b"  \n\t\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"])
def test_empty_transcripts_give_a_snapshot(body: bytes, tmp_path: Path) -> None:
    path = tmp_path / "0000-empty.jsonl"
    path.write_bytes(body)
    snap = inspect(str(path), "transcript")
    assert snap["session"]["state"] == "recorded" and snap["workers"][0]["intent"]["objective"] == ""


def test_a_transcript_starting_with_a_byte_order_mark_keeps_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "0000-bom.jsonl"
    line = {
        "type": "user",
        "message": {"role": "user", "content": "the first prompt"},
        "timestamp": "2026-12-01T00:00:00Z",
    }
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(line).encode() + b"\r\n")
    assert inspect(str(path), "transcript")["workers"][0]["intent"]["objective"] == "the first prompt"


def test_the_cli_reads_a_session_file_by_relative_path(isolated_home: Path, tmp_path: Path, ecc_home: Path) -> None:
    session_file(isolated_home, "2026-12-01-abc12345-session.tmp")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecc_hooks.inspect",
            ".claude/session-data/2026-12-01-abc12345-session.tmp",
            "--markdown",
        ],
        cwd=isolated_home,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "- [ ] docs (in progress)" in done.stdout and "check CI" in done.stdout


def test_an_alias_without_a_path_is_still_an_alias(isolated_home: Path) -> None:
    """JavaScript's truthiness: ``{}`` is an alias entry (ECC throws on its missing path), not "no alias" (which
    would fall through to a session whose id starts with the alias's name)."""
    session_file(isolated_home, "2026-12-01-mine-session.tmp")
    aliases = isolated_home / ".claude" / "session-aliases.json"
    aliases.write_text(json.dumps({"aliases": {"mine": {}}}))
    with pytest.raises(TargetError):
        inspect("history:mine")
    aliases.write_text(json.dumps({"aliases": {"mine": 0}}))  # falsy: no alias, the id answers
    assert inspect("history:mine")["session"]["id"] == "mine"
    target = str(isolated_home / ".claude" / "session-data" / "2026-12-01-mine-session.tmp")
    aliases.write_text(json.dumps({"aliases": [{"sessionPath": target}]}))  # an array: aliases[0]
    assert inspect("history:0")["session"]["sourceTarget"] == {"type": "claude-alias", "value": "0"}


def test_an_id_javascript_objects_already_have_is_read_as_an_id(isolated_home: Path) -> None:
    """ECC's bug, not ours: its aliases[name] finds Object.prototype's ``constructor`` and throws."""
    session_file(isolated_home, "2026-12-01-constructor-session.tmp")
    assert inspect("claude:constructor")["session"]["id"] == "constructor"
