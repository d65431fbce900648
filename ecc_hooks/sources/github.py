"""GitHub facts through the ``gh`` command-line tool: CI checks of the branch's pull request (or its workflow
runs), the pull request itself and open counts. Every call goes through ``proc.run`` with a time bound and
no prompt; any failure means "unknown", never an error."""

from __future__ import annotations

import shutil
from typing import Any, Optional

import orjson

from ecc_hooks.core import proc
from ecc_hooks.sources import git as gitstate
from ecc_hooks.sources.facts import GitHubFacts, RemoteCheckFact

GH_TIMEOUT = 4.0  # seconds per gh call; CI status is nice to have, never worth a hung HUD


def _gh(args: list[str], cwd: Optional[str]) -> Optional[Any]:
    """Run ``gh`` with a timeout; parsed JSON stdout, or None on any failure."""
    result = proc.run(["gh", *args], cwd=cwd, timeout=GH_TIMEOUT, env=_gh_env())
    if not result.ok:
        return None
    try:
        return orjson.loads(result.out) if result.out.strip() else None
    except orjson.JSONDecodeError:
        return None


def gh_ready(cwd: Optional[str]) -> bool:
    """gh is installed and authenticated (``gh auth status`` exits 0)."""
    if shutil.which("gh") is None:
        return False
    return proc.run(["gh", "auth", "status"], cwd=cwd, timeout=GH_TIMEOUT, env=_gh_env()).ok


def create_pull_request(
    cwd: str, *, repository: str, head: str, base: str, title: str, body: str, draft: bool
) -> tuple[Optional[str], str]:
    """``gh pr create`` in ``repository`` (``host/owner/name``: the one the branch was pushed to, never one gh
    guesses from other remotes) for ``head`` into ``base`` with ``body`` (given on stdin, ``--body-file -``: gh
    never opens a file we did not check): (its URL, or None, and what gh said)."""
    argv = ["gh", "pr", "create", "--repo", repository, "--head", head, "--base", base, "--title", title]
    argv += ["--body-file", "-"]
    done = proc.run(
        argv + (["--draft"] if draft else []), cwd=cwd, timeout=120, input=body.encode("utf-8"), env=_gh_env()
    )
    said = (done.out + done.err).decode("utf-8", "replace").strip()
    urls = [w for w in said.split() if w.startswith("https://")]
    return (urls[-1] if done.ok and urls else None), said


def _gh_env() -> dict[str, str]:
    """gh without prompts, colour or a pager; git variables of the caller's dropped (gh runs git)."""
    return proc.clean_env(
        ("GIT_",),
        {"GH_PROMPT_DISABLED": "1", "NO_COLOR": "1", "GH_PAGER": "cat", "PAGER": "cat", "GIT_TERMINAL_PROMPT": "0"},
    )


_CHECK_BUCKET = {"pass": "pass", "fail": "fail", "pending": "pending", "skipping": "skipped", "cancel": "fail"}
_RUN_CONCLUSION = {
    "success": "pass",
    "failure": "fail",
    "timed_out": "fail",
    "cancelled": "fail",
    "startup_failure": "fail",
    "skipped": "skipped",
    "neutral": "skipped",
}


def remote_checks_from_gh(pr_checks: Any, runs: Any) -> list[RemoteCheckFact]:
    """Remote checks from ``gh pr checks --json name,bucket,link`` or else ``gh run list --json ...``."""
    checks: list[RemoteCheckFact] = []
    if isinstance(pr_checks, list) and pr_checks:
        for item in pr_checks:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                checks.append(
                    RemoteCheckFact(
                        name=item["name"],
                        status=_CHECK_BUCKET.get(str(item.get("bucket")), "unknown"),
                        url=item.get("link") if isinstance(item.get("link"), str) else None,
                    )
                )
    elif isinstance(runs, list):
        for item in runs:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            if item.get("status") != "completed":
                status = "pending"
            else:
                status = _RUN_CONCLUSION.get(str(item.get("conclusion")), "unknown")
            checks.append(
                RemoteCheckFact(
                    name=item["name"], status=status, url=item.get("url") if isinstance(item.get("url"), str) else None
                )
            )
    return checks


def github_facts(cwd: Optional[str], git: gitstate.GitState) -> GitHubFacts:
    """What gh says about the session's repository and branch (``ready`` False: gh was not usable)."""
    github = GitHubFacts(repo=git.repo)
    if not cwd or not git.repo or not gh_ready(cwd):
        return github
    github.ready = True
    pr = _gh(["pr", "view", "--json", "number,url"], cwd)
    if isinstance(pr, dict) and isinstance(pr.get("number"), int) and not isinstance(pr.get("number"), bool):
        github.latest_pull_request = pr["number"]
    pr_checks = (
        _gh(["pr", "checks", "--json", "name,bucket,link"], cwd) if github.latest_pull_request is not None else None
    )
    runs = None
    if not pr_checks and git.branch:
        runs = _gh(
            ["run", "list", "--branch", git.branch, "--limit", "10", "--json", "name,status,conclusion,url"], cwd
        )
    if pr_checks is not None or runs is not None:
        github.checks = remote_checks_from_gh(pr_checks, runs)
    counts = _gh(
        [
            "api",
            "graphql",
            "-f",
            "query=query($o:String!,$n:String!){repository(owner:$o,name:$n)"
            "{pullRequests(states:OPEN){totalCount} issues(states:OPEN){totalCount} "
            "discussions{totalCount}}}",
            "-F",
            f"o={git.repo.split('/')[0]}",
            "-F",
            f"n={git.repo.split('/')[-1]}",
        ],
        cwd,
    )
    repository = ((counts or {}).get("data") or {}).get("repository") if isinstance(counts, dict) else None
    if isinstance(repository, dict):

        def total(name: str) -> Optional[int]:
            entry = repository.get(name)
            value = entry.get("totalCount") if isinstance(entry, dict) else None
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        github.open_pull_requests = total("pullRequests")
        github.open_issues = total("issues")
        github.open_discussions = total("discussions")
    return github
