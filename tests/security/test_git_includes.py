"""Finding 2 (issue 23): config a repository includes runs nothing, wherever and whenever it would apply.

``includeIf`` conditions (``gitdir``, ``gitdir/i``, ``onbranch``, ``hasconfig:remote.*.url``) and nested includes
can pull in config that applies only in another folder (a new worktree), on another branch or after a merge: the
safe runner follows every include of the repository scope unconditionally and neutralises every command-valued key
in any of them; an include it cannot account for (another user's file or folder, a FIFO) stops git from running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecc_hooks.sources import git as gitstate
from tests.helpers import GIT_ENV, ecc, git, make_repo, wait_until
from tests.security.support import HOSTILE_KEYS, marker_script, ran

CONDITIONS = {
    "gitdir": "gitdir:**/worktrees/**",
    "gitdir/i": "gitdir/i:**/WORKTREES/**",
    "onbranch": "onbranch:orchestrator-**",
    "hasconfig": "hasconfig:remote.*.url:https://evil.example.invalid/**",
}


def hostile_include(repo: Path, markers: Path, condition: str | None, nested: bool = False) -> Path:
    """Every ``HOSTILE_KEYS`` key in ``.git/evil.cfg``, included under ``condition`` (unconditionally when None;
    through a second include file when ``nested``); ``.gitattributes`` routes every file through the ``evil``
    filter, diff and merge drivers. The repository's own ``.git/config`` names no command."""
    markers.mkdir(parents=True, exist_ok=True)
    hooks = markers / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-checkout", "pre-commit", "post-commit", "post-merge", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\necho ran >> '{markers}/ran-hook-{hook}'\n")
        (hooks / hook).chmod(0o755)
    evil = repo / ".git" / "evil.cfg"
    for key in HOSTILE_KEYS:
        value = str(hooks) if key == "core.hooksPath" else str(marker_script(markers, key))
        git(repo, "config", "--file", str(evil), key, value)
    target = "evil.cfg"
    if nested or (condition and condition.startswith("hasconfig:")):
        # git refuses a remote URL from a conditional include, so hasconfig holds in every folder: what it
        # includes is itself behind a condition that holds only in new worktrees
        inner = "include.path" if nested else f"includeIf.{CONDITIONS['gitdir']}.path"
        git(repo, "config", "--file", str(repo / ".git" / "middle.cfg"), inner, "evil.cfg")
        target = "middle.cfg"
    if condition and condition.startswith("hasconfig:"):
        git(repo, "remote", "add", "evil", "https://evil.example.invalid/x.git")
    git(repo, "config", f"includeIf.{condition}.path" if condition else "include.path", target)
    return repo


def attributed_repo(path: Path) -> Path:
    repo = make_repo(path)
    (repo / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    return repo


def plain_git(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=cwd, env={**env, **GIT_ENV}, capture_output=True, timeout=30)


# ---------------------------------------------------------------------------- the reproduction


def test_session_create_runs_no_smudge_filter_a_worktree_only_include_names(tmp_path: Path, runtime: str) -> None:
    markers = tmp_path / "markers"
    repo = attributed_repo(tmp_path / "repo")
    markers.mkdir()
    smudge = marker_script(markers, "smudge")
    (repo / ".git" / "evil.cfg").write_text(f'[filter "evil"]\n\tsmudge = {smudge}\n\tclean = cat\n')
    (repo / ".git" / "config").write_text(
        (repo / ".git" / "config").read_text()
        + '[includeIf "gitdir:**/worktrees/**"]\n\tpath = evil.cfg\n'
        + '[includeIf "onbranch:orchestrator-**"]\n\tpath = evil.cfg\n'
    )
    # the control arm: plain git does run the filter in a new worktree
    plain_git(repo, "worktree", "add", "-q", "-b", "control", str(tmp_path / "control"))
    assert ran(markers), "the hostile repository runs nothing under plain git: the test shows nothing"
    plain_git(repo, "worktree", "remove", "--force", str(tmp_path / "control"))
    for marker in markers.glob("ran-*"):
        marker.unlink()
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "inc", "repoRoot": str(repo), "launcherCommand": "sleep 300",
                                "workers": [{"name": "a", "task": "x"}, {"name": "b", "task": "y"}]}))  # fmt: skip
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "repo-inc-a" / "a.txt").read_text() == "one\n"
    assert ran(markers) == []


