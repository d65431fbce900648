"""The HUD's diff viewer: one worker's diff as the runtime returns it (``DiffData.diffs[i]``, the JSON of
``runtime.merge.WorkerDiff``), shown without any I/O of its own.

Three parts: the summary (and a plain note when there is nothing to show, the worktree is gone or the preview was
cut); the files grouped committed / staged / unstaged / untracked, where moving to a file scrolls the patch to its
section; and the patch itself, highlighted by Pygments' ``diff`` lexer in the app's theme colours, ``+``/``-``/``@@``
kept as text so it reads the same without colour.

The patch is untrusted (it is what a worker wrote): secrets are redacted and every escape sequence and control
character removed (``core.text.human``) before anything is parsed or drawn, each line is cut at ``max_width``
characters (a one-line minified file cannot stall the layout) and at most ``max_lines`` lines are shown.

The runtime's patch is ``git diff base...HEAD`` then ``git diff HEAD``: a file both committed and changed again
has two sections, the first for its committed change and the last for its uncommitted one, and an untracked file
has none (git diff does not show it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Optional

from pygments.token import Token  # type: ignore[import-untyped]  # Textual's own highlighter uses it
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, ScrollableContainer
from textual.content import Content
from textual.highlight import HighlightTheme, highlight
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ecc_hooks.core.text import clean, human
from ecc_hooks.tui import look

GROUPS = ("committed", "staged", "unstaged", "untracked")
MAX_LINES = 1000  # the most patch lines drawn (the runtime's preview is 200)
MAX_WIDTH = 400  # the most characters of one patch line drawn


class DiffTheme(HighlightTheme):
    """Textual's highlight theme plus the diff lexer's tokens: additions in the success colour, removals in the
    error colour, hunk headers in the accent colour, file headers bold."""

    STYLES = {
        **HighlightTheme.STYLES,
        Token.Generic.Inserted: "$text-success",
        Token.Generic.Deleted: "$text-error",
        Token.Generic.Subheading: "$text-accent",
        Token.Generic.Heading: "bold $text-primary",
    }


# ---------------------------------------------------------------------------- the patch's file sections


@dataclass(frozen=True)
class Section:
    """Where one file's section starts in the patch (its ``diff --git`` line) and the names it is about (both
    sides of a rename), as inert text."""

    line: int
    names: frozenset[str]


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(text: str) -> tuple[str, str]:
    """A name as git writes it in a patch (``core.quotePath``: ``"caf\\303\\251"`` in C quotes with octal bytes, or
    bare) and the rest of ``text`` after it (a bare name runs to the end)."""
    if not text.startswith('"'):
        return text, ""
    out = bytearray()
    i = 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return out.decode("utf-8", "replace"), text[i + 1 :]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            octal = text[i + 1 : i + 4]
            if len(octal) == 3 and all(c in "01234567" for c in octal):
                out.append(int(octal, 8) & 0xFF)
                i += 4
                continue
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
        out.extend(char.encode("utf-8", "surrogatepass"))
        i += 1
    return out.decode("utf-8", "replace"), ""


def _git_line_names(rest: str) -> set[str]:
    """The names on a ``diff --git a/X b/Y`` line (``rest`` is what follows ``diff --git ``). Bare names may hold
    spaces, so a bare line is read as ``a/X b/X`` (the same name twice); a rename is read from its other lines."""
    if rest.startswith('"'):
        first, after = unquote(rest)
        second, _ = unquote(after[1:]) if after.startswith(" ") else ("", "")
        return {n[2:] for n in (first, second) if n[:2] in ("a/", "b/")}
    half = (len(rest) - 5) // 2
    same = rest[2 : 2 + half]
    return {same} if half > 0 and rest == f"a/{same} b/{same}" else set()


def _header_name(line: str) -> Optional[str]:
    """The name on a header line of a file's section (``--- a/X``, ``+++ b/X``, ``rename from X``...)."""
    for prefix in ("--- ", "+++ "):
        if line.startswith(prefix):
            found, _ = unquote(line[4:].rstrip("\t"))
            return found[2:] if found[:2] in ("a/", "b/") else None
    for prefix in ("rename from ", "rename to ", "copy from ", "copy to "):
        if line.startswith(prefix):
            return unquote(line[len(prefix) :])[0]
    return None


