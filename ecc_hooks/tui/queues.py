"""The HUD's merge and conflict queues, and the confirmation before applying the merge queue; no I/O of their own.

``QueueView`` takes ``QueueData.entries`` (``runtime.merge.Entry.as_json``, in queue order) and the conflict queue
(``runtime.merge.conflicts``): a table of the entries (the position of a ready one, else why it is blocked; the
worker, its branch, commits ahead, files), the selected entry's files, blockers and suggested action below it, and
the conflict queue with each one's files. ``show`` gives it new data; ``selected_id`` is the worker the
person is on.

``ConfirmApply`` shows which entries would merge, in order, and asks for the strategy: ``1``/``m`` merge,
``2``/``s`` squash, ``3``/``r`` rebase, then Enter (the strategy's name); ``n`` or Esc cancel (None).

Every value here comes from repositories and agents (branch and file names): cleaned before it is drawn.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ecc_hooks.core.text import clean
from ecc_hooks.tui import look
from ecc_hooks.tui.dialogs import Dialog

COLUMNS = ("", "worker", "branch", "ahead", "files", "why")
SHOWN_FILES = 8  # a detail line lists this many files, then "+N more"


def where(entry: dict[str, Any]) -> str:
    """The first column: ``#1`` for a ready entry, else ``merged``, ``gone`` or ``blocked``."""
    position = entry.get("position")
    if entry.get("readyToMerge") and isinstance(position, int) and not isinstance(position, bool):
        return f"#{position}"
    return {"merged": "merged", "missing": "gone"}.get(str(entry.get("kind")), "blocked")


def why(entry: dict[str, Any], ascii: bool = False) -> str:
    """Why an entry is where it is, in a few words (the suggested action below says what to do)."""
    kind = entry.get("kind")
    blockers = look.records(entry.get("blockedBy")) or [{}]
    if kind is None:
        return "ready"
    return {
        "pair-conflict": f"conflicts with {look.name(blockers[0].get('worker'), 40, ascii)}",
        "base-conflict": f"conflicts with {look.name(blockers[0].get('base') or entry.get('baseRef'), 40, ascii)}",
        "dirty": "uncommitted changes",
        "empty": "nothing to merge",
        "active": f"still {look.name(entry.get('state'), 20, ascii)}",
        "merged": "merged already",
        "missing": "worktree gone",
    }.get(str(kind), look.name(kind, 30, ascii))


def files_text(value: object, ascii: bool) -> str:
    """Up to ``SHOWN_FILES`` file names, then how many more."""
    files = look.items(value)
    shown = ", ".join(look.name(f, 80, ascii) for f in files[:SHOWN_FILES])
    more = len(files) - SHOWN_FILES
    return shown + (f" (+{more} more)" if more > 0 else "")


def detail(entry: Optional[dict[str, Any]], ascii: bool) -> str:
    """The selected entry: what it is, its files, what blocks it (with the files), the suggested action."""
    if entry is None:
        return "no entry selected"
    lines = [
        f"{look.name(entry.get('id'), 40, ascii)} ({look.name(entry.get('branch'), 60, ascii)}): "
        f"{where(entry)}, {why(entry, ascii)}",
        f"files: {files_text(entry.get('files'), ascii) or 'none'}",
    ]
    for blocker in look.records(entry.get("blockedBy")):
        other = blocker.get("worker") or blocker.get("base") or entry.get("baseRef")
        lines.append(f"blocked by {look.name(other, 40, ascii)}: {files_text(blocker.get('files'), ascii)}")
    lines.append(f"next: {look.name(entry.get('suggestedAction'), 300, ascii)}")
    return "\n".join(lines)


def conflict_line(conflict: dict[str, Any], ascii: bool) -> str:
    """One conflict queue entry as ``session conflicts`` prints it: the worker, the kind, with whom, the files."""
    blockers = look.records(conflict.get("blockedBy")) or [{}]
    other = (
        f" with {look.name(blockers[0].get('worker'), 40, ascii)}" if conflict.get("kind") == "pair-conflict" else ""
    )
    if conflict.get("kind") == "base-conflict":
        other = f" with {look.name(blockers[0].get('base'), 40, ascii)}"
    names = files_text(conflict.get("files"), ascii) or "(uncommitted changes)"
    return f"{look.name(conflict.get('id'), 40, ascii)}: {look.name(conflict.get('kind'), 30, ascii)}{other}: {names}"


