"""ECC's dmux-tmux orchestration: ``<root>/<session>/<worker>/{task,status,handoff}.md`` plus the tmux panes.

Targets: an orchestration session name (looked up under the coordination root), a plan file (ECC's
orchestration config: ``sessionName``, ``repoRoot``, ``coordinationRoot``, ``workers[]{name}``) and a
coordination directory (``<root>/<session>``). Panes come from ``tmux list-panes -s`` on the session of
the same name (pid, dead flag, current command, title, path); a pane belongs to the worker whose slug is
its title, else whose worktree is its current path. Missing files and dead panes degrade a worker; they
never fail the snapshot.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from typing import Any, Optional

from ecc_hooks.core import fsio, proc
from ecc_hooks.core.timestamps import parse_iso
from ecc_hooks.handoff.adapters import _common
from ecc_hooks.handoff.adapters._common import Context, Details, Inspection, Target, TargetError
from ecc_hooks.models.session import (
    Artifacts,
    Intent,
    Outputs,
    Runtime,
    Session,
    SessionKind,
    SessionSnapshot,
    SourceTarget,
    Worker,
    WorkerState,
)

ADAPTER_ID = "dmux-tmux"  # ECC's own id for these sessions
DESCRIPTION = "ECC dmux-tmux orchestration (<root>/<session>/<worker>/{task,status,handoff}.md + tmux panes)"
TARGET_TYPES = ("orchestration-session", "plan", "coordination-dir")
ROOT_ENV = "ECC_ORCHESTRATION_ROOT"
SOCKET_ENV = "ECC_HOOKS_TMUX_SOCKET"
TMUX_TIMEOUT = 5.0
WORKER_FILES = ("task.md", "status.md", "handoff.md")
_PANE_FORMAT = "\t".join(
    [
        "#{pane_id}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_current_command}",
        "#{pane_active}",
        "#{pane_title}",
        "#{pane_current_path}",
    ]
)


def slugify(value: object, fallback: str = "session") -> str:
    """ECC's slug: lower case, runs of other characters become ``-``, trimmed."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(value or "").strip().lower()).strip("-")
    return slug or fallback


def coordination_root(ctx: Context) -> str:
    """``--coordination-root``, else ``$ECC_ORCHESTRATION_ROOT``, else ``<repo toplevel or cwd>/.orchestration``."""
    if ctx.coordination_root:
        return os.path.abspath(ctx.coordination_root)
    configured = os.environ.get(ROOT_ENV)
    if configured:
        return os.path.abspath(configured)
    from ecc_hooks.sources.git import toplevel

    top = toplevel(ctx.cwd) or ctx.cwd
    return os.path.join(top, ".orchestration")


def session_dir(name: str, ctx: Context) -> Optional[str]:
    """The coordination directory of the orchestration session ``name``: under the coordination root, else
    where ECC's own tools look for a bare session name (``<cwd>/.claude/orchestration/<name>``); None."""
    if not name or "/" in name or name in (".", ".."):
        return None
    for root in (coordination_root(ctx), os.path.join(ctx.cwd, ".claude", "orchestration")):
        candidate = os.path.join(root, name)
        if os.path.isdir(candidate):
            return candidate
    return None


def session_dir_exists(name: str, ctx: Context) -> bool:
    """Whether an orchestration session of that name has a coordination directory."""
    return session_dir(name, ctx) is not None


# ---------------------------------------------------------------------------- tmux


def _tmux(ctx: Context, *args: str) -> Optional[str]:
    """tmux's stdout, or None when it failed, was missing or timed out."""
    socket = ctx.tmux_socket or os.environ.get(SOCKET_ENV)
    result = proc.run(["tmux", *(["-L", socket] if socket else []), *args], timeout=TMUX_TIMEOUT)
    return result.out.decode("utf-8", "replace") if result.ok else None