def sections(lines: list[str]) -> list[Section]:
    """Each file section of a patch, in order: its first line and its names (cleaned: what the file list shows).
    Header lines are read only between ``diff --git`` and the first hunk, so a removed line ``-- a/x`` (shown as
    ``--- a/x``) is never taken for one."""
    found: list[Section] = []
    start, names, in_header = -1, set[str](), False
    for index, line in enumerate(lines):
        if line.startswith("diff --git "):
            if start >= 0:
                found.append(Section(start, frozenset(names)))
            start, names, in_header = index, _git_line_names(line[len("diff --git ") :]), True
        elif in_header and line.startswith("@@"):
            in_header = False
        elif in_header and (header := _header_name(line)) is not None:
            names.add(header)
    if start >= 0:
        found.append(Section(start, frozenset(names)))
    return [Section(s.line, frozenset(clean(n, look.LONGEST_NAME) for n in s.names)) for s in found]


def section_line(found: list[Section], group: str, file: str) -> Optional[int]:
    """The patch line where ``file``'s section for ``group`` starts: a committed file's first section, an
    uncommitted one's last (``git diff HEAD`` comes second); None for an untracked file or one past the preview."""
    if group == "untracked":
        return None
    key = clean(file, look.LONGEST_NAME)
    lines = [s.line for s in found if key in s.names]
    if not lines:
        return None
    return lines[0] if group == "committed" else lines[-1]


# ---------------------------------------------------------------------------- what is drawn


@dataclass(frozen=True)
class Shown:
    """A diff made ready to draw: the inert summary, the plain note, the patch's lines and sections."""

    title: str
    note: str
    lines: list[str]
    found: list[Section]


def prepare(diff: Optional[dict[str, Any]], preview_lines: int, worktree: Optional[str], max_lines: int,
            max_width: int, ascii: bool) -> Shown:  # fmt: skip
    """What a diff looks like on screen (pure: the property tests and the widget share it)."""
    if diff is None:
        return Shown("", "no worker selected", [], [])
    worker = f"{look.name(diff.get('id'), 64, ascii)} ({look.name(diff.get('branch'), 64, ascii)})"
    summary = look.name(diff.get("summary"), 400, ascii)
    if diff.get("missing"):
        return Shown(worker, summary if "worktree is gone" in summary else f"its worktree is gone: {summary}", [], [])
    title = f"{worker}: {summary}"
    lines = human(diff.get("patch") or "").split("\n") if diff.get("patch") else []
    found = sections(lines)
    notes = []
    if not lines and not any(look.items(diff.get(g)) for g in GROUPS):
        notes.append("no changes")
    elif not lines:
        notes.append("no patch in this diff (its files only)")
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        notes.append(f"cut at {max_lines} lines")
    elif diff.get("truncated"):
        where = look.name(worktree, 200, ascii) if worktree else "the worktree"
        notes.append(f"cut at {preview_lines or len(lines)} lines (git -C {where} diff for all)")
    lines = [look.cut(line, max_width, ascii) for line in lines]
    return Shown(title, "; ".join(notes), lines, found)


class FileList(OptionList):
    """The diff's files under their group headings; the HUD's move keys (``hud.down``...) work here too."""

    BINDINGS: ClassVar[list[BindingType]] = look.move_bindings("file", "first", "last")  # type: ignore[assignment]


