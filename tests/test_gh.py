"""Remote CI and GitHub facts through ``gh``, the way the HUD gets them.

gh itself cannot reach GitHub from this machine, so a ``gh`` executable on PATH answers each call
with the JSON shapes gh documents for those exact commands (``pr view --json number,url``, ``pr checks
--json name,bucket,link``, ``run list --json name,status,conclusion,url``, ``api graphql``) and logs
its argv. What is under test is ours: which calls we make, how we read their answers, and that a
missing, unauthenticated or hung gh leaves the figures unknown instead of failing the payload.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecc_hooks.sources import git as gitstate
from ecc_hooks.sources import github as collect
from ecc_hooks.sources.facts import GitHubFacts
from tests.test_status import make_session, status

# The --json fields gh documents for each command we call (gh help, "JSON FIELDS"): a field outside these
# makes real gh exit 1 with "Unknown JSON field", so the stand-in does too.
GH_JSON_FIELDS = {
    ("pr", "view"): [
        "additions",
        "assignees",
        "author",
        "autoMergeRequest",
        "baseRefName",
        "baseRefOid",
        "body",
        "changedFiles",
        "closed",
        "closedAt",
        "closingIssuesReferences",
        "comments",
        "commits",
        "createdAt",
        "deletions",
        "files",
        "fullDatabaseId",
        "headRefName",
        "headRefOid",
        "headRepository",
        "headRepositoryOwner",
        "id",
        "isCrossRepository",
        "isDraft",
        "labels",
        "latestReviews",
        "maintainerCanModify",
        "mergeCommit",
        "mergeStateStatus",
        "mergeable",
        "mergedAt",
        "mergedBy",
        "milestone",
        "number",
        "potentialMergeCommit",
        "projectCards",
        "projectItems",
        "reactionGroups",
        "reviewDecision",
        "reviewRequests",
        "reviews",
        "state",
        "statusCheckRollup",
        "title",
        "updatedAt",
        "url",
    ],
    ("pr", "checks"): [
        "bucket",
        "completedAt",
        "description",
        "event",
        "link",
        "name",
        "startedAt",
        "state",
        "workflow",
    ],
    ("run", "list"): [
        "attempt",
        "conclusion",
        "createdAt",
        "databaseId",
        "displayTitle",
        "event",
        "headBranch",
        "headSha",
        "name",
        "number",
        "startedAt",
        "status",
        "updatedAt",
        "url",
        "workflowDatabaseId",
        "workflowName",
    ],
}

FAKE_GH = r"""#!PYTHON
import json, os, re, sys, time
FIELDS = FIELDS_JSON
args = sys.argv[1:]
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")

def refuse(why, code=2):
    with open(os.environ["FAKE_GH_LOG"] + ".refused", "a") as log:
        log.write(json.dumps({"args": args, "why": why}) + "\n")
    print(why, file=sys.stderr)
    sys.exit(code)

def fields(rest):
    # exactly `--json a,b,...` and nothing else: every field one gh documents for this command
    if len(rest) != 2 or rest[0] != "--json":
        refuse(f"unexpected arguments {rest}")
    known = FIELDS[" ".join(args[:2])]
    for field in rest[1].split(","):
        if field not in known:
            refuse(f'Unknown JSON field: "{field}"', 1)

mode = os.environ.get("FAKE_GH_MODE", "pr")
if args == ["auth", "status"]:
    sys.exit(1 if mode == "logged-out" else 0)
if mode == "hang":
    time.sleep(30)
if args[:2] == ["pr", "view"]:
    fields(args[2:])
    if mode != "pr":
        print("no pull requests found for branch", file=sys.stderr); sys.exit(1)
    print(json.dumps({"number": 42, "url": "https://github.com/acme/widget/pull/42"}))