def summary(entries: list[dict[str, Any]], conflicts: list[dict[str, Any]]) -> str:
    """The queue's title line: how many are ready, blocked, merged, gone, and in the conflict queue."""
    counts: dict[str, int] = {}
    for entry in entries:
        label = "ready" if entry.get("readyToMerge") else where(entry)
        counts[label] = counts.get(label, 0) + 1
    parts = [f"{counts[k]} {k}" for k in ("ready", "blocked", "merged", "gone") if counts.get(k)]
    return f"merge queue: {', '.join(parts) or 'empty'}; conflict queue: {len(conflicts)}"


class QueueTable(DataTable[Text]):
    """The entries, one row each; the HUD's move keys (``hud.down``...) work here too."""

    BINDINGS: ClassVar[list[BindingType]] = look.move_bindings("entry", "scroll_top", "scroll_bottom")  # type: ignore[assignment]


class QueueView(Widget):
    """The merge queue's table, the selected entry's detail and the conflict queue. New data: ``show``."""

    DEFAULT_CSS = """
    QueueView { layout: vertical; height: 1fr; }
    QueueView > #queue-title { height: 1; text-style: bold; }
    QueueView > #queue-table { height: 1fr; min-height: 3; }
    QueueView > #queue-detail { height: auto; max-height: 7; border-top: solid $primary-muted; }
    QueueView > #conflict-list { height: auto; max-height: 8; border-top: solid $primary-muted; }
    QueueView.-ascii > #queue-detail, QueueView.-ascii > #conflict-list { border-top: ascii $primary-muted; }
    QueueView #conflict-text { height: auto; }
    """

    class EntryHighlighted(Message):
        """The person moved to another entry (``entry_id``: its worker; None when the queue is empty)."""

        def __init__(self, entry_id: Optional[str]) -> None:
            super().__init__()
            self.entry_id = entry_id

    def __init__(
        self,
        entries: Optional[list[dict[str, Any]]] = None,
        conflicts: Optional[list[dict[str, Any]]] = None,
        *,
        ascii: Optional[bool] = None,
        name: Optional[str] = None,
        id: Optional[str] = None,
        classes: Optional[str] = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries = list(entries or [])
        self._conflicts = list(conflicts or [])
        self._ascii = ascii
        self._by_id: dict[str, dict[str, Any]] = {}
        self._ready = False  # mounted: its table has its columns

    @property
    def ascii(self) -> bool:
        return look.ascii_mode(self._ascii, self)

    def compose(self) -> ComposeResult:
        yield Static(id="queue-title", markup=False)
        yield QueueTable(id="queue-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="queue-detail", markup=False)
        with VerticalScroll(id="conflict-list"):
            yield Static(id="conflict-text", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(QueueTable)
        for label in COLUMNS:
            table.add_column(label, key=label or "where")
        if self.ascii:
            self.add_class(look.ASCII_CLASS)
            look.plain_scrollbars(table)
            look.plain_scrollbars(self.query_one("#conflict-list", VerticalScroll))
        self._ready = True
        self.show(self._entries, self._conflicts)

    def _row(self, entry: dict[str, Any]) -> list[Text]:
        """The entry's cells: Rich ``Text``, never a ``str`` (a table reads a string's square brackets as markup)."""
        cells = [
            where(entry),
            look.name(entry.get("id"), 20, self.ascii),
            look.name(entry.get("branch"), 28, self.ascii),
            look.name(entry.get("aheadBy") or 0, 12, self.ascii),
            str(len(look.items(entry.get("files")))),
            look.cut(why(entry, self.ascii), 32, self.ascii),
        ]
        return [Text(cell, no_wrap=True, end="") for cell in cells]

    def show(self, entries: list[dict[str, Any]], conflicts: list[dict[str, Any]]) -> None:
        """Show the queue as it is now, the cursor staying on the same worker when it is still listed. Rows whose
        ids and order did not change are updated in place (no table rebuild: the queue refreshes as workers
        finish)."""
        if not self._ready:  # drawn when mounted
            self._entries, self._conflicts = look.records(entries), look.records(conflicts)
            return
        self._by_id = {}
        for entry in look.records(entries):  # one row per worker (a key a table can hold once)
            self._by_id.setdefault(str(entry.get("id")), entry)
        self._entries, self._conflicts = list(self._by_id.values()), look.records(conflicts)
        table = self.query_one(QueueTable)
        before = self.selected_id
        ids = list(self._by_id)
        if ids == [str(key.value) for key in table.rows]:
            for entry_id, entry in self._by_id.items():
                for column, cell in zip(COLUMNS, self._row(entry)):
                    table.update_cell(entry_id, column or "where", cell)
        else:
            table.clear()
            for entry_id, entry in self._by_id.items():
                table.add_row(*self._row(entry), key=entry_id)
            if before in self._by_id:
                table.move_cursor(row=table.get_row_index(before), animate=False)
        self.query_one("#queue-title", Static).update(Content(summary(self._entries, self._conflicts)))
        lines = [conflict_line(c, self.ascii) for c in self._conflicts] or ["no conflicts and no dirty worktrees"]
        self.query_one("#conflict-text", Static).update(Content("conflict queue:\n" + "\n".join(lines)))
        self._show_detail()

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The entries shown, in queue order (what ``ConfirmApply`` is given)."""
        return list(self._entries)

    @property
    def selected_id(self) -> Optional[str]:
        """The worker of the entry under the cursor (None: the queue is empty)."""
        table = self.query_one(QueueTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    @property
    def selected(self) -> Optional[dict[str, Any]]:
        """The entry under the cursor, as given."""
        return self._by_id.get(self.selected_id or "")

    def _show_detail(self) -> None:
        self.query_one("#queue-detail", Static).update(Content(detail(self.selected, self.ascii)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail()
        self.post_message(self.EntryHighlighted(self.selected_id))


STRATEGIES = (
    ("merge", "1,m", "a merge commit per worker (--no-ff)"),
    ("squash", "2,s", "one commit per worker, all its work"),
    ("rebase", "3,r", "its commits replayed, then fast-forward"),
)


class ConfirmApply(Dialog[Optional[str]]):
    """Which entries would merge, in order, and the strategy: ``1``/``m``, ``2``/``s``, ``3``/``r`` pick it,
    Enter applies (returns its name), ``n`` or Esc cancel (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(k, f"pick('{s}')", s, id=f"apply.{s}") for s, k, _ in STRATEGIES),
        Binding("y,enter", "apply", "apply", id="apply.confirm"),
        Binding("n,escape", "cancel", "cancel", id="apply.cancel"),
    ]

    def __init__(self, entries: list[dict[str, Any]], *, session: str = "", strategy: str = "merge",
                 ascii: Optional[bool] = None) -> None:  # fmt: skip
        title = f"Apply the merge queue{' of ' + clean(session, look.LONGEST_NAME) if session else ''}?"
        super().__init__(title, ascii=ascii)
        self.entries = list(entries)
        self.strategy = strategy if strategy in {s for s, _, _ in STRATEGIES} else "merge"

    def ready(self) -> list[dict[str, Any]]:
        """The entries that would merge, by position."""
        ready = [e for e in look.records(self.entries) if e.get("readyToMerge") and where(e).startswith("#")]
        return sorted(ready, key=lambda e: int(e["position"]))

    def body_text(self) -> str:
        ready = self.ready()
        lines = [
            f"  #{e.get('position')} {look.name(e.get('id'), 24, self.ascii)} ({look.name(e.get('branch'), 32, self.ascii)})"
            f", {look.name(e.get('aheadBy') or 0, 12, self.ascii)} commit(s), {len(look.items(e.get('files')))} file(s)"
            for e in ready
        ]
        head = "These would merge, in this order:" if ready else "Nothing is ready to merge (applying changes nothing)."
        blocked = len(self.entries) - len(ready)
        tail = [f"{blocked} other entr{'y stays' if blocked == 1 else 'ies stay'} in the queue."] if blocked else []
        return "\n".join([head, *lines, *tail])

    def strategies_text(self) -> str:
        on, off = ("(*)", "( )") if self.ascii else ("\u25cf", "\u25cb")
        return "\n".join(
            f"{on if s == self.strategy else off} {k.replace(',', '/')}  {s:<7} {what}" for s, k, what in STRATEGIES
        )

    def compose(self) -> ComposeResult:
        with self.box():
            yield self.title_line()
            yield Static(Content(self.body_text()), id="dialog-body", markup=False)
            yield Static(id="apply-strategies", markup=False)
            yield Static("1-3/m/s/r: strategy    y/Enter: apply    n/Esc: cancel", id="dialog-keys", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def _draw(self) -> None:
        self.query_one("#apply-strategies", Static).update(Content(self.strategies_text()))

    def action_pick(self, strategy: str) -> None:
        self.strategy = strategy
        self._draw()

    def action_apply(self) -> None:
        self.dismiss(self.strategy)

    def action_cancel(self) -> None:
        self.dismiss(None)
