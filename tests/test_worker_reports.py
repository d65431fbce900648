"""A worker's own report is never overwritten (issue 25, item 1).

A worker, or the launcher around it (ECC's ``orchestrate-codex-worker.sh`` writes both files), may write its own
``handoff.md`` and ``status.md``. The runtime replaces such a file only while it is still its own (missing, blank,
its pending template, its own earlier write: ``runtime.files.write_kept``); anyone else's handoff stays whole, and
anyone else's status.md keeps every line it wrote with the runtime's state and time merged in
(``runtime.files.merge_status``). Here with real scripts under the real supervisor, and the merge as a property.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.runtime import files
from tests.helpers import ecc, make_repo, wait_until

OWN_HANDOFF = "# Handoff\\n\\n## Summary\\n- Wrote the notes myself\\n\\n## Validation\\n- read them back\\n"
OWN_STATUS = "# Status\\n\\n- State: completed\\n- Error: none, all fine\\n- Note: my own field\\n"


EXAMPLES = int(os.environ.get("ECC_PARITY_EXAMPLES") or 200)  # the long run: ECC_PARITY_EXAMPLES=5000


def plan(path: Path, repo: Path, name: str, workers: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"sessionName": name, "repoRoot": str(repo), "workers": workers}))
    return path


def state_of(status: Path) -> str | None:
    """The state as ECC's parseWorkerStatus reads it (the last ``- State:`` line)."""
    found = re.findall(r"^- State:\s*(.+)$", status.read_text() if status.exists() else "", re.M)
    return found[-1] if found else None