def parse_panes(text: str) -> list[dict[str, Any]]:
    """Rows of ``list-panes -F _PANE_FORMAT``; malformed rows are skipped."""
    panes = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 7:
            continue
        pane_id, pid, dead, command, active, title, path = parts[:6] + ["\t".join(parts[6:])]
        panes.append(
            {
                "id": pane_id,
                "pid": int(pid) if pid.isdigit() else None,
                "dead": dead == "1",
                "currentCommand": command or None,
                "active": active == "1",
                "title": title,
                "path": path or None,
            }
        )
    return panes


def list_panes(session: str, ctx: Context) -> Optional[list[dict[str, Any]]]:
    """The tmux session's panes; None when the session (or tmux) is not there."""
    out = _tmux(ctx, "list-panes", "-s", "-t", f"={session}", "-F", _PANE_FORMAT)
    return None if out is None else parse_panes(out)


def _real(path: Optional[str]) -> Optional[str]:
    return os.path.realpath(path) if path else None


def match_pane(
    slug: str, worktree: Optional[str], panes: list[dict[str, Any]], taken: set[str]
) -> Optional[dict[str, Any]]:
    """The pane titled ``slug``, else the one whose current path is the worker's worktree."""
    for pane in panes:
        if pane["id"] not in taken and pane["title"] == slug:
            return pane
    if worktree:
        for pane in panes:
            if pane["id"] not in taken and _real(pane["path"]) == _real(worktree):
                return pane
    return None


# ---------------------------------------------------------------------------- worker files


def _read(path: str) -> Optional[str]:
    try:
        return fsio.read_file(path, 1 << 20).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def parse_task(text: str) -> dict[str, Any]:
    """task.md: name, objective, seed paths, session, repo root, worktree, branch."""
    doc = _common.parse_markdown(text)
    seeds = []
    for key in ("seeded local overlays", "seed paths", "seeded paths"):
        seeds += _common.bullets(doc.sections.get(key, []))
    objective = _common.paragraph(doc.sections.get("objective", doc.sections.get("task", [])))
    return {
        "name": _common.title_after("worker task", doc.title),
        "objective": objective,
        "seedPaths": seeds,
        "session": doc.fields.get("session") or None,
        "repoRoot": doc.fields.get("repo root") or None,
        "worktree": doc.fields.get("worktree") or None,
        "branch": doc.fields.get("branch") or None,
    }


def parse_status(text: str) -> dict[str, Any]:
    """status.md: name, state (raw and normalized), worktree, branch, updated."""
    doc = _common.parse_markdown(text)
    raw = doc.fields.get("state") or doc.fields.get("status")
    updated = next(
        (doc.fields[k] for k in ("updated", "last updated", "updated at", "updatedat") if doc.fields.get(k)), None
    )
    state = _common.normalize_worker_state(raw)
    if state == WorkerState.completed and doc.fields.get("merged"):  # the runtime's merged worker (ECC reads
        state = WorkerState.merged  # it as completed)
    return {
        "name": _common.title_after("status", doc.title),
        "rawState": raw,
        "state": state,
        "worktree": doc.fields.get("worktree") or None,
        "branch": doc.fields.get("branch") or None,
        "updated": updated,
    }


def parse_handoff(text: str) -> dict[str, list[str]]:
    """handoff.md: summary, files changed, validation, remaining risks (``- Pending`` placeholders dropped)."""
    doc = _common.parse_markdown(text)

    def items(*names: str) -> list[str]:
        return [item for name in names for item in _common.bullets(doc.sections.get(name, []))]

    return {
        "summary": items("summary"),
        "filesChanged": items("files changed"),
        "validation": items("tests / verification", "validation", "verification", "tests"),
        "remainingRisks": items("remaining risks", "risks", "follow-ups", "follow ups", "followups"),
    }