class DiffView(Widget):
    """One worker's diff: summary and note, the file list, the highlighted patch. New data: ``show``."""

    DEFAULT_CSS = """
    DiffView { layout: vertical; height: 1fr; }
    DiffView > #diff-title { height: auto; max-height: 3; text-style: bold; }
    DiffView > #diff-note { height: auto; color: $text-warning; }
    DiffView > #diff-note.-empty { display: none; }
    DiffView > #diff-body { height: 1fr; }
    DiffView #diff-files { width: 30%; min-width: 18; max-width: 48; height: 1fr;
                           border: none; border-right: solid $primary-muted; padding: 0; }
    DiffView.-ascii #diff-files { border-right: ascii $primary-muted; }
    DiffView #diff-files:focus { border-right: solid $primary; }
    DiffView.-ascii #diff-files:focus { border-right: ascii $primary; }
    DiffView #diff-scroll { width: 1fr; height: 1fr; }
    DiffView #diff-patch { width: auto; height: auto; text-wrap: nowrap; }
    """

    def __init__(
        self,
        diff: Optional[dict[str, Any]] = None,
        *,
        preview_lines: int = 0,
        worktree: Optional[str] = None,
        max_lines: int = MAX_LINES,
        max_width: int = MAX_WIDTH,
        ascii: Optional[bool] = None,
        name: Optional[str] = None,
        id: Optional[str] = None,
        classes: Optional[str] = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._diff, self._preview_lines, self._worktree = diff, preview_lines, worktree
        self.max_lines, self.max_width = max_lines, max_width
        self._ascii = ascii
        self._files: dict[str, tuple[str, str]] = {}  # option id -> (group, file)
        self._shown = Shown("", "", [], [])
        self._ready = False  # mounted: its parts exist

    @property
    def ascii(self) -> bool:
        return look.ascii_mode(self._ascii, self)

    def compose(self) -> ComposeResult:
        yield Static(id="diff-title", markup=False)
        yield Static(id="diff-note", markup=False)
        with Horizontal(id="diff-body"):
            yield FileList(id="diff-files")
            with ScrollableContainer(id="diff-scroll"):
                yield Static(id="diff-patch", markup=False)

    def on_mount(self) -> None:
        if self.ascii:
            self.add_class(look.ASCII_CLASS)
            for scrolled in (self.query_one("#diff-files"), self.query_one("#diff-scroll")):
                look.plain_scrollbars(scrolled)
        self._ready = True
        self.show(self._diff, preview_lines=self._preview_lines, worktree=self._worktree)

    def show(self, diff: Optional[dict[str, Any]], *, preview_lines: int = 0, worktree: Optional[str] = None) -> None:
        """Show ``diff`` (a ``WorkerDiff`` as JSON; None: nothing selected). ``preview_lines`` and ``worktree`` come
        from the same ``DiffData`` and only say where the whole diff is when the preview was cut."""
        self._diff, self._preview_lines, self._worktree = diff, preview_lines, worktree
        if not self._ready:  # drawn when mounted
            return
        self._shown = prepare(diff, preview_lines, worktree, self.max_lines, self.max_width, self.ascii)
        self.query_one("#diff-title", Static).update(Content(self._shown.title))
        self._set_note(self._shown.note)
        self._fill_files(diff)
        patch = "\n".join(self._shown.lines)
        self.query_one("#diff-patch", Static).update(highlight(patch, language="diff", theme=DiffTheme))
        self.query_one("#diff-scroll", ScrollableContainer).scroll_home(animate=False)

    def _set_note(self, note: str) -> None:
        widget = self.query_one("#diff-note", Static)
        widget.update(Content(note))
        widget.set_class(not note, "-empty")

    def _fill_files(self, diff: Optional[dict[str, Any]]) -> None:
        files = self.query_one(FileList)
        files.clear_options()
        self._files = {}
        if diff is None or diff.get("missing"):
            return
        width = 200
        options: list[Option] = []
        for group in GROUPS:
            names = look.items(diff.get(group))
            if not names:
                continue
            options.append(Option(Content.styled(f"{group} ({len(names)})", "bold"), disabled=True))
            for index, file in enumerate(names):
                option_id = f"{group}:{index}"
                self._files[option_id] = (group, str(file))
                options.append(Option(Content(" " + look.name(file, width, self.ascii)), id=option_id))
        files.add_options(options)
        if self._files:
            files.highlighted = next(i for i, o in enumerate(options) if not o.disabled)

    # ------------------------------------------------------------------------ selecting a file

    @property
    def selected_file(self) -> Optional[tuple[str, str]]:
        """(group, file) of the file the list's cursor is on."""
        files = self.query_one(FileList)
        if files.highlighted is None:
            return None
        option = files.get_option_at_index(files.highlighted)
        return self._files.get(option.id or "")

    @property
    def patch_offset(self) -> int:
        """The patch line at the top of the patch pane."""
        return round(self.query_one("#diff-scroll", ScrollableContainer).scroll_y)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.scroll_to_file()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.scroll_to_file()

    def scroll_to_file(self) -> Optional[int]:
        """Scroll the patch to the selected file's section; the line it starts at (None: it has none, and the
        note says why)."""
        selected = self.selected_file
        if selected is None:
            return None
        group, file = selected
        line = section_line(self._shown.found, group, file)
        shown = look.name(file, 60, self.ascii)
        if line is not None and line < len(self._shown.lines):
            self._set_note(self._shown.note)
            scroll = self.query_one("#diff-scroll", ScrollableContainer)
            # after the next refresh: a patch just given has no height yet, and a scroll now would stop at 0
            self.call_after_refresh(scroll.scroll_to, y=line, animate=False, immediate=True)
            return line
        if not self._shown.lines:
            return None
        why = "untracked: git diff does not show it" if group == "untracked" else "not in the patch preview"
        self._set_note(f"{shown}: {why}" + (f"; {self._shown.note}" if self._shown.note else ""))
        return None
