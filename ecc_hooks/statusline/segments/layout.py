"""Lay segments out in rows: themes as data, the width budget (low priority dropped first), colour or not.

Pure: the caller hands in the rendered pieces, the width, the theme name and whether colour is on.
Widths are measured on the plain text (styling is added after), counting East Asian wide characters
and emoji as two cells.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

RESET = "\x1b[0m"

# Foreground SGR per level. "unknown" is dim, never green: missing data must not look healthy.
THEMES: dict[str, dict[str, Any]] = {
    "default": {
        "sep": " \u2502 ",
        "fg": {"info": "", "ok": "32", "warn": "33", "bad": "31", "dim": "2", "unknown": "2"},
        "sep_style": "2",
    },
    "minimal": {
        "sep": "  ",
        "fg": {"info": "", "ok": "", "warn": "33", "bad": "31", "dim": "2", "unknown": "2"},
        "sep_style": "",
    },
    "powerline": {
        "sep": "\ue0b0",
        "powerline": True,
        "plain_sep": " \ue0b1 ",
        "bg": {"info": "44", "ok": "42", "warn": "43", "bad": "41", "dim": "100", "unknown": "100"},
        "bgfg": {"info": "97", "ok": "30", "warn": "30", "bad": "97", "dim": "37", "unknown": "37"},
    },
    "plain": {"sep": " | ", "fg": {}, "sep_style": "", "no_color": True, "ascii": True},
}


def cells(text: str) -> int:
    """Terminal cells ``text`` takes: 0 for combining marks and format characters, 2 for East Asian wide and
    fullwidth ones (CJK, Hangul, most emoji), else 1 (``unicodedata``, loaded only for non-ASCII text)."""
    if text.isascii():
        return len(text)
    import unicodedata

    def one(ch: str) -> int:
        if ch < "\u0300":
            return 1
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf") or "\u1160" <= ch <= "\u11ff":
            return 0
        return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1

    return sum(one(ch) for ch in text)


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, with an ellipsis when cut."""
    if cells(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = cells(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "\u2026" if width > 0 else ""


def _sgr(codes: str) -> str:
    return f"\x1b[{codes}m" if codes else ""


def fit(pieces: Sequence[tuple[str, str, int]], width: int, sep_cells: int) -> list[tuple[str, str]]:
    """Keep pieces ``(text, level, priority)`` in order, dropping the lowest priority first until they fit."""
    kept = list(pieces)
    widths = [cells(t) for t, _, _ in kept]

    def total() -> int:
        return sum(widths) + sep_cells * max(len(kept) - 1, 0)

    while len(kept) > 1 and total() > width:
        lowest = min(range(len(kept)), key=lambda i: (kept[i][2], -i))  # lowest priority, rightmost first
        del kept[lowest]
        del widths[lowest]
    if kept and total() > width:
        text, level, prio = kept[0]
        kept[0] = (cut(text, width), level, prio)
    return [(t, lv) for t, lv, _ in kept]


# Our glyphs in ASCII, for the ``plain`` theme and ``ascii = true`` (a terminal or font without them; powerline's
# arrows need a Nerd Font): text from outside (branch names, prompts) is left as it is.
ASCII = str.maketrans(
    {
        "\u2588": "#",  # █ bar, filled
        "\u2591": "-",  # ░ bar, empty
        "\u21e3": "v",  # ⇣ to auto-compaction
        "\u2717": "x",  # ✗ failures
        "\u2716": "x",  # ✖ blocked
        "\u2713": "+",  # ✓ ok
        "\u26a0": "!",  # ⚠ attention
        "\u25b6": ">",  # ▶ running tool
        "\u25b8": ">",  # ▸
        "\u23f8": "||",  # ⏸ needs you
        "\u2387": "@",  # ⎇ branch
        "\u229e": "wt:",  # ⊞ linked worktree
        "\u2191": "^",  # ↑ ahead
        "\u2193": "v",  # ↓ behind
        "\u21bb": "~",  # ↻ resets in
        "\u2026": "...",  # … cut
        "\u00b7": "-",  # ·
        "\u29d6": "*",  # ⧖ stale
        "\u2502": "|",  # │ separator
        "\ue0b0": ">",  # powerline arrow
        "\ue0b1": ">",  # powerline thin arrow
    }
)


def to_ascii(text: str) -> str:
    """``text`` with our glyphs in ASCII."""
    return text.translate(ASCII)


def sep_cells(theme: str) -> int:
    """Cells between two pieces in ``theme`` (a powerline piece is `` text `` and one arrow: 3, as its plain form)."""
    spec = THEMES.get(theme) or THEMES["default"]
    return 3 if spec.get("powerline") else cells(spec["sep"])


def wrap(
    pieces: Sequence[tuple[str, str, int]], width: int, theme: str = "default"
) -> list[list[tuple[str, str, int]]]:
    """``overflow = "wrap"``: the pieces in order over as many rows as they need (each within ``width``; a piece
    wider than a row gets a row of its own, cut there) instead of dropping the lowest priority."""
    gap = sep_cells(theme)
    rows: list[list[tuple[str, str, int]]] = []
    used = 0
    for piece in pieces:
        size = cells(piece[0])
        if rows and used + gap + size <= width:
            rows[-1].append(piece)
            used += gap + size
        else:
            rows.append([piece])
            used = size
    return rows


def compose(
    pieces: Sequence[tuple[str, str, int]], width: int, theme: str = "default", color: bool = True, ascii: bool = False
) -> str:
    """One row from ``(text, level, priority)`` pieces within ``width`` cells, styled by ``theme`` (the ``plain``
    theme, and ``ascii``, in ASCII glyphs only)."""
    spec = THEMES.get(theme) or THEMES["default"]
    if ascii or spec.get("ascii"):
        pieces = [(to_ascii(t), lv, p) for t, lv, p in pieces]
        spec = (
            {**spec, "sep": ">", "plain_sep": " > "}
            if spec.get("powerline")
            else {**spec, "sep": to_ascii(spec["sep"])}
        )
    color = color and not spec.get("no_color")
    if spec.get("powerline"):
        return _powerline(pieces, width, spec, color)
    sep: str = spec["sep"]
    kept = fit(pieces, width, cells(sep))
    if not color:
        return sep.join(t for t, _ in kept)
    styled_sep = _sgr(spec.get("sep_style", "")) + sep + RESET if spec.get("sep_style") else sep
    out = []
    for text, level in kept:
        code = spec["fg"].get(level, "")
        out.append(_sgr(code) + text + RESET if code else text)
    return styled_sep.join(out)


def _powerline(pieces: Sequence[tuple[str, str, int]], width: int, spec: dict[str, Any], color: bool) -> str:
    if not color:
        sep: str = spec["plain_sep"]
        return sep.join(t for t, _ in fit(pieces, width, cells(sep)))
    # Each piece is " text " plus one arrow cell.
    kept = fit([(t, lv, p) for t, lv, p in pieces], width - 1, 3)
    out = []
    for i, (text, level) in enumerate(kept):
        bg = spec["bg"].get(level, "100")
        out.append(_sgr(f"{spec['bgfg'].get(level, '97')};{bg}") + f" {text} ")
        nxt = spec["bg"].get(kept[i + 1][1], "100") if i + 1 < len(kept) else "49"
        out.append(_sgr(f"{int(bg) - 10 if int(bg) < 100 else int(bg) - 10};{nxt}") + spec["sep"])
    return "".join(out) + RESET if out else ""


def validate(
    raw: dict[str, Any], registry: dict[str, Any], default_order: Sequence[str]
) -> tuple[dict[str, Any], str | None]:
    """A parsed ``statusline.toml`` checked and normalised: ``(config, first problem or None)``.

    Keys: ``theme`` (a THEMES name), ``segments`` (one row) or ``lines`` (rows: lists of names),
    ``width`` (cells, when ``COLUMNS`` is not set), ``color`` (bool) and ``[segment.<name>]`` tables.
    Unknown segment names and bad values are dropped with a message, never fatal.
    """
    problems: list[str] = []
    config: dict[str, Any] = {}
    theme = raw.get("theme", "default")
    if isinstance(theme, str) and theme in THEMES:
        config["theme"] = theme
    else:
        problems.append(f"unknown theme {theme!r} (one of {', '.join(THEMES)})")
    rows: Any = None
    if "lines" in raw:
        rows = raw["lines"]
        if not (isinstance(rows, list) and all(isinstance(r, list) for r in rows)):
            problems.append("lines must be a list of lists of segment names")
            rows = None
    elif "segments" in raw:
        rows = [raw["segments"]] if isinstance(raw["segments"], list) else None
        if rows is None:
            problems.append("segments must be a list of segment names")
    if rows is not None:
        clean_rows = []
        for row in rows:
            names = []
            for name in row:
                if isinstance(name, str) and name in registry:
                    names.append(name)
                else:
                    problems.append(f"unknown segment {name!r}")
            if names:
                clean_rows.append(names)
        config["lines"] = clean_rows or [list(default_order)]
    if "width" in raw:
        if isinstance(raw["width"], int) and not isinstance(raw["width"], bool) and raw["width"] > 0:
            config["width"] = raw["width"]
        else:
            problems.append("width must be a positive integer")
    if "color" in raw:
        if isinstance(raw["color"], bool):
            config["color"] = raw["color"]
        else:
            problems.append("color must be true or false")
    sections = raw.get("segment")
    if isinstance(sections, dict):
        config["segment"] = {k: v for k, v in sections.items() if isinstance(v, dict)}
        problems.extend(f"unknown segment table [segment.{k}]" for k in sections if k not in registry)
    if "ascii" in raw:
        if isinstance(raw["ascii"], bool):
            config["ascii"] = raw["ascii"]
        else:
            problems.append("ascii must be true or false")
    if "overflow" in raw:
        if raw["overflow"] in ("drop", "wrap"):
            config["overflow"] = raw["overflow"]
        else:
            problems.append('overflow must be "drop" (the lowest priority first, warnings last) or "wrap"')
    for key in raw:
        if key not in ("theme", "lines", "segments", "width", "color", "segment", "overflow", "ascii"):
            problems.append(f"unknown key {key!r}")
    return config, (problems[0] if problems else None)
