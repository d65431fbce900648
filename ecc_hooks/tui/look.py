"""What the HUD's reusable widgets share about how text looks: the plain ASCII mode, cutting text to a width, and
making untrusted text inert.

The ASCII mode (a widget's ``ascii`` flag, else the app's ``ascii`` attribute) is for terminals and fonts without
box drawing: borders become ``-``/``|``/``+`` (the ``-ascii`` class, styled in each widget's DEFAULT_CSS),
scroll bars have no block glyphs, and cut text ends in ``...`` instead of an ellipsis.
"""

from __future__ import annotations

from typing import Any, Optional

from textual.binding import Binding
from textual.dom import DOMNode
from textual.scrollbar import ScrollBarRender
from textual.widget import Widget

from ecc_hooks.core.text import clean

ASCII_CLASS = "-ascii"
LONGEST_NAME = 4096  # a file or branch name as text (clean's cap): cut for display afterwards


class AsciiScrollBarRender(ScrollBarRender):
    """A scroll bar drawn with spaces only (its thumb is its colour): no ``▁▂▃`` eighth blocks at its ends."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


def ascii_mode(flag: Optional[bool], node: DOMNode) -> bool:
    """The widget's own flag when it was given one, else its app's ``ascii`` attribute (off when it has none)."""
    return flag if flag is not None else bool(getattr(node.app, "ascii", False))


def plain_scrollbars(widget: Widget) -> None:
    """Draw ``widget``'s scroll bars without block glyphs (the ASCII mode)."""
    # per instance, as Textual's ScrollBar documents (the class attribute would change every scroll bar)
    widget.vertical_scrollbar.renderer = AsciiScrollBarRender  # type: ignore[misc]
    widget.horizontal_scrollbar.renderer = AsciiScrollBarRender  # type: ignore[misc]


def cut(text: str, width: int, ascii: bool) -> str:
    """``text`` in at most ``width`` characters: cut ones end in an ellipsis (``...`` in the ASCII mode)."""
    if len(text) <= width:
        return text
    mark = "..." if ascii else "\u2026"
    return text[: max(width - len(mark), 0)] + mark


def items(value: object) -> list[Any]:
    """A list field of data read from a file (the runtime's export): the list, or none when it is anything else."""
    return value if isinstance(value, list) else []


def records(value: object) -> list[dict[str, Any]]:
    """The objects of a list field, whatever else the list holds."""
    return [v for v in items(value) if isinstance(v, dict)]


def name(value: object, width: int, ascii: bool) -> str:
    """An untrusted name (a file, a branch, a worker) as one inert line of at most ``width`` characters."""
    return cut(clean(value, LONGEST_NAME), width, ascii)


def move_bindings(noun: str, top: str, bottom: str) -> list[Binding]:
    """The HUD's move keys (``hud.down``, ``hud.up``, ``hud.top``, ``hud.bottom``, rebound with them) for a list
    widget: its own cursor actions, and ``top``/``bottom`` for the first and last ``noun``."""
    from ecc_hooks.tui import keys

    actions = (("hud.down", "cursor_down", "next"), ("hud.up", "cursor_up", "previous"), ("hud.top", top, "first"),
               ("hud.bottom", bottom, "last"))  # fmt: skip
    return [Binding(keys.BY_ID[i].keys, action, f"{word} {noun}", show=False, id=i) for i, action, word in actions]