elif args[:2] == ["pr", "checks"]:
    fields(args[2:])
    print(json.dumps([{"name": "CI / test", "bucket": "fail", "link": "https://github.com/acme/widget/runs/1"},
                      {"name": "CI / lint", "bucket": "pass", "link": "https://github.com/acme/widget/runs/2"},
                      {"name": "deploy", "bucket": "skipping", "link": ""},
                      {"name": "docs", "bucket": "pending", "link": "https://github.com/acme/widget/runs/3"}]))
elif args[:2] == ["run", "list"]:
    if len(args) < 6 or args[2] != "--branch" or args[4] != "--limit" or not args[5].isdigit():
        refuse(f"unexpected arguments {args[2:]}")
    fields(args[6:])
    print(json.dumps([{"name": "CI", "status": "completed", "conclusion": "success", "url": "https://x/r/1"},
                      {"name": "Nightly", "status": "in_progress", "conclusion": "", "url": "https://x/r/2"},
                      {"name": "Release", "status": "completed", "conclusion": "timed_out", "url": "https://x/r/3"}]))
elif args[:2] == ["api", "graphql"]:
    rest = args[2:]
    if (len(rest) != 6 or rest[0] != "-f" or not rest[1].startswith("query=") or rest[2] != "-F"
            or not rest[3].startswith("o=") or rest[4] != "-F" or not rest[5].startswith("n=")):
        refuse(f"unexpected arguments {rest}")
    print(json.dumps({"data": {"repository": {"pullRequests": {"totalCount": 3}, "issues": {"totalCount": 7},
                                              "discussions": {"totalCount": 1}}}}))
elif args[:2] == ["pr", "create"]:
    # the flags gh documents for `gh pr create` that we use, each once, with a value but --draft
    rest, seen = args[2:], {}
    while rest:
        flag = rest.pop(0)
        if flag == "--draft":
            seen[flag] = True
        elif flag in ("--repo", "--head", "--base", "--title", "--body-file") and rest and flag not in seen:
            seen[flag] = rest.pop(0)
        else:
            refuse(f"unexpected argument {flag}")
    if not all(k in seen for k in ("--repo", "--head", "--base", "--title", "--body-file")):
        refuse(f"missing flags in {args}")
    with open(os.environ["FAKE_GH_LOG"] + ".body", "w") as out:
        out.write(sys.stdin.read() if seen["--body-file"] == "-" else open(seen["--body-file"]).read())
    print("https://github.com/acme/widget/pull/7")
else:
    refuse(f"unknown command {args}")
"""


@pytest.fixture
def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ``gh`` first on PATH; returns its call log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    table = {" ".join(k): v for k, v in GH_JSON_FIELDS.items()}
    gh.write_text(FAKE_GH.replace("PYTHON", sys.executable, 1).replace("FIELDS_JSON", repr(table), 1))
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "gh.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_LOG", str(log))
    yield log
    refused = Path(str(log) + ".refused")
    assert not refused.exists(), f"gh was called in a way it would refuse: {refused.read_text()}"


def github_repo(path: Path) -> Path:
    """A real git repo whose origin is a GitHub URL, on a branch."""
    path.mkdir()
    for args in (["init", "-q", "-b", "feature"], ["remote", "add", "origin", "git@github.com:acme/widget.git"]):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, timeout=30)
    return path


FAKE_SSH = """#!PYTHON
import json, os, shlex, sys
# git's ssh transport: ssh [options] [user@]host "git-receive-pack 'owner/name.git'"; served from a local bare
# repository FAKE_SSH_ROOT/<host>/<owner>/<name>.git, each call logged as (host, command)
host, command = sys.argv[-2].split("@")[-1], shlex.split(sys.argv[-1])
with open(os.environ["FAKE_SSH_ROOT"] + "/calls.log", "a") as log:
    log.write(json.dumps([host, *command]) + "\\n")