# ---------------------------------------------------------------------------- every key, every condition kind

# Commands that between them would run every HOSTILE_KEYS command (tests/security/test_git_runs_nothing.py).
COMMANDS: list[tuple[tuple[str, ...], bytes | None]] = [
    (("status", "--porcelain=v2", "--branch", "-z"), None),
    (("diff", "HEAD"), None),
    (("log", "-p", "-n2", "--show-signature"), None),
    (("commit", "-q", "--allow-empty", "-m", "x"), None),
    (("commit", "-q", "--allow-empty"), None),
    (("checkout", "-q", "HEAD", "--", "a.txt"), None),
    (("credential", "fill"), b"protocol=https\nhost=example.invalid\n\n"),
    (("ls-remote", "origin"), None),
    (("ls-remote", "ssh://example.invalid/x.git"), None),
    (("ls-remote", "git://example.invalid/x.git"), None),
    (("push", "-q", "origin", "HEAD:refs/heads/pushed"), None),
]


@pytest.mark.parametrize("kind", [*CONDITIONS, "nested"])
def test_no_key_an_include_names_runs_under_any_condition(tmp_path: Path, kind: str) -> None:
    markers = tmp_path / "markers"
    repo = attributed_repo(tmp_path / "repo")
    git(repo, "remote", "add", "origin", str(make_repo(tmp_path / "origin")))
    hostile_include(repo, markers, CONDITIONS.get(kind, CONDITIONS["gitdir"]), nested=kind == "nested")
    (repo / "a.txt").write_text("two\n")
    os.utime(repo / "a.txt", (1e9, 1e9))  # racy: status must hash it (the clean filter)
    plain_git(repo, "worktree", "add", "-q", "-b", "orchestrator-control", str(tmp_path / "control"))
    assert ran(markers), f"{kind}: the include does not apply in a new worktree under plain git"
    plain_git(repo, "worktree", "remove", "--force", str(tmp_path / "control"))
    for marker in markers.glob("ran-*"):
        marker.unlink()
    # the runtime's way: one runner made in the main checkout adds the worktree (git resets it in there)
    runner = gitstate.runner(str(repo), 60)
    worktree = tmp_path / "wt"
    added = runner.run("worktree", "add", "-q", "-b", "orchestrator-x", str(worktree), "HEAD")
    assert added is not None and added[0] == 0, added
    assert ran(markers) == []
    (worktree / "a.txt").write_text("two\n")
    os.utime(worktree / "a.txt", (1e9, 1e9))
    here = gitstate.runner(str(worktree), 120)
    for args, stdin in COMMANDS:
        here.run(*args, input=stdin)
    # and in the main checkout once it is on a branch the onbranch condition names
    runner.run("checkout", "-q", "-b", "orchestrator-y")
    for args, stdin in COMMANDS:
        runner.run(*args, input=stdin)
    assert ran(markers) == []


