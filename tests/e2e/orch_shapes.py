"""Hypothesis strategies for ECC orchestration sessions in every shape issue 25 names, and their writer.

A drawn ``Shape`` is plain data: a target (a plan file, or a session name in ``<cwd>/.claude/orchestration`` or
``<cwd>/.orchestration``), the plan's JSON, and the coordination folder's entries (worker folders holding
``task.md`` / ``status.md`` / ``handoff.md`` in any shape, stray and dot-folders, plan workers whose folder is
gone). ``Shape.write(root)`` lays it out under a fresh folder, where ECC's orchestrator would have put it
(``<repoRoot>/.orchestration/<slug of sessionName>`` unless the plan names a ``coordinationRoot``).

File texts vary where readers differ: heading styles (``##``, ``###``, bold, lower case), bullets (``-`` ``*``
``+`` ``1.``), ``Key: value`` spellings, quoted and backticked values, placeholders, state words, duplicate
lines, missing and extra sections, empty and whitespace-only files, a BOM, CRLF line ends, unicode.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

STATE_WORDS = [
    "completed", "done", "failed", "error", "running", "active", "Running", "in progress", "blocked", "waiting",
    "not started", "idle", "succeeded", "success", "Completed", "stopped", "queued", "half-way", "completed (merged)",
    "", "``", "  failed  ",
]  # fmt: skip
PLACEHOLDERS = ["None.", "N/A", "TBD", "todo", "-", "Pending", "none", "n/a"]
BULLETS = ["- ", "- ", "- ", "* ", "+ ", "1. ", "  - ", "-\t"]
# ECC's orchestrator writes `## Name`; ECC's parser also accepts `**Name**`; the rest are other writers' habits.
HEADINGS = ["## {}", "## {}", "## {}", "**{}**", "### {}", "## {lower}", "# {}", " ## {}  ", "##  {}", "**{}:**"]
# Where ECC's parser and a lenient one disagree (BOM and CRLF are ECC's bugs, eccBugs in deviations.json).
SESSION_NAMES = ["api", "docs", "MyApp", "Build UI", "ünïcode", "a_b.c", "x" * 40]
WORKER_NAMES = ["Docs ok", "api", "Build-UI", "ünï cödé", "w1", "tests", "Fix #12", "worker"]
STRAYS = ["empty", "notes-only", ".hidden", "plain-file", ".git", "link", "file-named-like-a-worker"]

words = st.text(
    st.sampled_from(list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,:/`'\"_-éß日本ü→")), min_size=1, max_size=24
).filter(lambda s: s.strip() != "")


def slugify(value: object, fallback: str) -> str:
    """ECC's orchestrator's slug (tmux-worktree-orchestrator.js), to lay folders out where it would."""
    return re.sub(r"[^a-z0-9]+", "-", str(value or "").strip().lower()).strip("-") or fallback


@dataclass
class Encoding:
    """How a file's bytes are written: line ends and a leading BOM."""

    crlf: bool = False
    bom: bool = False

    def encode(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return (("\ufeff" if self.bom else "") + text).encode("utf-8")


encodings = st.builds(
    Encoding, crlf=st.integers(0, 5).map(lambda n: n == 0), bom=st.integers(0, 9).map(lambda n: n == 0)
)


def heading(style: str, name: str) -> str:
    return style.format(name, lower=name.lower())


@st.composite
def item_lines(draw: st.DrawFn, min_size: int = 0) -> list[str]:
    """Bullet items: text, placeholders, quoted and backticked values, blank lines between."""
    bullet = draw(st.sampled_from(BULLETS))
    out = []
    for _ in range(draw(st.integers(min_size, 3))):
        text = draw(st.one_of(words, st.sampled_from(PLACEHOLDERS), words.map(lambda w: f"`{w}`")))
        out.append((draw(st.sampled_from(BULLETS)) if draw(st.booleans()) else bullet) + text)
    if draw(st.booleans()):
        out.insert(0, draw(words))  # a line of prose before the bullets
    return out


def _blank_variant(draw: st.DrawFn) -> str | None:
    """A file that is missing (None), empty or white space only; "" means: write the real content."""
    kind = draw(st.sampled_from(["real"] * 6 + ["missing", "empty", "whitespace"]))
    return {"real": "", "missing": None, "empty": "\x00", "whitespace": draw(st.sampled_from([" ", "\n\n", " \t\n"]))}[
        kind
    ]


@st.composite
def status_md(draw: st.DrawFn, name: str) -> str | None:
    """status.md: ECC's template and the launcher's, with ``- Key: value`` lines in every spelling."""
    blank = _blank_variant(draw)
    if blank != "":
        return "" if blank == "\x00" else blank
    lines = [draw(st.sampled_from([f"# Status: {name}", "# Status", "", f"# status: {name}"]))]
    section = draw(st.sampled_from([None, None, "## Status", "### Status", "**Status**"]))
    if section:
        lines += ["", section]
    fields = []
    for _ in range(draw(st.integers(0, 2))):  # 0: no state; 2: a duplicate State line
        key = draw(st.sampled_from(["State", "State", "state", "Status"]))
        value = draw(st.sampled_from(STATE_WORDS))
        value = draw(st.sampled_from([value, value, f"`{value}`", f'"{value}"']))
        fields.append(f"{key}: {value}")
    if draw(st.booleans()):
        key = draw(st.sampled_from(["Updated", "Updated", "Last updated"]))
        fields.append(f"{key}: {draw(st.sampled_from(['recent', 'old', 'rfc2822', 'garbage', 'future']))}")
    if draw(st.booleans()):
        fields.append(f"Branch: {draw(st.sampled_from(['orchestrator-s-w', '`feature/x`', 'main', 'ünï']))}")
    if draw(st.booleans()):
        fields.append(f"Worktree: {draw(st.sampled_from(['GITREPO', '`/nonexistent/wt`', 'rel/wt', 'GITREPO']))}")
    fields = [draw(st.sampled_from(BULLETS[:3] + ["* "])) + f for f in draw(st.permutations(fields))]
    before = draw(st.integers(0, len(fields))) if section else 0  # some fields above the heading, the rest below
    lines[1:1] = ([""] + fields[:before]) if before else []
    lines += [""] + fields[before:]
    if draw(st.booleans()):
        lines += ["", "- Handoff file: `handoff.md`"]
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


@st.composite
def task_md(draw: st.DrawFn, name: str) -> str | None:
    """task.md: ECC's template (title, fields, seeded overlays, Objective, Completion) and variations."""
    blank = _blank_variant(draw)
    if blank != "":
        return "" if blank == "\x00" else blank
    lines = [f"# Worker Task: {name}", "", "- Session: `s`", "- Branch: `orchestrator-s-w`"]
    if draw(st.booleans()):
        lines += ["", heading(draw(st.sampled_from(HEADINGS)), "Seeded Local Overlays")]
        lines += draw(item_lines())
    if draw(st.integers(0, 5)):  # mostly an objective
        lines += ["", heading(draw(st.sampled_from(HEADINGS)), "Objective")]
        lines += draw(st.lists(words, min_size=0, max_size=3))
        if draw(st.booleans()):
            lines += [draw(st.sampled_from(["### Detail", "**Note**", "#### Deep", "Plain line"])), draw(words)]
    if draw(st.booleans()):
        lines += ["", heading(draw(st.sampled_from(HEADINGS)), "Completion"), "Report results in your final response."]
    return "\n".join(lines) + "\n"


HANDOFF_SECTIONS = [
    "Summary", "Files Changed", "Validation", "Tests / Verification", "Remaining Risks", "Follow-ups", "Notes",
    "Git Status",
]  # fmt: skip


@st.composite
def handoff_md(draw: st.DrawFn, name: str) -> str | None:
    """handoff.md: the template's ``- Pending`` sections, a launcher's report, or a worker's own."""
    blank = _blank_variant(draw)
    if blank != "":
        return "" if blank == "\x00" else blank
    lines = [draw(st.sampled_from([f"# Handoff: {name}", "# Handoff", ""]))]
    if draw(st.booleans()):
        lines += ["", "- Completed: 2026-12-07T07:00:00Z", "- Branch: `b`"]
    for section in draw(st.lists(st.sampled_from(HANDOFF_SECTIONS), max_size=4, unique=True)):
        lines += ["", heading(draw(st.sampled_from(HEADINGS)), section)]
        lines += draw(item_lines())
    return "\n".join(lines) + "\n"


@dataclass
class WorkerShape:
    """One worker: its name in the plan, its folder (None: the plan names it but the folder is gone), files."""

    name: str
    folder: str | None
    files: dict[str, str | None]  # file name -> text (None: missing)
    encodings: dict[str, Encoding]


@st.composite
def workers(draw: st.DrawFn) -> list[WorkerShape]:
    names = draw(st.lists(st.sampled_from(WORKER_NAMES), min_size=1, max_size=4, unique_by=lambda n: slugify(n, "w")))
    out = []
    for index, name in enumerate(names):
        folder = slugify(name, f"worker-{index + 1}")
        files = {
            "task.md": draw(task_md(name)),
            "status.md": draw(status_md(name)),
            "handoff.md": draw(handoff_md(name)),
        }
        gone = draw(st.integers(0, 9)) == 0
        out.append(
            WorkerShape(
                name,
                None if gone else folder,
                files,
                {f: draw(encodings) for f in ("task.md", "status.md", "handoff.md")},
            )
        )
    return out


@dataclass
class PaneShape:
    """A tmux pane: titled after a worker's slug (or anything), alive (``sleep``) or dead, maybe in the git work
    tree a status.md names (ours matches such a pane to its worker; ECC matches titles only)."""

    title: str
    dead: bool
    in_worktree: bool
    second_window: bool = False  # a window the user opened: ECC lists the session's current window only


@dataclass
class TmuxShape:
    """The session's tmux: its own session (absent: gone) and a sibling whose name has the session's as a prefix
    (``api`` / ``api-v2``: ``tmux -t api`` falls back to a prefix match, issue 25 item 7)."""

    own: bool
    sibling: bool
    panes: list[PaneShape]
    sibling_panes: list[PaneShape]


@dataclass
class Shape:
    """A whole case: the target, the plan (None: a session-name target), the coordination folder's entries."""

    # "plan"; a session name: "claude-dir" (<cwd>/.claude/orchestration/<name>) or "toplevel-dir" (<cwd>/.orchestration);
    # "coord-dir": the path of <cwd>/.claude/orchestration/<name> itself
    target_kind: str
    session_name: str | None
    plan: dict[str, Any] | None
    plan_path: str  # relative to the case folder
    relative_target: bool
    workers: list[WorkerShape]
    strays: list[str]
    tmux: TmuxShape | None = None
    decoy: bool = False  # a session of the same name in the other root (a name target: which root wins)

    def plan_json(self, cwd: Path) -> dict[str, Any]:
        """The plan as written: ``CWD`` stands for the case folder (an absolute path)."""
        return json.loads(json.dumps(self.plan).replace('"CWD', json.dumps(str(cwd))[:-1]))

    def coordination_dir(self, cwd: Path) -> Path:
        """Where ECC's orchestrator writes this session (plans), or the folder a name target names."""
        if self.plan is None:
            base = cwd / (".orchestration" if self.target_kind == "toplevel-dir" else ".claude/orchestration")
            return base / str(self.session_name)
        plan = self.plan_json(cwd)
        repo = Path(os.path.normpath(cwd / str(plan.get("repoRoot") or cwd)))
        root = plan.get("coordinationRoot")
        coord = Path(os.path.normpath(cwd / root)) if root else repo / ".orchestration"
        return coord / slugify(plan.get("sessionName") or repo.name, "session")

    def tmux_session(self, cwd: Path) -> str | None:
        """The tmux session ECC's orchestrator would have started (None: a name tmux would rewrite)."""
        name = self.coordination_dir(cwd).name
        return None if re.search(r"[.:\s]", name) or not name else name

    def target(self, cwd: Path) -> str:
        """What the user types: a plan file's path, a session name, or a coordination folder's path."""
        if self.target_kind == "coord-dir":
            folder = self.coordination_dir(cwd)
            return str(folder.relative_to(cwd)) if self.relative_target else str(folder)
        if self.plan is None:
            return str(self.session_name)
        return self.plan_path if self.relative_target else str(cwd / self.plan_path)

    def write(self, cwd: Path, git_repo: Path) -> None:
        """Lay the case out under ``cwd`` (``GITREPO`` in a text stands for a real git work tree); writing
        again over the same folder rewrites every file (the twins of ECC's bugs are written so)."""
        directory = self.coordination_dir(cwd)
        directory.mkdir(parents=True, exist_ok=True)
        if self.plan is not None:
            plan_file = cwd / self.plan_path
            plan_file.parent.mkdir(parents=True, exist_ok=True)
            plan_file.write_text(json.dumps(self.plan_json(cwd), ensure_ascii=False))
        for worker in self.workers:
            if worker.folder is None:
                continue
            (directory / worker.folder).mkdir(exist_ok=True)
            for name, text in worker.files.items():
                if text is not None:
                    text = expand(text, git_repo)
                    (directory / worker.folder / name).write_bytes(worker.encodings[name].encode(text))
        for stray in self.strays:
            write_stray(directory, stray)
        if self.decoy and self.plan is None:
            other = ".orchestration" if self.target_kind != "toplevel-dir" else ".claude/orchestration"
            decoy = cwd / other / str(self.session_name) / "decoy"
            decoy.mkdir(parents=True, exist_ok=True)
            (decoy / "status.md").write_text("# Status\n\n- State: failed\n")

    def describe(self, cwd: Path) -> str:
        """The case as a reader needs it to reproduce a difference: target, plan, every file's exact text."""
        out = [f"target {self.target(cwd)!r} (cwd {cwd})"]
        if self.plan is not None:
            out.append(f"{self.plan_path}: {json.dumps(self.plan_json(cwd), ensure_ascii=False)}")
        for path in sorted(cwd.rglob("*")):
            if path.is_symlink():
                out.append(f"{path.relative_to(cwd)} -> {os.readlink(path)}")
            elif path.is_file() and path.suffix != ".json":
                out.append(f"{path.relative_to(cwd)}: {path.read_bytes().decode('utf-8', 'replace')!r}")
        if self.tmux is not None:
            out.append(f"tmux: {self.tmux}")
        return "\n".join(out)


def expand(text: str, git_repo: Path) -> str:
    """Placeholders of a drawn text made concrete at write time (paths, times relative to now)."""
    now = datetime.now(timezone.utc)
    times = {
        "recent": (now - timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "old": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "future": (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "rfc2822": format_datetime(now - timedelta(seconds=20), usegmt=True),
        "garbage": "yesterday-ish",
    }
    text = re.sub(r"(Updated: )(recent|old|future|rfc2822|garbage)", lambda m: m.group(1) + times[m.group(2)], text)
    return text.replace("GITREPO", str(git_repo))


def write_stray(directory: Path, stray: str) -> None:
    """Entries of a coordination folder that are not workers (ECC lists only folders holding a worker file)."""
    if stray == "plain-file":
        (directory / "README.txt").write_text("not a worker\n")
        return
    if stray == "link":  # a symlink to a folder holding status.md (ECC's readdir Dirent: not a directory)
        (directory.parent / "elsewhere-worker").mkdir(exist_ok=True)
        (directory.parent / "elsewhere-worker" / "status.md").write_text("# Status\n\n- State: running\n")
        if not (directory / "linked").is_symlink():
            (directory / "linked").symlink_to(directory.parent / "elsewhere-worker")
        return
    if stray == "file-named-like-a-worker":  # a file, not a folder, named like a worker
        (directory / "w9").write_text("- State: running\n")
        return
    folder = directory / stray
    folder.mkdir(exist_ok=True)
    if stray == "notes-only":
        (folder / "notes.txt").write_text("x\n")
    elif stray in (".hidden", ".git"):
        (folder / "status.md").write_text("# Status\n\n- State: running\n")


@st.composite
def plans(draw: st.DrawFn, team: list[WorkerShape]) -> tuple[dict[str, Any], str]:
    """An orchestration plan (ECC's config) and where it lies: repoRoot absent, absolute, ``.`` or relative;
    coordinationRoot absent, absolute or relative; sessionName any case or absent; workers named anything."""
    plan: dict[str, Any] = {}
    repo = draw(st.sampled_from(["absent", "absent", "cwd-abs", ".", "sub"]))
    if repo == "cwd-abs":
        plan["repoRoot"] = "CWD"
    elif repo != "absent":
        plan["repoRoot"] = repo
    coord = draw(st.sampled_from(["absent", "absent", "absent", "abs", "rel"]))
    if coord == "abs":
        plan["coordinationRoot"] = "CWD/coord-abs"
    elif coord == "rel":
        plan["coordinationRoot"] = "coord"
    name = draw(st.one_of(st.sampled_from(SESSION_NAMES).map(slugify_keep), st.sampled_from(SESSION_NAMES)))
    if draw(st.integers(0, 9)):
        plan["sessionName"] = name
    plan["workers"] = [{"name": w.name, "task": f"task of {w.name}"} for w in team]
    where = draw(st.sampled_from(["plan.json", ".claude/plan/x.json", "elsewhere/p.json"]))
    return plan, where


def slugify_keep(name: str) -> str:
    return slugify(name, "session")


@st.composite
def panes(draw: st.DrawFn, team: list[WorkerShape], max_size: int = 4) -> list[PaneShape]:
    """Panes titled after the team's slugs (ECC's orchestrator titles them so) or otherwise, alive or dead."""
    titles = [w.folder or slugify(w.name, "w") for w in team] + ["orchestrator", "other"]
    return draw(
        st.lists(
            st.builds(
                PaneShape,
                st.sampled_from(titles),
                st.integers(0, 3).map(lambda n: n == 0),
                st.booleans(),
                st.integers(0, 5).map(lambda n: n == 0),
            ),
            max_size=max_size,
        )
    )


@st.composite
def tmux_shapes(draw: st.DrawFn, team: list[WorkerShape]) -> TmuxShape | None:
    """No tmux at all, the session's own, a prefix sibling (``<name>-v2``), or both."""
    if draw(st.integers(0, 2)) == 0:
        return None
    own, sibling = draw(st.sampled_from([(True, False), (True, False), (False, True), (True, True)]))
    return TmuxShape(own, sibling, draw(panes(team)) if own else [], draw(panes(team, 2)) if sibling else [])


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    """A whole orchestration case."""
    team = draw(workers())
    strays = draw(st.lists(st.sampled_from(STRAYS), max_size=2, unique=True))
    kind = draw(st.sampled_from(["plan", "plan", "plan", "claude-dir", "toplevel-dir", "coord-dir"]))
    tmux = draw(tmux_shapes(team))
    if kind == "plan":
        plan, where = draw(plans(team))
        return Shape(kind, plan.get("sessionName"), plan, where, draw(st.booleans()), team, strays, tmux)
    name = draw(st.sampled_from(["api", "docs", "MyApp", "a_b.c", "s-1", "ünï"]))
    relative = kind == "coord-dir" and draw(st.booleans())
    team = [w for w in team if w.folder is not None] or team
    return Shape(kind, name, None, "", relative, team, strays, tmux, draw(st.integers(0, 3)) == 0)
