"""ECC's dmux-tmux orchestration: ``<root>/<session>/<worker>/{task,status,handoff}.md`` plus the tmux panes.

Read as ECC's ``scripts/lib/orchestration-session.js`` reads it, rule for rule, so that ECC's inspect and ours
agree on any folder (the generated differential suite, tests/e2e/test_ecc_generated.py, holds us to it):

- targets: a plan file (``repoRoot`` and ``coordinationRoot`` relative to the working directory), a session name
  (``<cwd>/.claude/orchestration/<name>`` as ECC, else under our coordination root) or a coordination directory;
- workers: the folders holding a task.md, status.md or handoff.md, in JavaScript's sort order; a worker's
  branch and worktree are what its status.md says (what git says otherwise is an observation);
- panes: ``tmux list-panes -s -t =<session>:`` (exact: ``=name`` alone still matches ``name-v2``); a pane belongs
  to the worker whose slug is its title, else (ours) whose worktree is its current path.

Where we differ on purpose (the session state, state words normalized, health for more states, a CRLF file read
as its LF twin) tests/fixtures/ecc-parity/deviations.json says why. Missing files and dead panes degrade a
worker (its ``observations``); they never fail the snapshot.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import shlex
from datetime import datetime, timezone
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
FILE_CAP = 16 << 20  # a worker file's bytes read (ECC reads all; a bigger one is named in the observations)
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
    """The coordination directory of the orchestration session ``name``: where ECC's own tools look for a bare
    session name (``<cwd>/.claude/orchestration/<name>``), else under the coordination root (ours); None."""
    if not name or "/" in name or name in (".", ".."):
        return None
    for root in (os.path.join(ctx.cwd, ".claude", "orchestration"), coordination_root(ctx)):
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
    # "=name:" is the exact session: "=name" alone still falls back to a prefix match in list-panes -s (tmux 3.3a),
    # which would give a gone session's workers the panes of "name-v2"
    out = _tmux(ctx, "list-panes", "-s", "-t", f"={session}:", "-F", _PANE_FORMAT)
    return None if out is None else parse_panes(out)


def _real(path: Optional[str]) -> Optional[str]:
    return os.path.realpath(path) if path else None


def match_panes(slugs: list[str], worktrees: dict[str, Optional[str]], panes: list[dict[str, Any]]) -> dict[str, dict]:
    """Each worker's pane: the pane titled its slug (the last of several, as ECC's title map keeps), then (ours)
    for the workers still without one, an untaken pane whose current path is the worker's worktree: Claude Code
    retitles its pane, which ECC then no longer finds. Titles go first, so a worktree never takes the pane a title
    names."""
    titled = {pane["title"]: pane for pane in panes}
    matched = {slug: titled[slug] for slug in slugs if slug in titled}
    taken = {pane["id"] for pane in matched.values()}
    for slug in slugs:
        worktree = worktrees.get(slug)
        if slug in matched or not worktree:
            continue
        for pane in panes:
            if pane["id"] not in taken and _real(pane["path"]) == _real(worktree):
                matched[slug] = pane
                taken.add(pane["id"])
                break
    return matched


# ---------------------------------------------------------------------------- worker files


def parse_updated(value: Optional[str]) -> Optional[datetime]:
    """status.md's ``Updated``: ISO 8601, else an RFC 2822 date (both of which ECC's ``Date.parse`` reads); None."""
    parsed = parse_iso(value)
    if parsed is None and value:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _read(path: str) -> Optional[str]:
    try:
        return fsio.read_file(path, FILE_CAP).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def parse_task(text: str) -> dict[str, Any]:
    """task.md as ECC's ``parseWorkerTask``: the ``Objective`` section, the ``Seeded Local Overlays`` bullets."""
    return {
        "objective": _common.section(text, "Objective"),
        "seedPaths": _common.bullets(_common.section(text, "Seeded Local Overlays")),
    }


