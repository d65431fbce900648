"""From a plan file (``models.plan.Plan``) to what a session would create: names, branches, worktrees, files.

Names, branches, worktree paths and the coordination folder follow ECC's orchestrator
(``scripts/lib/tmux-worktree-orchestrator.js``), so that ECC's own tools find our sessions: the session name and
each worker's slug are ``slugify``-ed (lower case, runs of other characters as ``-``; accents dropped and other
scripts' letters kept where ECC's drops them), the branch is
``orchestrator-<session>-<worker>``, the worktree ``<worktreeRoot>/<repo folder>-<session>-<worker>``, the
worker's files ``<coordinationRoot>/<session>/<worker>/{task,status,handoff}.md``. ``dry_run`` prints the same
preview document ECC's ``orchestrate-worktrees.js`` prints without ``--execute`` (its keys, then ours).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import ValidationError

from ecc_hooks.core.errors import UserError
from ecc_hooks.models.plan import Plan, WorkerSpec
from ecc_hooks.runtime import agents

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# git keeps each branch in a file named after it (with ``.lock`` and reflog files beside it) and a worktree's
# metadata in a folder named after its folder: one path component each, at most 255 bytes on every common file
# system. A margin is kept for the names git and we add (``.lock``, a number when a name is taken).
NAME_BYTES = 200
PATH_BYTES = 3072  # a worktree's path, leaving room for the repository's own files below it (PATH_MAX 4096)


SEPARATORS = re.compile(r"[\W_]+")  # with str patterns \w is every script's letters and digits


def slugify(value: object, fallback: str = "worker") -> str:
    """ECC's slug: lower case, every run of characters other than letters and digits one ``-``, none at the ends.

    For an ASCII name that is exactly ECC's (``[^a-z0-9]+``). ECC's drops every other letter too, so a unicode name
    came out empty (the bare ``worker-N``) or mangled (``Données`` as ``donn-es``): here accents are taken off
    (NFKD, combining marks dropped: ``donnees``) and the letters of other scripts kept (``数据``), so a name with
    any letter or digit keeps a slug the user recognises."""
    import unicodedata

    text = unicodedata.normalize("NFKD", str(value or "")).lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = SEPARATORS.sub("-", text).strip("-")
    return text or fallback


def check_lengths(name: str, branch: str, worktree: str) -> None:
    """UserError naming the limit when a worker's branch or worktree name would be too long for git or the file
    system (git would fail half way, with a message about a lock or a folder it could not create)."""
    shown = repr(name[:40]) + ("..." if len(name) > 40 else "")
    for what, value in (("branch", branch), ("worktree folder", os.path.basename(worktree))):
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > NAME_BYTES:
            raise UserError(
                f"worker {shown}: its {what} name would be {size} bytes, over the {NAME_BYTES} git and "
                "the file system allow for one name; shorten the worker's name (or the session's)"
            )
    size = len(worktree.encode("utf-8", "surrogatepass"))
    if size > PATH_BYTES:
        raise UserError(
            f"worker {shown}: its worktree path would be {size} bytes, over {PATH_BYTES}; choose a shorter "
            "worktreeRoot or shorter names"
        )


def render_template(template: str, variables: dict[str, str]) -> str:
    """ECC's ``{name}`` substitution; an unknown name is an error, as in ECC."""
    if not template.strip():
        raise UserError("launcherCommand must be a non-empty string")

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            raise UserError(f"unknown template variable in launcherCommand: {{{key}}}")
        return variables[key]

    return PLACEHOLDER.sub(sub, template)


def quote(value: str) -> str:
    """ECC's shell quoting: always in single quotes, a ``'`` inside as ``'\\''``."""
    return "'" + value.replace("'", "'\\''") + "'"


def template_variables(values: dict[str, str]) -> dict[str, str]:
    """Each value as ``{key}`` and ``{key_raw}`` (as is) and ``{key_sh}`` (shell-quoted), as ECC offers them."""
    out: dict[str, str] = {}
    for key, value in values.items():
        out[key] = out[f"{key}_raw"] = value
        out[f"{key}_sh"] = quote(value)
    return out


def seed_paths(entries: list[str], repo_root: str) -> list[str]:
    """Plan seed paths relative to the repository, each once; one outside it is an error (as ECC)."""
    seen: list[str] = []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            continue
        absolute = os.path.normpath(os.path.join(repo_root, entry))
        relative = os.path.relpath(absolute, repo_root)
        if relative == ".." or relative.startswith(".." + os.sep) or os.path.isabs(relative):
            raise UserError(f"seedPaths entries must stay inside repoRoot: {entry}")
        relative = relative.replace(os.sep, "/")
        if relative not in seen:
            seen.append(relative)
    return seen


@dataclass
class WorkerPlan:
    """One worker as the session would create it."""

    name: str
    slug: str
    task: str
    branch: str
    worktree: str
    coordination_dir: str
    task_file: str
    handoff_file: str
    status_file: str
    seed_paths: list[str]
    launch_command: str
    git_args: list[str]
    spec: WorkerSpec
    session_id: Optional[str] = None  # a Claude Code worker's --session-id, chosen by us
    agent_launch: bool = False  # the launch command is the agent's own (not a launcherCommand)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SessionPlan:
    """A whole session as it would be created."""

    plan_file: Optional[str]
    session: str
    repo_root: str
    coordination_dir: str
    base_ref: str
    workers: list[WorkerPlan]
    max_parallel: Optional[int]