def test_an_included_file_a_merge_changes_is_read_again_before_the_next_command(tmp_path: Path) -> None:
    # `include.path = ../team.cfg` names a file of the work tree: commits change it, so a runner reads it again
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = make_repo(tmp_path / "repo")
    (repo / "team.cfg").write_text("[core]\n\tautocrlf = false\n")
    git(repo, "add", "team.cfg")
    git(repo, "commit", "-qm", "team config")
    git(repo, "config", "include.path", "../team.cfg")
    git(repo, "checkout", "-q", "-b", "worker")
    smudge = marker_script(markers, "smudge")
    (repo / "team.cfg").write_text(f'[filter "evil"]\n\tsmudge = {smudge}\n\tclean = cat\n')
    (repo / ".gitattributes").write_text("*.txt filter=evil\n")
    git(repo, "add", "team.cfg", ".gitattributes")
    git(
        repo,
        "commit",
        "-qm",
        "the worker's config",
        env={"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "filter.evil.clean", "GIT_CONFIG_VALUE_0": "cat"},
    )
    git(
        repo,
        "checkout",
        "-q",
        "main",
        env={"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "filter.evil.smudge", "GIT_CONFIG_VALUE_0": "cat"},
    )
    assert ran(markers) == []
    runner = gitstate.runner(str(repo), 60)
    merged = runner.run("-c", "user.name=t", "-c", "user.email=t@x", "merge", "-q", "--no-edit", "worker")
    assert merged is not None and merged[0] == 0, merged
    (repo / "a.txt").unlink()
    runner.run("checkout", "-q", "HEAD", "--", "a.txt")
    assert (repo / "a.txt").read_text() == "one\n" and ran(markers) == []


def test_the_runtime_merges_and_diffs_run_nothing_an_include_names(tmp_path: Path, runtime: str) -> None:
    from tests.test_session_merge import commit, crafted_repo

    markers = tmp_path / "markers"
    repo = crafted_repo(tmp_path / "repo")
    (repo / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "attributes")
    workers = [
        {"name": "m", "task": "one", "launcherCommand": commit("m.txt", "m", "m")},
        {"name": "r", "task": "two", "launcherCommand": commit("r.txt", "r", "r")},
        {"name": "s", "task": "three", "launcherCommand": commit("s.txt", "s", "s")},
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "mq", "repoRoot": str(repo), "workers": workers}))
    created = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert created.returncode == 0, created.stderr

    def finished() -> bool:
        listed = json.loads(ecc("session", "list", "--json", cwd=repo).stdout)
        return all(w["state"] == "completed" for w in listed[0]["workers"])

    wait_until(finished, 90, "the workers to finish")
    (repo / "common.txt").write_text("base moved\n")
    git(repo, "commit", "-qam", "the base moves: every worker merges it in first")
    # now the repository turns hostile, its commands only behind conditions
    hostile_include(repo, markers, CONDITIONS["gitdir"])
    git(repo, "config", "includeIf.onbranch:orchestrator-**.path", "evil.cfg")
    git(repo, "config", "includeIf.onbranch:main.path", "evil.cfg")
    diffed = ecc("session", "diff", "mq", "--json", cwd=repo)
    assert diffed.returncode == 0, diffed.stderr
    assert ran(markers) == []
    for worker, strategy in (("m", "merge"), ("r", "rebase"), ("s", "squash")):
        for other in "mrs":  # one worker at a time, each with its strategy: the others wait as dirty
            hold = tmp_path / f"repo-mq-{other}" / "hold.txt"
            if other == worker:
                hold.unlink(missing_ok=True)
            else:
                hold.write_text("x")
        applied = ecc("session", "merge-queue", "mq", "--apply", "--strategy", strategy, cwd=repo)
        assert applied.returncode == 0, applied.stderr
        assert f"{worker}: merged orchestrator-mq-{worker} into main ({strategy})" in applied.stdout
        assert ran(markers) == []
    diffed = ecc("session", "diff", "mq", cwd=repo)
    assert diffed.returncode == 0, diffed.stderr
    assert ran(markers) == []


# ---------------------------------------------------------------------------- what cannot be accounted for


def fifo_repo(tmp_path: Path, condition: str | None) -> Path:
    repo = attributed_repo(tmp_path / "repo")
    os.mkfifo(repo / ".git" / "fifo.cfg")
    git(repo, "config", f"includeIf.{condition}.path" if condition else "include.path", "fifo.cfg")
    return repo


