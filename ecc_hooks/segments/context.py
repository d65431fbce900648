"""Context window: a bar, % used (Claude Code's ``used_percentage``) and the distance to auto-compaction.

Auto-compaction (Claude Code does not document it; same assumption as ``ecc_hooks.usage.context``):
it fires ``buffer_tokens`` before the window minus ``reserved_output_tokens``, i.e. at 167k of 200k
(83.5 %); ``CLAUDE_AUTOCOMPACT_PCT_OVERRIDE`` moves it earlier, ``CLAUDE_CODE_AUTO_COMPACT_WINDOW`` caps
the window, ``DISABLE_AUTO_COMPACT`` / ``DISABLE_COMPACT`` turn it off. The environment is ``ctx.env``.
"""

from __future__ import annotations

from ._util import dig, level_for, number

DEFAULTS = {
    "bar": 10, "warn": 60, "bad": 80, "full": "\u2588", "empty": "\u2591",
    "reserved_output_tokens": 20_000, "buffer_tokens": 13_000, "show_compact": True,
}
_TRUE = ("1", "true", "yes", "on")


def autocompact_pct(window: float, cfg, env) -> float | None:  # type: ignore[no-untyped-def]
    """Where auto-compaction fires, as % of ``window``; None when it is disabled."""
    if any(str(env.get(k, "")).strip().lower() in _TRUE for k in ("DISABLE_AUTO_COMPACT", "DISABLE_COMPACT")):
        return None
    capped = window
    try:
        cap = int(str(env.get("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "")).strip())
        if cap > 0:
            capped = min(window, cap)
    except ValueError:
        pass
    effective = capped - float(cfg["reserved_output_tokens"])
    threshold = effective - float(cfg["buffer_tokens"])
    try:
        pct = float(env.get("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE") or "nan")
    except ValueError:
        pct = float("nan")
    if 0 < pct <= 100:
        threshold = min(int(effective * pct / 100), threshold)
    return max(threshold, 0.0) / window * 100


def render(ctx, cfg):  # type: ignore[no-untyped-def]
    """``ctx ███░░░░░░░ 26% ⇣57%`` (57 points left before auto-compaction); ``ctx --`` when unknown."""
    window = dig(ctx.stdin, "context_window")
    used = number(dig(window, "used_percentage"))
    size = number(dig(window, "context_window_size"))
    if used is None:  # before the first response: the snapshot may know it from the transcript
        remaining = number(dig(ctx.snapshot, "context", "contextWindow", "remainingPct"))
        used = None if remaining is None else 100 - remaining
        size = size or number(dig(ctx.snapshot, "context", "contextWindow", "windowSize"))
    if used is None:
        return ("ctx --", "unknown")
    used = min(max(used, 0.0), 100.0)
    width = int(cfg["bar"])
    text = "ctx "
    if width > 0:
        filled = min(width, int(used * width / 100 + 0.5))
        text += str(cfg["full"]) * filled + str(cfg["empty"]) * (width - filled) + " "
    text += f"{used:.0f}%"
    level = level_for(used, cfg.get("warn"), cfg.get("bad"))
    if cfg.get("show_compact") and size and size > 0:
        at = autocompact_pct(size, cfg, ctx.env)
        if at is not None:
            left = at - used
            text += f" \u21e3{left:.0f}%" if left > 0 else " compact!"
            if left <= 0:
                level = "bad"
    return (text, level)