def load(path: str) -> Plan:
    """A plan file, validated (UserError with every problem for a bad one)."""
    try:
        with open(path, "rb") as handle:
            raw = json.loads(handle.read(1 << 22))
    except OSError as exc:
        raise UserError(f"cannot read the plan {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(f"the plan {path} is not JSON: {exc}") from None
    return validate(raw, path)


def validate(raw: object, where: str = "the plan") -> Plan:
    """``raw`` as a Plan, or a UserError listing every problem with its place."""
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise UserError(f"{where} is not a valid plan:\n  " + "\n  ".join(problems)) from None


def build(plan: Plan, plan_file: Optional[str] = None, cwd: Optional[str] = None) -> SessionPlan:
    """What the plan would create (pure). Relative paths are resolved against ``cwd`` (default: the current
    directory), as ECC's orchestrator resolves them."""
    here = cwd or os.getcwd()
    repo_root = os.path.abspath(os.path.join(here, plan.repoRoot or "."))
    repo_name = os.path.basename(repo_root.rstrip("/"))
    session = slugify(plan.sessionName or repo_name, "session")
    worktree_root = os.path.abspath(os.path.join(here, plan.worktreeRoot or os.path.dirname(repo_root)))
    coordination_root = os.path.abspath(
        os.path.join(here, plan.coordinationRoot)
        if plan.coordinationRoot
        else os.path.join(repo_root, ".orchestration")
    )
    coordination_dir = os.path.join(coordination_root, session)
    global_seeds = seed_paths(plan.seedPaths, repo_root)
    workers: list[WorkerPlan] = []
    seen: dict[str, str] = {}  # slug -> the name it came from
    for index, spec in enumerate(plan.workers, 1):
        name = spec.name or f"worker-{index}"
        slug = slugify(name, f"worker-{index}")
        if slug in seen:
            raise UserError(
                f"workers must have unique slugs; {seen[slug]!r} and {name!r} are both {slug!r}: rename one"
            )
        seen[slug] = name
        branch = f"orchestrator-{session}-{slug}"
        worktree = os.path.join(worktree_root, f"{repo_name}-{session}-{slug}")
        check_lengths(name, branch, worktree)
        wdir = os.path.join(coordination_dir, slug)
        files = {n: os.path.join(wdir, f"{n}.md") for n in ("task", "handoff", "status")}
        template = spec.launcherCommand or plan.launcherCommand
        # Claude Code workers get an id we choose (not in its background sessions: the service chooses those)
        ours = spec.agent == "claude" and template is None and spec.runtime != "claude-bg"
        session_id = str(uuid.uuid4()) if ours else None
        if template is None:  # no launcher of ECC's kind: the agent's own command
            agent = agents.get(spec.agent or "")
            command = agent.start(
                spec.prompt or spec.task,
                runtime=spec.runtime,
                model=spec.model,
                permission_mode=spec.permissionMode,
                session_id=session_id,
            )
        else:
            variables = template_variables(
                {
                    "branch_name": branch,
                    "handoff_file": files["handoff"],
                    "repo_root": repo_root,
                    "session_name": session,
                    "status_file": files["status"],
                    "task_file": files["task"],
                    "worker_name": name,
                    "worker_slug": slug,
                    "worktree_path": worktree,
                }
            )
            command = render_template(template, variables)
        workers.append(
            WorkerPlan(
                name=name,
                slug=slug,
                task=spec.task,
                branch=branch,
                worktree=worktree,
                coordination_dir=wdir,
                task_file=files["task"],
                handoff_file=files["handoff"],
                status_file=files["status"],
                seed_paths=seed_paths(global_seeds + spec.seedPaths, repo_root),
                launch_command=command,
                git_args=["worktree", "add", "-b", branch, worktree, plan.baseRef],
                spec=spec,
                session_id=session_id,
                agent_launch=template is None,
            )
        )
    return SessionPlan(
        plan_file=os.path.abspath(plan_file) if plan_file else None,
        session=session,
        repo_root=repo_root,
        coordination_dir=coordination_dir,
        base_ref=plan.baseRef,
        workers=workers,
        max_parallel=plan.maxParallel,
    )


def _quoted(args: list[str]) -> str:
    return " ".join(quote(a) for a in args)


def preview(session: SessionPlan) -> dict[str, Any]:
    """The dry run: ECC's preview document (``planFile``, ``sessionName``, ``repoRoot``, ``coordinationDir``,
    ``workers[]``, ``commands``), then ours per worker (agent, runtime, session id)."""
    commands = [f"git {_quoted(w.git_args)}" for w in session.workers]
    return {
        "planFile": session.plan_file,
        "sessionName": session.session,
        "repoRoot": session.repo_root,
        "coordinationDir": session.coordination_dir,
        "workers": [
            {
                "workerName": w.name,
                "branchName": w.branch,
                "worktreePath": w.worktree,
                "seedPaths": w.seed_paths,
                "taskFilePath": w.task_file,
                "handoffFilePath": w.handoff_file,
                "launchCommand": w.launch_command,
                "agent": w.spec.agent,
                "runtime": w.spec.runtime,
                "sessionId": w.session_id,
                "setup": w.spec.setup,  # the plan's own commands: the plan is the user's, so they need no consent
            }
            for w in session.workers
        ],
        "commands": commands,
        "maxParallel": session.max_parallel,
    }