def test_a_fifo_include_never_blocks_and_names_itself(tmp_path: Path) -> None:
    # Read in a child with a time bound: GitPython, which toplevel used, blocked on the FIFO forever.
    repo = fifo_repo(tmp_path, None)
    script = (
        "import json, sys\nfrom ecc_hooks.sources import git\n"
        "state = git.read_git_state(sys.argv[1], timeout=20)\n"
        "status = git.run(sys.argv[1], 'status')\n"
        "print(json.dumps([git.toplevel(sys.argv[1], timeout=20), state.errors, status[0], status[2]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(repo)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    top, errors, code, why = json.loads(done.stdout)
    assert top is None and "fifo.cfg" in errors[0] and "not a regular file" in errors[0]
    assert code == gitstate.REFUSED and "fifo.cfg" in why


def test_session_create_refuses_a_fifo_include_that_applies_only_in_worktrees(tmp_path: Path, runtime: str) -> None:
    repo = fifo_repo(tmp_path, CONDITIONS["gitdir"])
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "ff", "repoRoot": str(repo), "launcherCommand": "sleep 300",
                                "workers": [{"name": "a", "task": "x"}]}))  # fmt: skip
    done = ecc("session", "create", str(plan), "--execute", cwd=repo, timeout=100)
    assert done.returncode == 1 and "fifo.cfg" in done.stderr and "not a regular file" in done.stderr
    assert not (tmp_path / "repo-ff-a").exists()


@pytest.mark.parametrize("where", ["owned-by-nobody", "folder-others-write", "missing-in-sticky-folder"])
def test_an_include_another_user_could_change_stops_git(tmp_path: Path, where: str, runtime: str) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = attributed_repo(tmp_path / "repo")
    open_folder = tmp_path / "open-folder"
    open_folder.mkdir()
    target = open_folder / "x.cfg"
    if where == "owned-by-nobody":
        target.write_text("[core]\n\tautocrlf = false\n")  # harmless today: its owner can change that any time
        os.chown(target, 65534, 65534)
    elif where == "folder-others-write":
        target.write_text("[core]\n\tautocrlf = false\n")
        open_folder.chmod(0o777)
    else:
        open_folder.chmod(0o1777)  # /tmp-like: anyone may create x.cfg later
    git(repo, "config", "includeIf.gitdir:**/worktrees/**.path", str(target))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"sessionName": "ot", "repoRoot": str(repo), "launcherCommand": "sleep 300",
                                "workers": [{"name": "a", "task": "x"}]}))  # fmt: skip
    done = ecc("session", "create", str(plan), "--execute", cwd=repo)
    assert done.returncode == 1 and str(target) in done.stderr, done.stderr
    assert not (tmp_path / "repo-ot-a").exists() and ran(markers) == []
    status = gitstate.run(str(repo), "status", "--porcelain")
    assert status is not None and status[0] == gitstate.REFUSED and str(target) in status[2], status


