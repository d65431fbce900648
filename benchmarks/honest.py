"""What every hot-path benchmark shares so that neither arm is favoured by its environment.

- ``clean_env``: no ``PYTHON*`` variable reaches either arm. ``PYTHONDONTWRITEBYTECODE=1`` (set on these
  machines) makes a full interpreter recompile the modules site imports on every start while a ``-S``
  command skips them, and ``PYTHONPYCACHEPREFIX`` at an empty folder does the same to our own modules:
  either turns a comparison into an artifact. With them gone, both arms use the normal ``__pycache__``
  caches, warmed before timing.
- ``floors``: ``python -c pass`` and ``python -S -c pass`` of the same interpreter, the baselines.
- ``as_claude_runs``: the argv of a command the way Claude Code runs it (``sh -c``), so the shell's own
  start is in every arm alike.
"""

from __future__ import annotations

import os
import shlex
import sys

DROPPED = ("PYTHON",)


def clean_env(base: dict[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """``base`` (default: os.environ) without any PYTHON* variable; and the names dropped."""
    env = dict(os.environ if base is None else base)
    dropped = sorted(k for k in env if k.startswith(DROPPED))
    for key in dropped:
        del env[key]
    return env, dropped


def as_claude_runs(argv: list[str]) -> list[str]:
    """``sh -c 'argv'``: how Claude Code runs a hook or status line command."""
    return ["sh", "-c", shlex.join(argv)]


def floors() -> dict[str, list[str]]:
    """The two interpreter baselines, run as Claude Code runs commands."""
    return {
        "python -c pass": as_claude_runs([sys.executable, "-c", "pass"]),
        "python -S -c pass": as_claude_runs([sys.executable, "-S", "-c", "pass"]),
    }
