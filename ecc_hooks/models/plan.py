"""The orchestration plan ``ecc-hooks session create`` reads: ECC's plan format unchanged, plus ours.

ECC's keys (``scripts/orchestrate-worktrees.js``): ``sessionName``, ``repoRoot``, ``worktreeRoot``,
``coordinationRoot``, ``baseRef``, ``launcherCommand``, ``seedPaths``, ``replaceExisting``, and
``workers[]{name, task, launcherCommand, seedPaths}``. Ours, per worker: ``agent`` (a name in
``runtime.agents``), ``model``, ``prompt`` (what the agent is told; default: the task), ``permissionMode``,
``runtime`` (tmux | headless), ``ports`` (how many ports the worker gets), ``setup`` (commands run in the new
worktree); per plan: ``maxParallel``. Unknown keys are refused: a typo must not be a silent default.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RUNTIMES = ("tmux", "headless", "claude-bg")


class WorkerSpec(BaseModel):
    """One worker of a plan."""

    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = Field(None, description="default: worker-<n>; its slug names the branch and folders")
    task: str = Field(description="what the worker is to do (task.md's Objective)")
    launcherCommand: Optional[str] = Field(
        None,
        description="ECC: the command run in the worker's pane, with {worker_name} {worker_slug} {session_name} "
        "{repo_root} {worktree_path} {branch_name} {task_file} {handoff_file} {status_file} (and their _raw and "
        "_sh forms); default: the plan's, else the agent's launch command",
    )
    seedPaths: list[str] = Field(default_factory=list, description="ECC: paths copied into the new worktree")
    # ecc-hooks additions
    agent: Optional[str] = Field(None, description="claude | codex | opencode | gemini | aider")
    model: Optional[str] = None
    prompt: Optional[str] = Field(None, description="what the agent is told (default: the task)")
    permissionMode: Optional[str] = Field(None, description="the agent's permission mode, e.g. acceptEdits")
    runtime: Literal["tmux", "headless", "claude-bg"] = Field(
        "tmux",
        description="tmux (a pane), headless (a detached process, output to a log), claude-bg (Claude Code's own background sessions: claude --bg)",
    )
    ports: int = Field(0, ge=0, le=100, description="ports reserved for the worker (ECC_PORT_BASE, PORT)")
    setup: list[str] = Field(default_factory=list, description="commands run in the new worktree, in order")

    @field_validator("task")
    @classmethod
    def _task_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a worker's task must not be empty")
        return value.strip()


class Plan(BaseModel):
    """An orchestration plan (``ecc.orchestration-plan.v1``): ECC's format and ours."""

    model_config = ConfigDict(extra="forbid")

    sessionName: Optional[str] = Field(None, description="default: the repository folder's name")
    repoRoot: Optional[str] = Field(None, description="default: the current directory")
    worktreeRoot: Optional[str] = Field(None, description="default: the repository's parent folder")
    coordinationRoot: Optional[str] = Field(None, description="default: <repoRoot>/.orchestration")
    baseRef: str = "HEAD"
    launcherCommand: Optional[str] = None
    seedPaths: list[str] = Field(default_factory=list)
    replaceExisting: bool = False
    workers: list[WorkerSpec] = Field(min_length=1)
    # ecc-hooks addition
    maxParallel: Optional[int] = Field(None, ge=1, description="workers running at once; the rest wait in a queue")

    @model_validator(mode="after")
    def _launchable(self) -> Plan:
        for index, worker in enumerate(self.workers, 1):
            if not (worker.launcherCommand or self.launcherCommand or worker.agent):
                raise ValueError(f"worker {worker.name or index} has no launcherCommand and no agent")
            if worker.runtime == "claude-bg" and (worker.agent != "claude" or worker.launcherCommand):
                raise ValueError(
                    f"worker {worker.name or index}: the claude-bg runtime runs agent claude, no launcherCommand"
                )
        return self