def test_an_include_the_user_owns_in_a_sticky_folder_is_followed(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = attributed_repo(tmp_path / "repo")
    open_folder = tmp_path / "open-folder"
    open_folder.mkdir()
    open_folder.chmod(0o1777)
    smudge = marker_script(markers, "smudge")
    (open_folder / "x.cfg").write_text(f'[filter "evil"]\n\tsmudge = {smudge}\n')
    git(repo, "config", "includeIf.gitdir:**/worktrees/**.path", str(open_folder / "x.cfg"))
    added = gitstate.run(str(repo), "worktree", "add", "-q", "-b", "w", str(tmp_path / "wt"), timeout=30)
    assert added is not None and added[0] == 0, added
    assert ran(markers) == []


def test_a_core_worktree_pointing_elsewhere_stops_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    victim = tmp_path / "victim"
    victim.mkdir()
    git(repo, "config", "core.worktree", str(victim))
    done = gitstate.run(str(repo), "checkout", "-f", "HEAD", "--", ".", timeout=30)
    assert list(victim.iterdir()) == []  # nothing written into the folder core.worktree names
    assert done is not None and done[0] == gitstate.REFUSED and "core.worktree" in done[2], done


def test_submodule_style_core_worktree_still_works(tmp_path: Path) -> None:
    # an absorbed submodule's git dir names its work tree with core.worktree: the folder holding its .git file
    repo = make_repo(tmp_path / "repo")
    sub_git = repo / ".git" / "modules" / "sub"
    git(repo, "clone", "-q", "--bare", str(repo), str(sub_git))
    git(sub_git, "config", "core.bare", "false")
    git(sub_git, "config", "core.worktree", "../../../sub")
    (repo / "sub").mkdir()
    (repo / "sub" / ".git").write_text("gitdir: ../.git/modules/sub\n")
    git(repo / "sub", "checkout", "-q", "-f", "main")
    assert gitstate.read_git_state(str(repo / "sub")).worktree == str(repo / "sub")
    assert gitstate.toplevel(str(repo / "sub")) == str(repo / "sub")


# ---------------------------------------------------------------------------- keys git tells apart


def test_two_drivers_whose_names_differ_only_in_case_are_both_neutralised(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = attributed_repo(tmp_path / "repo")
    git(repo, "config", "filter.Evil.smudge", "cat")
    git(repo, "config", "filter.evil.smudge", str(marker_script(markers, "smudge")))
    (repo / "a.txt").unlink()
    gitstate.run(str(repo), "checkout", "-q", "HEAD", "--", "a.txt", timeout=30)
    assert (repo / "a.txt").read_text() == "one\n" and ran(markers) == []


def test_a_url_scoped_helper_first_still_empties_every_helper(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "credential.https://example.invalid.helper", "!true")
    git(repo, "config", "credential.helper", str(marker_script(markers, "helper")))
    gitstate.run(str(repo), "credential", "fill", timeout=30)  # no input: only the helpers could answer
    done = gitstate._Runner(str(repo), 30).run("credential", "fill", input=b"protocol=https\nhost=other.invalid\n\n")
    assert done is not None and ran(markers) == []


# ---------------------------------------------------------------------------- parsing, as properties

_segment = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1, max_size=12)


@given(
    entries=st.lists(
        st.tuples(
            st.text(st.characters(blacklist_characters="\0\n", blacklist_categories=("Cs",)), min_size=1, max_size=30),
            st.one_of(st.none(), st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)))),
        ),
        max_size=8,
    )
)
def test_file_entries_reads_back_any_listing(entries: list[tuple[str, str | None]]) -> None:
    data = b"".join((k if v is None else f"{k}\n{v}").encode() + b"\0" for k, v in entries)
    assert gitstate.file_entries(data) == entries


@given(
    value=st.one_of(
        st.lists(_segment, min_size=1, max_size=4).map("/".join),
        st.lists(_segment, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p)),
        st.lists(_segment, min_size=1, max_size=3).map(lambda p: "~/" + "/".join(p)),
    ),
    condition=st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)),
)
def test_include_targets_resolve_as_git_does(value: str, condition: str | None) -> None:
    key = "include.path" if condition is None else f"includeIf.{condition}.path"
    including = "/repo/.git/config"
    targets = gitstate.include_targets([(key, value), ("core.pager", value), (key, None)], including, "/home/u")
    if value.startswith("%(prefix)/"):
        return
    if value.startswith("~/"):
        assert targets == ["/home/u" + value[1:]]
    elif value.startswith("~"):
        assert len(targets) <= 1  # ~user/: that user's home, when there is such a user
    elif value.startswith("/"):
        assert targets == [value]
    else:
        assert targets == ["/repo/.git/" + value]  # relative to the including file's folder, never normalised


@settings(max_examples=25, deadline=None)
@given(name=st.text(st.characters(blacklist_characters="\0\n\"\\", blacklist_categories=("Cs", "Cc")), min_size=1,
                    max_size=16))  # fmt: skip