def _load_plan(path: str) -> dict[str, Any]:
    text = _read(path)
    if text is None:
        raise TargetError(f"plan file not readable: {path}")
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise TargetError(f"plan file is not JSON ({exc}): {path}") from None
    if not isinstance(plan, dict):
        raise TargetError(f"plan file must hold a JSON object: {path}")
    base = os.path.dirname(os.path.abspath(path))
    repo_root = os.path.abspath(os.path.join(base, str(plan.get("repoRoot") or ".")))
    coord_root = (
        os.path.abspath(os.path.join(repo_root, str(plan["coordinationRoot"])))
        if plan.get("coordinationRoot")
        else os.path.join(repo_root, ".orchestration")
    )
    session = slugify(plan.get("sessionName") or os.path.basename(repo_root))
    expected = []
    for index, worker in enumerate(plan.get("workers") if isinstance(plan.get("workers"), list) else []):
        if isinstance(worker, dict):
            expected.append(slugify(worker.get("name") or f"worker-{index + 1}", f"worker-{index + 1}"))
    return {"session": session, "dir": os.path.join(coord_root, session), "repoRoot": repo_root, "workers": expected}


def _resolve(target: Target, ctx: Context) -> dict[str, Any]:
    if target.type == "plan":
        if not os.path.isfile(target.value):
            raise TargetError(f"plan file not found: {target.value}")
        return _load_plan(target.value)
    if target.type == "coordination-dir":
        directory = os.path.abspath(target.value)
        if not os.path.isdir(directory):
            raise TargetError(f"coordination directory not found: {target.value}")
        return {"session": os.path.basename(directory.rstrip("/")), "dir": directory, "repoRoot": None, "workers": []}
    name = target.value
    if not name or "/" in name or name in (".", ".."):
        raise TargetError(f"not an orchestration session name: {name!r}")
    directory = session_dir(name, ctx) or os.path.join(coordination_root(ctx), name)
    if not os.path.isdir(directory) and list_panes(name, ctx) is None:
        raise TargetError(f"no orchestration session {name!r}: neither {directory} nor a tmux session of that name")
    return {"session": name, "dir": directory, "repoRoot": None, "workers": []}


def _worker_slugs(directory: str, expected: list[str]) -> list[str]:
    found = []
    try:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith("."):
                found.append(entry.name)
    except OSError:
        pass
    return found + [slug for slug in expected if slug not in found]