def parse_status(text: str) -> dict[str, Any]:
    """status.md as ECC's ``parseWorkerStatus`` (every ``- Key: value`` line, the last one wins): the state as
    written (``rawState``) and normalized, branch, worktree, updated. ``- Merged:`` (our runtime's) makes a
    completed worker merged."""
    fields = _common.status_fields(text)
    raw = fields.get("state") or None
    state = _common.normalize_worker_state(raw)
    if state == WorkerState.completed and fields.get("merged"):  # the runtime's merged worker (ECC reads
        state = WorkerState.merged  # it as completed)
    return {
        "rawState": raw,
        "state": state,
        "worktree": fields.get("worktree") or None,
        "branch": fields.get("branch") or None,
        "updated": fields.get("updated") or None,
    }


def parse_handoff(text: str) -> dict[str, list[str]]:
    """handoff.md as ECC's ``parseWorkerHandoff``: the bullets of ``Summary``, ``Validation``, ``Remaining Risks``
    (``## X`` or ``**X**``), and ours of ``Files Changed``."""
    return {
        "summary": _common.bullets(_common.section(text, "Summary")),
        "filesChanged": _common.bullets(_common.section(text, "Files Changed")),
        "validation": _common.bullets(_common.section(text, "Validation")),
        "remainingRisks": _common.bullets(_common.section(text, "Remaining Risks")),
    }


def _load_plan(path: str, cwd: str) -> dict[str, Any]:
    """ECC's ``resolveSnapshotTarget`` for a plan file: ``repoRoot`` (missing: the working directory) and a
    relative ``coordinationRoot`` resolve against the working directory, as ECC's orchestrator and inspect do;
    the session name is slugified as its orchestrator names the folder (its inspect does not: an ECC bug)."""
    text = _read(path)
    if text is None:
        raise TargetError(f"plan file not readable: {path}")
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise TargetError(f"plan file is not JSON ({exc}): {path}") from None
    if not isinstance(plan, dict):
        raise TargetError(f"plan file must hold a JSON object: {path}")
    repo_root = os.path.abspath(os.path.join(cwd, str(plan.get("repoRoot") or cwd)))
    coord_root = (
        os.path.abspath(os.path.join(cwd, str(plan["coordinationRoot"])))
        if plan.get("coordinationRoot")
        else os.path.join(repo_root, ".orchestration")
    )
    session = slugify(plan.get("sessionName") or os.path.basename(repo_root))
    return {"session": session, "dir": os.path.join(coord_root, session), "repoRoot": repo_root}


def _resolve(target: Target, ctx: Context) -> dict[str, Any]:
    if target.type == "plan":
        path = os.path.join(ctx.cwd, target.value)
        if not os.path.isfile(path):
            raise TargetError(f"plan file not found: {target.value}")
        return _load_plan(path, ctx.cwd)
    if target.type == "coordination-dir":
        directory = os.path.abspath(os.path.join(ctx.cwd, target.value))
        if not os.path.isdir(directory):
            raise TargetError(f"coordination directory not found: {target.value}")
        name = os.path.basename(directory.rstrip("/"))
        return {"session": name, "dir": directory, "repoRoot": _ecc_repo_root(directory, name, ctx)}
    name = target.value
    if not name or "/" in name or name in (".", ".."):
        raise TargetError(f"not an orchestration session name: {name!r}")
    directory = session_dir(name, ctx)
    if directory is None:
        directory = os.path.join(coordination_root(ctx), name)
        if list_panes(name, ctx) is None:
            raise TargetError(f"no orchestration session {name!r}: neither {directory} nor a tmux session of that name")
    return {"session": name, "dir": directory, "repoRoot": _ecc_repo_root(directory, name, ctx)}


def _ecc_repo_root(directory: str, name: str, ctx: Context) -> Optional[str]:
    """The working directory when ``directory`` is where ECC looks for the session ``name``
    (``<cwd>/.claude/orchestration/<name>``, whose repo root ECC says is the working directory); else None."""
    ecc_dir = os.path.join(ctx.cwd, ".claude", "orchestration", name)
    return ctx.cwd if os.path.realpath(directory) == os.path.realpath(ecc_dir) else None


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def worker_slugs(directory: str) -> list[str]:
    """ECC's ``listWorkerDirectories``: the folders (not links to folders) holding a task.md, status.md or
    handoff.md, in JavaScript's sort order (UTF-16 code units)."""
    found = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and any(
                os.path.lexists(os.path.join(entry.path, name)) for name in WORKER_FILES
            ):
                found.append(entry.name)
        except OSError:
            continue
    return sorted(found, key=_utf16)


