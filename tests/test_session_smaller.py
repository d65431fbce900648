"""Issue 24, item 15: the smaller things a user meets around ``session create``, ``diff``, names and ``status``.

Real git repositories, real tmux on the test's own socket (the ``runtime`` fixture), the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.runtime import plan as planning
from tests.conftest import remove_socket
from tests.helpers import REPO, git, make_repo
from tests.test_session_create import cli, write_plan

# ---------------------------------------------------------------------------- a dirty base checkout


def test_create_on_a_dirty_checkout_warns_naming_the_files_and_keeps_git_status_clean(
    tmp_path: Path, runtime: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    (repo / "a.txt").write_text("changed, not committed\n")
    (repo / "new.txt").write_text("untracked\n")
    plan = write_plan(tmp_path / "plan.json", repo, "dirty", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warning) == 1 and "uncommitted changes the workers do not get" in warning[0], done.stdout
    assert "a.txt" in warning[0] and "new.txt" in warning[0] and ".orchestration" not in warning[0]
    worktree = tmp_path / "repo-dirty-alpha"
    assert (worktree / "a.txt").read_text() == "one\n" and not (worktree / "new.txt").exists()  # the base commit
    # the coordination folder is out of git status (info/exclude), the user's own changes still in it
    assert (repo / ".orchestration" / "dirty" / "alpha" / "task.md").exists()
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert ".orchestration" not in status and "a.txt" in status and "new.txt" in status
    assert "/.orchestration/\n" in (repo / ".git" / "info" / "exclude").read_text()
    again = write_plan(tmp_path / "plan2.json", repo, "second", ["beta"])
    assert cli("session", "create", str(again), "--execute", cwd=repo).returncode == 0
    assert (repo / ".git" / "info" / "exclude").read_text().count("/.orchestration/") == 1  # written once


def test_a_clean_checkout_gets_no_warning(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "clean", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stdout


def test_the_exclude_file_is_never_written_through_a_planted_link(tmp_path: Path, runtime: str) -> None:
    """The repository is untrusted: ``.git/info`` made a link to a folder elsewhere is not followed."""
    repo = make_repo(tmp_path / "repo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "exclude").write_text("precious\n")
    info = repo / ".git" / "info"
    if info.exists():
        for child in info.iterdir():
            child.unlink()
        info.rmdir()
    info.symlink_to(elsewhere)
    plan = write_plan(tmp_path / "plan.json", repo, "linked", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "exclude").read_text() == "precious\n"
    assert "not added to" in done.stdout and "git status lists it" in done.stdout


# ---------------------------------------------------------------------------- a bad base


def test_a_bad_base_names_the_ref(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "based", ["alpha"], baseRef="nope")
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 1
    assert "unknown base ref 'nope'" in done.stderr and "rev-parse" not in done.stderr, done.stderr
    assert not (tmp_path / "repo-based-alpha").exists()


def test_an_empty_repository_says_it_has_no_commit(tmp_path: Path, runtime: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    plan = write_plan(tmp_path / "plan.json", repo, "empty", ["alpha"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 1
    assert "has no commit yet" in done.stderr and "rev-parse" not in done.stderr, done.stderr


def test_a_folder_outside_git_says_so(tmp_path: Path, runtime: str) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    plan = write_plan(tmp_path / "plan.json", folder, "plain", ["alpha"])
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "session", "create", str(plan), "--execute"], capture_output=True,
        text=True, cwd=folder, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "GIT_CEILING_DIRECTORIES": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 1
    assert "not a git work tree" in done.stderr, done.stderr


# ---------------------------------------------------------------------------- unicode names


@settings(deadline=None)
@given(st.text(max_size=30))
def test_a_name_with_any_letter_or_digit_keeps_a_slug_of_its_own(name: str) -> None:
    slug = planning.slugify(name)
    assert slug == slug.lower() and "--" not in slug and slug.strip("-") == slug
    assert all(c.isalnum() or c == "-" for c in slug)
    if any(c.isalnum() for c in name):
        assert slug != "worker" or "worker" in name.lower()  # never the bare fallback for a name with letters
    if name.isascii():  # ECC's own slug for every ASCII name (its tools find our sessions by it)
        import re

        assert slug == (re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-") or "worker")


def test_unicode_names_keep_recognisable_slugs() -> None:
    assert planning.slugify("Données") == "donnees"
    assert planning.slugify("数据 清洗") == "数据-清洗"
    assert planning.slugify("Ünïcödé Wörker") == "unicode-worker"
    assert planning.slugify("🚀") == "worker"  # nothing to keep: the fallback (made unique by its number)


def test_worker_accepts_the_name_the_user_typed(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "uni", ["Données", "数据"])
    done = cli("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "donnees: orchestrator-uni-donnees" in done.stdout and "数据: orchestrator-uni-数据" in done.stdout
    for typed, slug in (("Données", "donnees"), ("donnees", "donnees"), ("数据", "数据")):
        diff = cli("session", "diff", "uni", "--worker", typed, "--json", cwd=repo)
        assert diff.returncode == 0, diff.stderr
        [one] = json.loads(diff.stdout)
        assert one["id"] == slug, one
    unknown = cli("session", "diff", "uni", "--worker", "nobody", cwd=repo)
    assert unknown.returncode == 1 and "has no worker 'nobody'" in unknown.stderr


def test_two_names_with_one_slug_are_refused_naming_both(tmp_path: Path) -> None:
    plan = planning.validate({"workers": [{"name": "Café", "task": "x", "agent": "claude"},
                                          {"name": "cafe", "task": "y", "agent": "claude"}]})  # fmt: skip
    try:
        planning.build(plan, cwd=str(tmp_path))
    except Exception as exc:  # UserError
        assert "'Café' and 'cafe' are both 'cafe'" in str(exc)
    else:
        raise AssertionError("a colliding slug was accepted")


def test_the_plain_diff_lists_the_files_stat_lists(tmp_path: Path, runtime: str) -> None:
    repo = make_repo(tmp_path / "repo")
    plan = write_plan(tmp_path / "plan.json", repo, "listed", ["alpha"])
    assert cli("session", "create", str(plan), "--execute", cwd=repo).returncode == 0
    worktree = tmp_path / "repo-listed-alpha"
    (worktree / "a.txt").write_text("edited\n")
    (worktree / "fresh.txt").write_text("new\n")
    plain = cli("session", "diff", "listed", cwd=repo)
    stat = cli("session", "diff", "listed", "--stat", cwd=repo)
    assert plain.returncode == 0 and stat.returncode == 0, plain.stderr + stat.stderr
    listed = [line for line in stat.stdout.splitlines() if line.startswith("  ")]
    assert any("unstaged" in line and "a.txt" in line for line in listed), stat.stdout
    assert any("untracked" in line and "fresh.txt" in line for line in listed), stat.stdout
    assert [line for line in plain.stdout.splitlines() if line.startswith("  ")] == listed


# ---------------------------------------------------------------------------- inspect --markdown


def code_span(text: str) -> str | None:
    """CommonMark's reading of a line that is one code span: the fence is the opening backtick run; the content
    ends at the first run of exactly that length; one space is stripped from each end when both ends have one
    (and it is not all spaces). None when the line is not exactly one span."""
    fence = len(text) - len(text.lstrip("`"))
    if fence == 0:
        return None
    i = fence
    while i < len(text):
        if text[i] == "`":
            j = i
            while j < len(text) and text[j] == "`":
                j += 1
            if j - i == fence:
                if j != len(text):
                    return None  # the span closed early: the rest of the line is outside it
                inner = text[fence:i]
                if len(inner) >= 2 and inner[0] == " " and inner[-1] == " " and inner.strip():
                    inner = inner[1:-1]
                return inner
            i = j
        else:
            i += 1
    return None


@settings(deadline=None)
@given(st.text(alphabet=st.sampled_from("ab `\\*_"), min_size=1, max_size=20).filter(lambda t: t.strip()))
def test_any_name_is_quoted_as_one_code_span_that_reads_back_the_same(name: str) -> None:
    from ecc_hooks.handoff.document import _code

    folded = " ".join(name.split())
    assert code_span(_code(name)) == folded


def test_inspect_markdown_lists_a_file_once_and_quotes_backticks_safely(tmp_path: Path) -> None:
    import uuid

    from ecc_hooks.handoff import document
    from tests.test_inspect_dmux import Tmux, add_worker, inspect, start_session

    socket = f"ecc-inspect-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmux = Tmux(socket)
    try:
        repo = make_repo(tmp_path / "repo")
        coord, session = tmp_path / "coord", "files"
        start_session(tmux, session, repo)
        odd = "we`ird``name.txt"
        for slug in ("one", "two"):
            add_worker(repo, coord, session, slug, state="completed", handoff=["- done"])
            handoff = coord / session / slug / "handoff.md"
            text = handoff.read_text().replace("## Files Changed\n- Pending", f"## Files Changed\n- shared.py\n- {odd}")
            handoff.write_text(text)
        result = inspect(session, "orchestration-session", tmux, coord)
        text = document.render(result)
        files = text.split("- Files changed:", 1)[1].split("\n- ", 1)[0]
        lines = [line.removeprefix("  - ") for line in files.splitlines() if line.startswith("  - ")]
        assert [code_span(line) for line in lines] == ["shared.py", odd], text
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)
        remove_socket(socket)


# ---------------------------------------------------------------------------- the top-level status


def test_each_status_row_shows_its_own_problem(tmp_path: Path, ecc_home: Path) -> None:
    """Two runtime workers' Claude Code sessions and the operator's: worker a failed. Worker b's row showed a's
    failure (every session of the repository got every worker's reasons); now a's row and the operator's say it,
    b's does not."""
    from tests.helpers import run_hook

    repo = make_repo(tmp_path / "repo")
    worktrees = {}
    for slug in ("a", "b"):
        worktrees[slug] = tmp_path / f"repo-s-{slug}"
        git(repo, "worktree", "add", "-q", "-b", f"orchestrator-s-{slug}", str(worktrees[slug]))
    runtime_dir = ecc_home / "runtime"
    runtime_dir.mkdir(parents=True)
    workers = [
        {"id": "s/a", "state": "failed", "reason": "boom in a", "worktree": str(worktrees["a"]), "branch": "x"},
        {"id": "s/b", "state": "running", "worktree": str(worktrees["b"]), "branch": "y"},
    ]
    (runtime_dir / "workers.json").write_text(
        json.dumps({"sessions": [{"session": "s", "repoRoot": str(repo), "workers": workers}]})
    )
    sessions = {"a": "aaaaaaaa-0000-4000-8000-000000000001", "b": "bbbbbbbb-0000-4000-8000-000000000002",
                "operator": "cccccccc-0000-4000-8000-000000000003"}  # fmt: skip
    cwd = {"a": worktrees["a"], "b": worktrees["b"], "operator": repo}
    for who, session in sessions.items():
        for event, extra in (("SessionStart", {"source": "startup"}), ("UserPromptSubmit", {"prompt": f"task {who}"})):
            body = {"session_id": session, "hook_event_name": event, "cwd": str(cwd[who]), **extra}
            assert run_hook(json.dumps(body).encode()).returncode == 0
    done = subprocess.run(
        [sys.executable, "-m", "ecc_hooks", "status", "--no-gh"], capture_output=True, text=True, cwd=repo,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "250"}, timeout=120,
    )  # fmt: skip
    assert done.returncode in (0, 2), done.stderr
    rows = {
        who: next(line for line in done.stdout.splitlines() if line.startswith(sid[:8]))
        for who, sid in sessions.items()
    }
    assert "boom in a" in rows["a"], done.stdout
    assert "boom in a" not in rows["b"] and "task b" in rows["b"], done.stdout
    assert "boom in a" in rows["operator"], done.stdout
