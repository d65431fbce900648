"""The HUD's modal questions, each a typed ``ModalScreen`` the app pushes and awaits (``push_screen(..., callback)``
or ``push_screen_wait``): ``Confirm`` (yes or no) and ``TextPrompt`` (a line of text, or None). No I/O: the app
acts on the answer. Every mutation the HUD makes is confirmed or typed here first.

Esc always cancels and never confirms (no destructive control is on Esc: over SSH and tmux an escape sequence
read under load arrives as Esc).
"""

from __future__ import annotations

from typing import ClassVar, Optional, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ecc_hooks.tui import look

T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A centred box over the dimmed HUD: a title, a body and a line of keys; box drawing, or ``-``/``|`` in the
    ASCII mode (the ``ascii`` flag, else the app's ``ascii`` attribute)."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > #dialog { width: 76; max-width: 100%; height: auto; max-height: 100%;
                       border: round $primary; background: $surface; padding: 0 1; }
    Dialog.-ascii > #dialog { border: ascii $primary; }
    Dialog.-ascii Input { border: ascii $primary-muted; }
    Dialog.-ascii Input:focus { border: ascii $primary; }
    Dialog #dialog-title { text-style: bold; height: auto; }
    Dialog #dialog-body { height: auto; max-height: 30; margin: 1 0; }
    Dialog #dialog-keys { color: $text-muted; height: auto; }
    """

    def __init__(self, title: str, *, ascii: Optional[bool] = None) -> None:
        super().__init__()
        self.title_text = title
        self._ascii = ascii

    @property
    def ascii(self) -> bool:
        return look.ascii_mode(self._ascii, self)

    def on_mount(self) -> None:
        if self.ascii:
            self.add_class(look.ASCII_CLASS)

    def box(self) -> Vertical:
        return Vertical(id="dialog")

    def title_line(self) -> Static:
        return Static(Content(self.title_text), id="dialog-title", markup=False)


class Confirm(Dialog[bool]):
    """Yes or no: ``y`` or Enter confirm (True), ``n`` or Esc cancel (False)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "no", id="dialog.no"),
    ]

    def __init__(self, title: str, body: str = "", *, ascii: Optional[bool] = None) -> None:
        super().__init__(title, ascii=ascii)
        self.body = body

    def compose(self) -> ComposeResult:
        with self.box():
            yield self.title_line()
            yield Static(Content(self.body), id="dialog-body", markup=False)
            yield Static("y/Enter: yes    n/Esc: no", id="dialog-keys", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TextPrompt(Dialog[Optional[str]]):
    """A line of text: Enter submits what was typed (the string, empty included), Esc cancels (None). For sending
    input to a worker, the filter, a quick create."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="dialog.cancel")]

    def __init__(
        self,
        title: str,
        value: str = "",
        *,
        placeholder: str = "",
        body: str = "",
        ascii: Optional[bool] = None,
    ) -> None:
        super().__init__(title, ascii=ascii)
        self.placeholder, self.value, self.body = placeholder, value, body

    def compose(self) -> ComposeResult:
        with self.box():
            yield self.title_line()
            if self.body:
                yield Static(Content(self.body), id="dialog-body", markup=False)
            # the cursor after the given value, nothing selected: editing the filter adds to it, a key never wipes it
            yield Input(value=self.value, placeholder=self.placeholder, select_on_focus=False, id="dialog-input")
            yield Static("Enter: submit    Esc: cancel", id="dialog-keys", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