os.execvp(command[0], [command[0], os.path.join(os.environ["FAKE_SSH_ROOT"], host, command[1].strip("/"))])
"""


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``ssh`` first on PATH that serves ``git@HOST:OWNER/NAME.git`` from ``<root>/HOST/OWNER/NAME.git``
    (pushes to a GitHub URL stay on this machine); returns that root."""
    root = tmp_path / "ssh-remotes"
    root.mkdir()
    bin_dir = tmp_path / "ssh-bin"
    bin_dir.mkdir()
    ssh = bin_dir / "ssh"
    ssh.write_text(FAKE_SSH.replace("PYTHON", sys.executable, 1))
    ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SSH_ROOT", str(root))
    return root


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_pull_request_checks_and_counts(tmp_path: Path, fake_gh: Path) -> None:
    repo = github_repo(tmp_path / "w")
    github = collect.github_facts(str(repo), gitstate.read_git_state(str(repo)))
    assert github.ready is True
    assert (github.repo, github.latest_pull_request) == ("acme/widget", 42)
    assert (github.open_pull_requests, github.open_issues, github.open_discussions) == (3, 7, 1)
    remote = github.checks or []
    assert [(c.name, c.status) for c in remote] == [
        ("CI / test", "fail"),
        ("CI / lint", "pass"),
        ("deploy", "skipped"),
        ("docs", "pending"),
    ]
    assert remote[0].url == "https://github.com/acme/widget/runs/1" and remote[2].url == ""
    graphql = next(c for c in calls(fake_gh) if c[:2] == ["api", "graphql"])
    assert "o=acme" in graphql and "n=widget" in graphql