def _oversized(files: dict[str, str]) -> list[str]:
    """The worker files longer than ``FILE_CAP`` (read only up to it)."""
    big = []
    for name, path in files.items():
        try:
            if os.stat(path).st_size > FILE_CAP:
                big.append(name)
        except OSError:
            continue
    return big


def _worktree_facts(worktree: Optional[str], branch: Optional[str]) -> tuple[list[str], Optional[str]]:
    """What we see of the worker's worktree that its status.md does not say (a missing folder, another branch,
    uncommitted changes; its reported branch and worktree stay as written, as ECC's), and the main checkout of its
    repository (the repo root of a coordination folder named without its plan): one git read."""
    if not worktree:
        return [], None
    if not os.path.isdir(worktree):
        return [f"worktree missing: {worktree}"], None
    from ecc_hooks.sources.git import read_git_state

    git = read_git_state(worktree)
    if not git.is_repo:
        return [], None
    risks = []
    if git.branch and git.branch != branch:
        risks.append(f"worktree is on {git.branch}, status says {branch or 'nothing'}")
    if git.dirty:
        risks.append("uncommitted changes in the worktree")
    main = os.path.dirname(git.common_dir) if git.common_dir and os.path.basename(git.common_dir) == ".git" else None
    return risks, main


def inspect(target: Target, ctx: Context) -> Inspection:
    """Read every worker's files and pane, then normalize with ECC's rules."""
    resolved = _resolve(target, ctx)
    session, directory = resolved["session"], resolved["dir"]
    panes = list_panes(session, ctx)
    tmux_alive = panes is not None and any(not p["dead"] for p in panes)
    workers: list[Worker] = []
    lines: list[dict[str, Any]] = []
    repo_root = resolved["repoRoot"]
    slugs = worker_slugs(directory)
    status_texts = {slug: _read(os.path.join(directory, slug, "status.md")) for slug in slugs}
    statuses = {slug: parse_status(text or "") for slug, text in status_texts.items()}
    pane_of = match_panes(slugs, {slug: status["worktree"] for slug, status in statuses.items()}, panes or [])
    for slug in slugs:
        files = {name: os.path.join(directory, slug, name) for name in WORKER_FILES}
        texts = {name: status_texts[slug] if name == "status.md" else _read(path) for name, path in files.items()}
        status = statuses[slug]
        task = parse_task(texts["task.md"] or "")
        handoff = parse_handoff(texts["handoff.md"] or "")
        worktree, branch = status["worktree"], status["branch"]
        risks = [f"{name} missing" for name, text in texts.items() if text is None]
        risks += [f"{name} is over {FILE_CAP >> 20} MiB: only its start was read" for name in _oversized(files)]
        observed, main_checkout = _worktree_facts(worktree, branch)
        risks += observed
        repo_root = repo_root or main_checkout
        pane = pane_of.get(slug)
        if pane is not None:
            if pane["dead"]:
                risks.append(f"tmux pane {pane['id']} is dead")
        elif panes is not None:
            risks.append("no tmux pane for this worker")
        state = status["state"]
        updated = parse_updated(status["updated"])  # none or unreadable: never updated (stale when live), as ECC
        health = _common.worker_health(state, updated, ctx.now, pane_dead=bool(pane and pane["dead"]))
        worker = Worker(
            id=slug,
            label=slug,  # ECC's label is the worker's slug
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
            intent=Intent(objective=task["objective"], seedPaths=task["seedPaths"]),
            outputs=Outputs(
                summary=handoff["summary"],
                validation=handoff["validation"],
                remainingRisks=handoff["remainingRisks"],  # what the worker reported, only
                filesChanged=handoff["filesChanged"],
            ),
            artifacts=Artifacts(
                statusFile=files["status.md"], taskFile=files["task.md"], handoffFile=files["handoff.md"]
            ),
            rawState=status["rawState"],
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
                "risks": handoff["remainingRisks"] + risks,
                "filesChanged": handoff["filesChanged"],
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