@pytest.mark.parametrize("runtime_kind", ["tmux", "headless"])
def test_a_workers_own_handoff_survives_the_supervisor(tmp_path: Path, runtime: str, runtime_kind: str) -> None:
    repo = make_repo(tmp_path / "repo", identity=True)
    own = f"printf '{OWN_HANDOFF}' > {{handoff_file}}; printf '{OWN_STATUS}' > {{status_file}}; echo bye; exit 3"
    silent = "echo 'the last words'"
    workers = [
        {"name": "own", "task": "t", "runtime": runtime_kind, "launcherCommand": own},
        {"name": "silent", "task": "t", "runtime": runtime_kind, "launcherCommand": silent},
    ]
    done = ecc("session", "create", str(plan(tmp_path / "p.json", repo, "rep", workers)), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    folder = repo / ".orchestration" / "rep"

    wait_until(
        lambda: state_of(folder / "own" / "status.md") == "failed",
        30,
        lambda: (folder / "own" / "status.md").read_text(),
    )
    wait_until(
        lambda: "the last words" in (folder / "silent" / "handoff.md").read_text(), 30, "the silent one's handoff"
    )
    assert (folder / "own" / "handoff.md").read_text() == OWN_HANDOFF.replace("\\n", "\n")  # its report, whole
    status = (folder / "own" / "status.md").read_text()
    for line in ("- Error: none, all fine", "- Note: my own field", "# Status"):
        assert line in status.splitlines(), status  # every line of its own kept
    assert re.findall(r"^- State: (.+)$", status, re.M) == ["failed"]  # the runtime's verdict (exit 3), once
    assert "- Branch: `orchestrator-rep-own`" in status  # what it lacked, added
    # the one that wrote nothing gets the runtime's handoff in place of its pending template
    silent_handoff = (folder / "silent" / "handoff.md").read_text()
    assert "- Pending" not in silent_handoff and "## Remaining Risks" in silent_handoff


# ---------------------------------------------------------------------------- the rule, as properties

_keys = st.sampled_from(["State", "Updated", "Branch", "Worktree", "Error", "Handoff file", "Note", "state"])
_values = st.text(st.characters(codec="utf-8", exclude_characters="\r\n", exclude_categories=("Cs",)), min_size=1,
                  max_size=12).filter(str.strip)  # fmt: skip
_lines = st.one_of(
    st.builds(lambda k, v: f"- {k}: {v}", _keys, _values),
    st.sampled_from(["", "# Status", "## Status", "free words", "- a bullet", "- State:"]),
)
theirs_texts = st.lists(_lines, min_size=1, max_size=8).map("\n".join).filter(str.strip)


def ours(state: str) -> str:
    return files.status_md(name="w", state=state, worktree="/wt", branch="b", task_file="/t", handoff_file="/h",
                           updated="2026-12-07T12:00:00Z")  # fmt: skip


def keyed(text: str) -> list[tuple[str, str]]:
    """(key, line) of every ``- Key: value`` line ECC's parseWorkerStatus reads."""
    return [(re.sub(r"\s+", "", m.group(1).strip().lower()), line) for line in text.splitlines()
            if (m := re.match(r"^- ([A-Za-z ]+):\s*(.+)$", line))]  # fmt: skip


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(theirs=theirs_texts, state=st.sampled_from(["running", "failed", "completed", "merged"]))
def test_a_merged_status_keeps_every_line_of_theirs_and_says_our_state(theirs: str, state: str) -> None:
    merged = files.merge_status(theirs, ours(state))
    mine = dict(reversed(keyed(ours(state))))
    theirs_lines = theirs.splitlines()
    while theirs_lines and not theirs_lines[-1].strip():
        theirs_lines.pop()
    out = merged.splitlines()
    for i, line in enumerate(theirs_lines):  # their lines in place, only their State and Updated lines ours
        key = next((k for k, _ in keyed(line)), None)
        assert out[i] == (mine[key] if key in ("state", "updated") else line)
    read = dict(keyed(merged))  # the last of each key, as ECC reads it (and the first: they are one value)
    assert [line for k, line in keyed(merged) if k == "state"] == [mine["state"]] * len(
        [1 for k, _ in keyed(merged) if k == "state"]
    )
    assert read["state"] == mine["state"] and read["updated"] == mine["updated"]
    for key in ("branch", "worktree", "handofffile"):  # theirs where they said it, else ours
        said = [line for k, line in keyed(theirs) if k == key]
        assert read[key] == (said[-1] if said else mine[key])


# a sequence of writes to one file: ("us", text) through write_kept, ("them", text) written by someone else
_writes = st.lists(st.tuples(st.sampled_from(["us", "them"]), st.sampled_from(["", "\n", "a", "b\n", "- State: x"])),
                   min_size=1, max_size=8)  # fmt: skip


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None)
@given(writes=_writes, pending=st.sampled_from(["none", "recorded", "unrecorded"]))
def test_write_kept_replaces_only_its_own_file(
    tmp_path_factory: pytest.TempPathFactory, writes: list[tuple[str, str]], pending: str
) -> None:
    """Ours where nothing is, or where the file is still ours: our record, or our pending template (unrecorded:
    a session made before the record existed); anyone else's text, never."""
    root = tmp_path_factory.mktemp("kept")
    home = Path(str(root) + "-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("ECC_HOOKS_HOME", str(home))
    try:
        path, marks = root / "w" / "handoff.md", str(home / "runtime" / "s" / "w" / "written.json")
        (root / "w").mkdir()
        (home / "runtime" / "s" / "w").mkdir(parents=True)
        template = files.pending_handoff_md("w")
        if pending == "recorded":
            files.write_ours(str(path), template, str(root), marks)
        elif pending == "unrecorded":
            files.write(str(path), template, str(root))
        theirs: str | None = None  # the last non-blank text someone else wrote and no one replaced
        for n, (who, text) in enumerate(writes):
            mine = f"ours {n}"
            if who == "them":
                path.write_text(text)
                theirs = text if text.strip() else None
                continue
            wrote = files.write_kept(str(path), mine, str(root), marks, template=template)
            assert wrote == (theirs is None)
            assert path.read_text() == (mine + "\n" if theirs is None else theirs)
    finally:
        mp.undo()


def test_a_linked_file_is_neither_followed_nor_replaced_and_our_record_keeps_no_secret(
    tmp_path: Path, ecc_home: Path
) -> None:
    root, victim = tmp_path / "coord", tmp_path / "victim"
    (root / "w").mkdir(parents=True)
    victim.write_text("precious\n")
    marks = ecc_home / "runtime" / "s" / "w" / "written.json"
    marks.parent.mkdir(parents=True)
    link = root / "w" / "handoff.md"
    link.symlink_to(victim)
    with pytest.raises(OSError):
        files.write_kept(str(link), "ours", str(root), str(marks))
    assert link.is_symlink() and victim.read_text() == "precious\n"
    secret = "ANTHROPIC_API_KEY=sk-ant-api03-" + "Q7w2E9r4T1y6U3i8O5p0" * 3
    status = root / "w" / "status.md"
    status.write_text(f"# Status\n\n- State: running\n- Note: {secret}\n")  # the worker's own, with a secret
    assert files.write_kept(str(status), ours("completed"), str(root), str(marks), files.merge_status)
    assert "Q7w2E9r4T1y6U3i8O5p0" not in marks.read_text() + status.read_text()
    assert marks.stat().st_mode & 0o777 == 0o600