def test_no_pull_request_falls_back_to_branch_runs(tmp_path: Path, fake_gh: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_GH_MODE", "no-pr")
    repo = github_repo(tmp_path / "w")
    github = collect.github_facts(str(repo), gitstate.read_git_state(str(repo)))
    assert github.ready and github.latest_pull_request is None
    assert [(c.name, c.status) for c in github.checks or []] == [
        ("CI", "pass"),
        ("Nightly", "pending"),
        ("Release", "fail"),
    ]
    run_list = next(c for c in calls(fake_gh) if c[:2] == ["run", "list"])
    assert run_list[run_list.index("--branch") + 1] == "feature"
    assert not any(c[:2] == ["pr", "checks"] for c in calls(fake_gh))


@pytest.mark.parametrize("mode", ["logged-out", "hang"])
def test_logged_out_or_hung_gh_leaves_ci_unknown(tmp_path: Path, fake_gh: Path, monkeypatch, mode: str) -> None:
    monkeypatch.setenv("FAKE_GH_MODE", mode)
    monkeypatch.setattr(collect, "GH_TIMEOUT", 0.5)
    repo = github_repo(tmp_path / "w")
    github = collect.github_facts(str(repo), gitstate.read_git_state(str(repo)))
    if mode == "logged-out":
        assert github == GitHubFacts(repo="acme/widget", ready=False)
    else:  # auth answered, every later call timed out
        assert github == GitHubFacts(repo="acme/widget", ready=True)


def test_no_github_remote_never_calls_gh(tmp_path: Path, fake_gh: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=plain, check=True, timeout=30)
    assert collect.github_facts(str(plain), gitstate.read_git_state(str(plain))) == GitHubFacts()
    assert calls(fake_gh) == []


def test_status_shows_remote_ci_and_says_why_with_no_gh(ecc_home: Path, tmp_path: Path, fake_gh: Path) -> None:
    work = make_session(tmp_path, "s-gh")
    subprocess.run(
        ["git", "remote", "add", "origin", "https://github.com/acme/widget.git"], cwd=work, check=True, timeout=30
    )
    done = status("--json", "--session", "s-gh")
    assert done.returncode == 0, done.stderr
    hud = json.loads(done.stdout)
    assert [c["status"] for c in hud["checks"]["remote"]] == ["fail", "pass", "skipped", "pending"]
    assert hud["sync"]["GitHub"] == {"repo": "acme/widget", "latestPullRequest": 42}
    assert hud["queueState"]["github"] == {"openPullRequests": 3, "openIssues": 7, "openDiscussions": 1}
    assert any("CI / test" in r for r in hud["risk"]["reasons"]) and hud["risk"]["status"] == "attention"
    assert "pr" in hud["sessionControls"]["supported"]
    before = len(calls(fake_gh))
    offline = json.loads(status("--json", "--session", "s-gh", "--no-gh").stdout)
    assert len(calls(fake_gh)) == before  # --no-gh means no gh at all
    assert offline["checks"]["remote"] == [] and offline["queueState"]["github"]["openPullRequests"] is None
    assert "pr" in [b["control"] for b in offline["sessionControls"]["blocked"]]


def test_the_stand_in_refuses_what_gh_would(tmp_path: Path, fake_gh: Path) -> None:
    """Guard: a field gh does not document, or an argument shape we never use, is refused (and reported)."""
    bad = subprocess.run(["gh", "pr", "view", "--json", "number,checks"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and 'Unknown JSON field: "checks"' in bad.stderr
    refused = Path(str(fake_gh) + ".refused")
    assert refused.exists()
    refused.unlink()  # this test's refusal was the point


def _hud(ecc_home: Path, session: str) -> dict:
    try:
        return json.loads((ecc_home / "sessions" / session / "hud.json").read_text())
    except (OSError, ValueError):
        return {}


def test_the_watcher_asks_gh_once_per_ttl_off_the_fold(daemons, ecc_home: Path, tmp_path: Path, fake_gh: Path) -> None:
    from tests.helpers import running, wait_until
    from tests.test_status import hook

    work = make_session(tmp_path, "s-gh-watch")
    subprocess.run(
        ["git", "remote", "add", "origin", "https://github.com/acme/widget.git"], cwd=work, check=True, timeout=30
    )
    running(daemons("--idle-exit", "300"))
    wait_until(lambda: _hud(ecc_home, "s-gh-watch").get("sync", {}).get("GitHub", {}).get("latestPullRequest") == 42,
               30, "gh's answer in hud.json")  # fmt: skip
    hud = _hud(ecc_home, "s-gh-watch")
    assert [c["status"] for c in hud["checks"]["remote"]] == ["fail", "pass", "skipped", "pending"]
    assert "pr" in hud["sessionControls"]["supported"]
    transcript = tmp_path / "s-gh-watch.jsonl"
    for n in range(3):  # more events within the TTL: facts reused, gh not asked again
        hook("s-gh-watch", "UserPromptSubmit", work, transcript, prompt=f"more {n}")
    wait_until(lambda: _hud(ecc_home, "s-gh-watch").get("context", {}).get("turnState") == "running", 30, "the fold")
    assert sum(1 for c in calls(fake_gh) if c[:2] == ["pr", "view"]) == 1


def test_a_logged_out_gh_is_asked_again_only_after_its_backoff(
    daemons, ecc_home: Path, tmp_path: Path, fake_gh: Path, monkeypatch
) -> None:
    from tests.helpers import running, wait_until
    from tests.test_status import hook

    monkeypatch.setenv("FAKE_GH_MODE", "logged-out")
    work = make_session(tmp_path, "s-gh-out")
    subprocess.run(
        ["git", "remote", "add", "origin", "https://github.com/acme/widget.git"], cwd=work, check=True, timeout=30
    )
    running(daemons("--idle-exit", "300"))
    wait_until(lambda: any(c == ["auth", "status"] for c in calls(fake_gh)), 30, "the first gh call")
    transcript = tmp_path / "s-gh-out.jsonl"
    for n in range(3):
        hook("s-gh-out", "UserPromptSubmit", work, transcript, prompt=f"more {n}")
        time.sleep(0.3)
    wait_until(lambda: _hud(ecc_home, "s-gh-out").get("context", {}).get("turnState") == "running", 30, "the fold")
    assert calls(fake_gh) == [["auth", "status"]]  # backing off: not asked on every change
    hud = _hud(ecc_home, "s-gh-out")
    assert "pr" in [b["control"] for b in hud["sessionControls"]["blocked"]]