def test_any_driver_name_in_an_included_file_is_overridden(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    folder = tmp_path_factory.mktemp("prop")
    repo = make_repo(folder / "repo")
    (repo / ".git" / "inc.cfg").write_text(f'[filter "{name}"]\n\tsmudge = evil\n\tprocess = evil\n')
    git(repo, "config", "includeIf.onbranch:nowhere.path", "inc.cfg")
    runner = gitstate._Runner(str(repo), 30)
    runner.safe_env()
    overridden = dict(runner.safety.overrides)
    assert overridden[f"filter.{name}.smudge"] == "" and overridden[f"filter.{name}.process"] == ""


# ---------------------------------------------------------------------------- submodules: repositories of their own


@pytest.mark.parametrize("layout", ["absorbed", "embedded"])
def test_a_submodules_own_config_runs_nothing(tmp_path: Path, layout: str) -> None:
    # git status goes into each submodule (another repository, with its own config) to see if it is modified
    markers = tmp_path / "markers"
    markers.mkdir()
    lib = attributed_repo(tmp_path / "lib")
    repo = make_repo(tmp_path / "repo")
    if layout == "absorbed":  # .git/modules/lib, as `git submodule add` makes it
        git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib")
        sub_git = repo / ".git" / "modules" / "lib"
    else:  # a repository inside the work tree, committed as a gitlink
        git(repo, "clone", "-q", str(lib), "lib")
        git(repo, "add", "lib")
        (repo / ".gitmodules").write_text(f'[submodule "lib"]\n\tpath = lib\n\turl = {lib}\n')
        git(repo, "add", ".gitmodules")
        sub_git = repo / "lib" / ".git"
    git(repo, "config", "--file", ".gitmodules", "submodule.lib.ignore", "none")  # outranks diff.ignoreSubmodules
    git(repo, "commit", "-qam", "the submodule")
    git(repo, "config", "--file", str(sub_git / "config"), "filter.evil.clean", str(marker_script(markers, "clean")))
    (repo / "lib" / "a.txt").write_text("two\n")
    os.utime(repo / "lib" / "a.txt", (1e9, 1e9))
    plain_git(repo, "status", "--porcelain")
    assert ran(markers), "plain git status runs the submodule's filter: the test shows nothing otherwise"
    for marker in markers.glob("ran-*"):
        marker.unlink()
    state = gitstate.read_git_state(str(repo), timeout=20)
    assert state.is_repo and state.branch == "main"
    gitstate.run(str(repo), "diff", "HEAD", timeout=20)
    gitstate.run(str(repo), "status", "--porcelain", timeout=20)
    assert ran(markers) == []


@given(
    section=st.text("abcXYZ", min_size=1, max_size=6),
    middle=st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)),
    name=st.text("abcXYZ", min_size=1, max_size=6),
)
def test_canonical_key_keeps_the_subsections_case_only(section: str, middle: str | None, name: str) -> None:
    key = f"{section}.{name}" if middle is None else f"{section}.{middle}.{name}"
    want = key.lower() if middle is None else f"{section.lower()}.{middle}.{name.lower()}"
    assert gitstate.canonical_key(key) == want and gitstate.canonical_key(want) == want


def test_a_folder_reached_through_a_link_finds_the_repository_git_finds(tmp_path: Path) -> None:
    # git walks up from the physical folder: the link's own parents hold no repository
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = attributed_repo(tmp_path / "repo")
    (repo / "sub").mkdir()
    (repo / ".git" / "evil.cfg").write_text(f'[filter "evil"]\n\tsmudge = {marker_script(markers, "smudge")}\n')
    git(repo, "config", f"includeIf.{CONDITIONS['onbranch']}.path", "evil.cfg")
    (tmp_path / "link").symlink_to(repo / "sub")
    runner = gitstate.runner(str(tmp_path / "link"), 30)
    runner.run("checkout", "-q", "-b", "orchestrator-x")
    (repo / "a.txt").unlink()
    runner.run("checkout", "-q", "HEAD", "--", ":/a.txt")
    assert (repo / "a.txt").read_text() == "one\n" and ran(markers) == []
