"""Status line segments: one module each, every one a pure function of a :class:`Context` and its config.

A segment module exposes ``DEFAULTS`` (its settings and thresholds, as data) and
``render(ctx, cfg) -> (text, level) | None``: ``None`` means "nothing to show", a level says how
to colour it (``info``, ``ok``, ``warn``, ``bad``, ``dim``, ``unknown``). Segments do no I/O and
read no clock or environment: ``ctx.now``, ``ctx.env``, ``ctx.width`` and the snapshot's age are
injected. ``REGISTRY`` is the one table of segments; modules are imported only when a line uses
them (each import is latency on the status line's hot path). Standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # no ``typing`` import at run time: it costs modules on the hot path
    from collections.abc import Mapping
    from typing import Any, Optional

    Piece = Optional[tuple[str, str]]

LEVELS = ("info", "ok", "warn", "bad", "dim", "unknown")

# name -> (module, priority, one-line description). Higher priority is kept longer when the row is too
# narrow: low-priority segments are dropped first.
REGISTRY: dict[str, tuple[str, int, str]] = {
    "model": ("model", 95, "model display name"),
    "context": ("context", 100, 'context used, the figure Claude Code shows ("92% context used")'),
    "cost": ("cost", 90, "session cost (~ when reported and computed figures disagree)"),
    "risk": ("risk", 85, "risk marker from the HUD snapshot"),
    "tools": ("tools", 75, "tool calls, failures and the running tool"),
    "rate_limits": ("rate_limits", 70, "5h / 7d rate limit use against the window's elapsed time"),
    "task": ("task", 65, "current task (todos.inProgress)"),
    "agents": ("agents", 60, "running agents"),
    "queue": ("queue", 58, "the runtime's merge queue: worker branches ready to merge and blocked"),
    "git": ("git", 55, "branch, dirty, ahead/behind (from the snapshot only)"),
    "checks": ("checks", 50, "local and remote checks"),
    "burn": ("burn", 40, "burn rate in USD per hour"),
    "lines": ("lines", 30, "lines added / removed"),
    "duration": ("duration", 25, "session duration"),
    "directory": ("directory", 20, "current directory"),
}

DEFAULT_ORDER = (
    "model",
    "task",
    "context",
    "cost",
    "burn",
    "tools",
    "agents",
    "queue",
    "git",
    "rate_limits",
    "checks",
    "lines",
    "duration",
    "directory",
    "risk",
)


class Context:
    """What a segment may look at: Claude Code's stdin, the HUD snapshot, config, width, clock, environment."""

    __slots__ = ("stdin", "snapshot", "config", "width", "now", "env", "snapshot_age")

    def __init__(
        self,
        stdin: Mapping[str, Any] | None = None,
        snapshot: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        width: int = 120,
        now: float = 0.0,
        env: Mapping[str, str] | None = None,
        snapshot_age: float | None = None,
    ) -> None:
        self.stdin = stdin if isinstance(stdin, dict) else {}
        self.snapshot = snapshot if isinstance(snapshot, dict) else {}
        self.config = config or {}
        self.width = width
        self.now = now
        self.env = env or {}
        self.snapshot_age = snapshot_age  # seconds since the snapshot was written; None: no snapshot

    @property
    def has_snapshot(self) -> bool:
        """True when a HUD snapshot was loaded."""
        return bool(self.snapshot)


_LOADED: dict[str, Any] = {}


def load(name: str) -> Any:
    """The module of segment ``name`` (imported on first use); KeyError for an unknown name."""
    module = _LOADED.get(name)
    if module is None:
        module_name = REGISTRY[name][0]
        module = __import__(f"{__name__}.{module_name}", fromlist=["render"])
        _LOADED[name] = module
    return module


def settings(name: str, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Segment ``name``'s settings: its DEFAULTS overlaid with ``[segment.<name>]`` from the config."""
    merged = dict(load(name).DEFAULTS)
    section = ((config or {}).get("segment") or {}).get(name)
    if isinstance(section, dict):
        merged.update(section)
    return merged


def run(name: str, ctx: Context) -> Piece:
    """Render one segment (its errors propagate: the caller decides how to degrade)."""
    piece: Piece = load(name).render(ctx, settings(name, ctx.config))
    return piece


def render_segment(
    name: str,
    stdin: Mapping[str, Any] | None = None,
    snapshot: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    width: int = 120,
    now: float = 1_800_000_000.0,
    env: Mapping[str, str] | None = None,
    snapshot_age: float | None = None,
) -> str | None:
    """Test helper: the plain text of one segment from the given stdin, snapshot, config and width."""
    if snapshot_age is None and snapshot:
        snapshot_age = 0.0
    piece = run(name, Context(stdin, snapshot, config, width, now, env, snapshot_age))
    return None if piece is None else piece[0]


def render_piece(name: str, **kwargs: Any) -> Piece:
    """Like :func:`render_segment` but returns ``(text, level)``."""
    kwargs.setdefault("now", 1_800_000_000.0)
    if kwargs.get("snapshot_age") is None and kwargs.get("snapshot"):
        kwargs["snapshot_age"] = 0.0
    return run(name, Context(**kwargs))
