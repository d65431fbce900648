"""What the installer hands an agent's ``install``/``uninstall``, and what ``worker_capture`` gives the runtime."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class InstallContext:
    """One ``ecc-hooks install|uninstall --harness NAME``: where, with which hook command, with what consent."""

    home: Path  # the user's HOME (the agent's configuration is found from it, or from the agent's own variable)
    hook_argv: list[str]  # the hook command for this agent (``harness.hook_argv``)
    consent: bool = False  # ``--trust``: the user agrees we write the trust an agent asks for (Codex's hook hashes)
    dry_run: bool = False  # say what would change; write nothing
    force: bool = False  # ``--force``: replace a setting of the user's that ours needs (said before it is done)
    backup: Callable[[str], Optional[str]] = field(default=lambda path: None)  # copy a file before it changes
    # record that install created a file (``created(path)``; ``created(path, False)``: forget it), and ask whether it
    # did: uninstall removes such a file once nothing but ours was in it (as Claude Code's settings file)
    created: Callable[..., None] = field(default=lambda path, made=True: None)
    was_created: Callable[[str], bool] = field(default=lambda path: False)

    @property
    def hook_shell(self) -> str:
        """The hook command as one shell string, marked as ours."""
        from ecc_hooks.core.hookspec import MARKER

        return f"{shlex.join(self.hook_argv)} {MARKER}"


@dataclass(frozen=True)
class WorkerCapture:
    """What a runtime worker of an agent is given so its events reach the journal (the user's config untouched)."""

    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    session_id: Optional[str] = None  # the id its events will carry, when we choose it (Gemini's --session-id)


def write_config(path: str, data: bytes) -> None:
    """Replace one of an agent's config files atomically: its mode kept (0600 when new, in a 0700 folder made for
    it), a linked file (a dotfile manager's) keeping its link while its target is rewritten, a file root edits
    keeping its owner; a failure is a ``UserError`` naming the file."""
    from ecc_hooks.core.errors import UserError
    from ecc_hooks.core.fsio import atomic_write

    real = os.path.realpath(path)
    try:
        st: Optional[os.stat_result] = os.stat(real)
    except FileNotFoundError:
        st = None
    try:
        os.makedirs(os.path.dirname(real), mode=0o700, exist_ok=True)
        mode = (st.st_mode & 0o777) if st is not None else 0o600
        atomic_write(real, data, mode)
        os.chmod(real, mode)
        if st is not None and os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
            os.chown(real, st.st_uid, st.st_gid)  # root editing a user's file must not take it over
    except OSError as exc:
        raise UserError(f"cannot write {path} ({exc.strerror}); run as its owner or fix its mode") from None