def inspect(target: Target, ctx: Context) -> Inspection:
    """Read every worker's files and pane, then normalize with ECC's rules."""
    resolved = _resolve(target, ctx)
    session, directory = resolved["session"], resolved["dir"]
    panes = list_panes(session, ctx)
    tmux_alive = panes is not None and any(not p["dead"] for p in panes)
    taken: set[str] = set()
    workers: list[Worker] = []
    lines: list[dict[str, Any]] = []
    repo_root = resolved["repoRoot"]
    from ecc_hooks.sources.git import read_git_state

    for slug in _worker_slugs(directory, resolved["workers"]):
        wdir = os.path.join(directory, slug)
        files = {name: os.path.join(wdir, name) for name in WORKER_FILES}
        texts = {name: _read(path) for name, path in files.items()}
        task = parse_task(texts["task.md"]) if texts["task.md"] is not None else {}
        status = parse_status(texts["status.md"]) if texts["status.md"] is not None else {}
        handoff = parse_handoff(texts["handoff.md"]) if texts["handoff.md"] is not None else {}
        risks = [f"{name} missing" for name, text in texts.items() if text is None]
        worktree = status.get("worktree") or task.get("worktree")
        branch = status.get("branch") or task.get("branch")
        repo_root = repo_root or task.get("repoRoot")
        if worktree and os.path.isdir(worktree):
            git = read_git_state(worktree)
            if git.is_repo:
                if git.branch and branch and git.branch != branch:
                    risks.append(f"worktree is on {git.branch}, status says {branch}")
                branch = git.branch or branch
                if git.dirty:
                    risks.append("uncommitted changes in the worktree")
                if not repo_root and git.common_dir and os.path.basename(git.common_dir) == ".git":
                    repo_root = os.path.dirname(git.common_dir)
        elif worktree:
            risks.append(f"worktree missing: {worktree}")
        pane = match_pane(slug, worktree, panes or [], taken)
        if pane is not None:
            taken.add(pane["id"])
            if pane["dead"]:
                risks.append(f"tmux pane {pane['id']} is dead")
        elif panes is not None:
            risks.append("no tmux pane for this worker")
        state = status.get("state", WorkerState.unknown)
        updated = parse_iso(status.get("updated"))  # no Updated line: never updated (stale when live), as ECC
        health = _common.worker_health(state, updated, ctx.now, pane_dead=bool(pane and pane["dead"]))
        remaining = handoff.get("remainingRisks", []) + risks
        worker = Worker(
            id=slug,
            label=slug,  # ECC's label is the worker's slug (its task title is intent.objective's heading)
            state=state,
            health=health,
            branch=branch,
            worktree=worktree,
            runtime=Runtime(
                kind="tmux-pane",
                command=pane["currentCommand"] if pane else None,
                pid=pane["pid"] if pane else None,
                active=bool(pane and pane["active"]),
                dead=bool(pane and pane["dead"]),
                paneId=pane["id"] if pane else None,
            ),
            intent=Intent(objective=task.get("objective") or "", seedPaths=task.get("seedPaths") or []),
            outputs=Outputs(
                summary=handoff.get("summary", []),
                validation=handoff.get("validation", []),
                remainingRisks=handoff.get("remainingRisks", []),  # what the worker reported, only
                filesChanged=handoff.get("filesChanged", []),
            ),
            artifacts=Artifacts(
                **{
                    key: files[name] if texts[name] is not None else None
                    for key, name in (
                        ("statusFile", "status.md"),
                        ("taskFile", "task.md"),
                        ("handoffFile", "handoff.md"),
                    )
                }
            ),
            rawState=status.get("rawState"),
            updatedAt=updated.isoformat() if updated else None,
            observations=risks,
        )
        workers.append(worker)
        lines.append(
            {
                "id": slug,
                "state": state.value,
                "health": health.value,
                "branch": branch,
                "worktree": worktree,
                "objective": worker.intent.objective,
                "summary": worker.outputs.summary,
                "validation": worker.outputs.validation,
                "risks": remaining,
                "filesChanged": handoff.get("filesChanged", []),
            }
        )
    snapshot = SessionSnapshot(
        adapterId=ADAPTER_ID,
        session=Session(
            id=session,
            kind=SessionKind.orchestrated,
            state=_common.session_state(workers, runtime_alive=tmux_alive),
            repoRoot=repo_root,
            # ECC's names: a bare session name is a "session" target, a plan file is named by its absolute path
            sourceTarget=SourceTarget(
                type="session" if target.type == "orchestration-session" else target.type,
                value=os.path.abspath(target.value) if target.type != "orchestration-session" else target.value,
            ),
            coordinationDir=directory,
            tmuxSession=session if panes is not None else None,
        ),
        workers=workers,
        aggregates=_common.aggregates(workers),
    )
    socket = ctx.tmux_socket or os.environ.get(SOCKET_ENV)
    attach = "tmux " + (f"-L {shlex.quote(socket)} " if socket else "") + f"attach -t {shlex.quote('=' + session)}"
    details = Details(
        title=f"Orchestration session {session}",
        session_id=session,
        workers=lines,
        files_changed=[f for line in lines for f in line["filesChanged"]],
        risks=[f"{line['id']}: {risk}" for line in lines for risk in line["risks"]]
        + [
            f"{line['id']}: {line['state']} ({line['health']})"
            for line in lines
            if line["state"] == "failed" or line["health"] in ("stale", "degraded")
        ],
        resume=([attach] if panes is not None else [])
        + [
            f"cd {shlex.quote(line['worktree'])}  # {line['id']} on {line['branch'] or 'unknown branch'}"
            for line in lines
            if line["worktree"]
        ],
        objective="; ".join(f"{line['id']}: {line['objective']}" for line in lines if line["objective"]) or None,
    )
    return Inspection(snapshot=snapshot, details=details)
