"""The HUD's reusable widgets driven by their keys in a tiny app (Textual's Pilot), on what the runtime really
returns for a real repository (tests/tui/world.py), and their SVG snapshots at 80x24 and 160x48.

Snapshots: ``pytest tests/tui --snapshot-update`` rewrites tests/tui/__snapshots__/ after a deliberate change
(look at each SVG before committing it).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from ecc_hooks.tui import diffview
from ecc_hooks.tui.dialogs import Confirm, TextPrompt
from ecc_hooks.tui.diffview import DiffView
from ecc_hooks.tui.queues import ConfirmApply, QueueView
from tests.helpers import git, make_repo
from tests.tui import repo_world

SIZES = [(80, 24), (160, 48)]
# property tests: no deadline, slow generation allowed (the machines running them are shared)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real repository's worker diff and queues (built once: git only, about a second)."""
    root = tmp_path_factory.mktemp("tui")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECC_HOOKS_HOME", str(root / "ecc-home"))
        patch.setenv("HOME", str(root / "home"))
        yield repo_world.build(root)


class WidgetApp(App[Any]):
    """One widget on a screen of its own; ``ascii``: the app attribute the widgets read."""

    def __init__(self, make: Callable[[], Widget], ascii: bool = False) -> None:
        super().__init__()
        self.make, self.ascii = make, ascii
        self.results: list[Any] = []
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield self.make()

    def on_queue_view_entry_highlighted(self, event: QueueView.EntryHighlighted) -> None:
        self.messages.append(event)


def screen_text(app: App[Any]) -> str:
    """What the terminal shows, as text (the compositor's lines)."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def diff_app(shop: dict[str, Any], ascii: bool = False, **extra: Any) -> WidgetApp:
    return WidgetApp(
        lambda: DiffView(shop["diff"], preview_lines=shop["preview_lines"], worktree=shop["worktree"], **extra), ascii
    )


def queue_app(shop: dict[str, Any], ascii: bool = False) -> WidgetApp:
    return WidgetApp(lambda: QueueView(shop["entries"], shop["conflicts"]), ascii)


def at_top_or_visible(view: DiffView, line: int) -> bool:
    """The patch pane starts at ``line``, or shows it when the patch ends before it could (scrolled to the end)."""
    scroll = view.query_one("#diff-scroll")
    if view.patch_offset == line:
        return True
    return view.patch_offset == round(scroll.max_scroll_y) and line < view.patch_offset + scroll.size.height


async def press(pilot: Any, *keys: str) -> None:
    """Press the keys, then let the app refresh (the patch scrolls after its next refresh)."""
    await pilot.press(*keys)
    await pilot.pause()


def header_line(patch: str, name: str, which: int = 0) -> int:
    """The index of the ``which``-th ``diff --git`` line of ``name`` in the patch."""
    lines = patch.split("\n")
    return [i for i, line in enumerate(lines) if line == f"diff --git a/{name} b/{name}"][which]


# ---------------------------------------------------------------------------- DiffView


@pytest.mark.asyncio
async def test_diff_files_are_grouped_and_moving_to_one_scrolls_the_patch_to_its_section(shop: dict[str, Any]) -> None:
    patch = shop["diff"]["patch"]
    app = diff_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(DiffView)
        text = screen_text(app)
        for heading in ("committed (2)", "staged (1)", "unstaged (1)", "untracked (1)"):
            assert heading in text
        assert view.selected_file == ("committed", "src/shop/cart.py")
        assert view.patch_offset == 0
        await press(pilot, "j")  # the committed test file
        assert view.selected_file == ("committed", "tests/test_cart.py")
        assert view.patch_offset == header_line(patch, "tests/test_cart.py")
        await press(pilot, "down")  # staged README: in the second half (git diff HEAD)
        assert view.patch_offset == header_line(patch, "README.md")
        await press(pilot, "j")  # unstaged cart.py: its uncommitted section, not its committed one
        assert view.selected_file == ("unstaged", "src/shop/cart.py")
        assert view.patch_offset > 0 and at_top_or_visible(view, header_line(patch, "src/shop/cart.py", 1))
        await press(pilot, "j")  # untracked: git diff has no section for it, and the note says so
        assert view.selected_file == ("untracked", "NOTES.md")
        assert "NOTES.md: untracked: git diff does not show it" in screen_text(app)
        await press(pilot, "g")
        assert view.selected_file == ("committed", "src/shop/cart.py")
        assert view.patch_offset == 0
        await press(pilot, "G", "k", "enter")
        assert view.selected_file == ("unstaged", "src/shop/cart.py")
        assert at_top_or_visible(view, header_line(patch, "src/shop/cart.py", 1))
        assert "untracked" not in app.query_one("#diff-note", Static).render().plain


@pytest.mark.asyncio
async def test_diff_says_no_changes_worktree_gone_and_cut_plainly() -> None:
    clean = {"id": "w", "branch": "b", "base": "main", "committed": [], "staged": [], "unstaged": [],
             "untracked": [], "summary": "Clean relative to main", "patch": "", "truncated": False, "missing": False}  # fmt: skip
    gone = {**clean, "summary": "its worktree is gone: /tmp/wt/w", "missing": True}
    long_patch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -0,0 +1,300 @@\n" + "\n".join(f"+{i}" for i in range(300))
    long = {**clean, "committed": ["x"], "summary": "Branch 1 file changed", "patch": long_patch}
    app = WidgetApp(lambda: DiffView(clean, max_lines=100))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(DiffView)
        note = lambda: app.query_one("#diff-note", Static).render().plain  # noqa: E731
        assert note() == "no changes"
        view.show(gone)
        await pilot.pause()
        assert note() == "its worktree is gone: /tmp/wt/w"
        assert app.query_one("#diff-patch", Static).render().plain.strip() == ""
        view.show(long)
        await pilot.pause()
        assert note() == "cut at 100 lines"
        assert len(app.query_one("#diff-patch", Static).render().plain.split("\n")) == 100
        view.show({**long, "patch": "\n".join(long_patch.split("\n")[:50]), "truncated": True},
                  preview_lines=50, worktree="/w/t")  # fmt: skip
        await pilot.pause()
        assert note() == "cut at 50 lines (git -C /w/t diff for all)"
        view.show({**clean, "unstaged": ["a.txt"]})
        await pilot.pause()
        assert note() == "no patch in this diff (its files only)"
        view.show(None)
        await pilot.pause()
        assert note() == "no worker selected"


@pytest.mark.asyncio
async def test_the_patch_reaches_the_screen_inert_redacted_and_cut() -> None:
    """A worker's patch carrying escape sequences (OSC 52 clipboard write, colours, a title), bidi overrides, a
    secret and a very long line: none of it reaches the terminal raw; ``+``/``-`` stay as text."""
    secret = "sk-ant-api03-" + "A" * 40
    hostile = "\n".join([
        "diff --git a/evil.py b/evil.py", "--- a/evil.py", "+++ b/evil.py", "@@ -1 +1 @@",
        "-x = 1", "+x = '\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[31mred\x1b[0m\x1b]0;title\x07'",
        f"+KEY = '{secret}'  # \u202eevil\u202c", "+" + "y" * 5000,
    ])  # fmt: skip
    diff = {"id": "w", "branch": "b", "base": "main", "committed": ["evil.py"], "staged": [], "unstaged": [],
            "untracked": [], "summary": "Branch 1 file changed", "patch": hostile, "truncated": False, "missing": False}  # fmt: skip
    app = WidgetApp(lambda: DiffView(diff, max_width=120))
    async with app.run_test(size=(160, 48)):
        shown = app.query_one("#diff-patch", Static).render().plain
        lines = shown.split("\n")
        assert lines[4] == "-x = 1"
        assert lines[5] == "+x = 'red'"
        assert not any(c in shown for c in "\x1b\x07\u202e\u202c\x9b")
        assert secret not in shown and "[REDACTED]" in shown
        assert max(len(line) for line in lines) == 120 and lines[-1].endswith("\u2026")
        assert not any(c in screen_text(app) for c in "\x1b\x07\u202e")


@pytest.mark.asyncio
async def test_diff_scrolls_to_files_git_quotes_or_renames(tmp_path: Path) -> None:
    """Real git output for names with spaces, non-ASCII, a tab and a rename: each file's section is found."""
    repo = make_repo(tmp_path / "r")
    names = ["with space.txt", "caf\u00e9.txt", "tab\there.txt", "plain.txt"]
    for n in names:
        (repo / n).write_text("one\n")
    (repo / "old name.txt").write_text("a\nb\nc\nd\ne\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")
    base = git(repo, "rev-parse", "HEAD")
    for n in names:
        (repo / n).write_text("two\n")
    git(repo, "mv", "old name.txt", "new name.txt")
    git(repo, "commit", "-qam", "edit")
    patch = git(repo, "-c", "diff.renames=true", "diff", "--no-color", f"{base}...HEAD", "--")
    committed = git(repo, "diff", "--name-only", "-z", "--no-renames", f"{base}...HEAD", "--").split("\0")
    committed = [c for c in committed if c]
    diff = {"id": "w", "branch": "b", "base": "main", "committed": committed, "staged": [], "unstaged": [],
            "untracked": [], "summary": "s", "patch": patch, "truncated": False, "missing": False}  # fmt: skip
    found = diffview.sections(patch.split("\n"))
    for name in committed:
        line = diffview.section_line(found, "committed", name)
        assert line is not None, name
        assert patch.split("\n")[line].startswith("diff --git ")
    app = WidgetApp(lambda: DiffView(diff))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(DiffView)
        offsets = set()
        for _ in committed:
            offsets.add(view.patch_offset)
            await press(pilot, "j")
        assert len(offsets) > 1  # it moved with the files (the last ones may share the bottom of the pane)


GIT_SPECIALS = {7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 34: '"', 92: "\\"}


def git_quote(name: str) -> str:
    """A name as git writes it with ``core.quotePath`` on (C quotes, octal bytes for the rest)."""
    raw = name.encode("utf-8")
    if not any(b < 0x20 or b >= 0x7F or b in (34, 92) for b in raw):
        return name
    return (
        '"'
        + "".join(
            "\\" + GIT_SPECIALS[b] if b in GIT_SPECIALS else f"\\{b:03o}" if b < 0x20 or b >= 0x7F else chr(b)
            for b in raw
        )
        + '"'
    )


names = hs.text(hs.characters(blacklist_categories=("Cs",), blacklist_characters="\0\n/"), min_size=1, max_size=30)


@PROPERTY
@given(names)
def test_a_git_quoted_name_reads_back(name: str) -> None:
    quoted_a, quoted_b = git_quote("a/" + name), git_quote("b/" + name)
    patch = [f"diff --git {quoted_a} {quoted_b}", f"--- {quoted_a}", f"+++ {quoted_b}", "@@ -1 +1 @@", "-x", "+y"]
    found = diffview.sections(patch)
    assert diffview.section_line(found, "committed", name) == 0


@PROPERTY
@given(hs.lists(hs.text(alphabet=string.printable + "\u00e9\u202e\x1b", max_size=60), max_size=30))
def test_any_patch_text_parses_to_sections_at_diff_lines(lines: list[str]) -> None:
    lines = [line.replace("\n", "") for line in lines]
    found = diffview.sections(lines)
    assert [s.line for s in found] == [i for i, line in enumerate(lines) if line.startswith("diff --git ")]
    assert all("\x1b" not in n for s in found for n in s.names)


def test_a_removed_line_that_looks_like_a_header_is_not_one() -> None:
    """``-- a/other`` removed from a file shows as ``--- a/other`` inside a hunk: never taken for a header."""
    patch = ["diff --git a/x b/x", "--- a/x", "+++ b/x", "@@ -1,2 +1 @@", "--- a/other", " keep"]
    found = diffview.sections(patch)
    assert found == [diffview.Section(0, frozenset({"x"}))]
    assert diffview.section_line(found, "committed", "other") is None


# ---------------------------------------------------------------------------- QueueView


def row_texts(app: App[Any]) -> list[list[str]]:
    table = app.query_one("#queue-table")
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_queue_rows_say_position_or_why_and_the_selection_shows_files_blockers_and_action(
    shop: dict[str, Any],
) -> None:
    app = queue_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(QueueView)
        rows = row_texts(app)
        assert [r[0] for r in rows] == ["#1", "blocked", "blocked", "#2", "blocked", "blocked", "gone"]
        assert [r[1] for r in rows] == ["checkout", "api-docs", "currency", "discounts", "cart", "search", "legacy"]
        assert rows[1][5] == "conflicts with checkout" and rows[2][5] == "conflicts with main"
        assert rows[4][4] == "2" and rows[4][5] == "uncommitted changes" and rows[5][5] == "still running"
        assert view.selected_id == "checkout"
        await pilot.press("j")
        assert view.selected_id == "api-docs"
        detail = app.query_one("#queue-detail", Static).render().plain
        assert "blocked by checkout: src/shop/api.py" in detail and "next: merge after checkout" in detail
        await pilot.press("down")
        detail = app.query_one("#queue-detail", Static).render().plain
        assert "blocked by main: src/shop/config.py" in detail
        await pilot.press("G")
        assert view.selected_id == "legacy"
        assert "its worktree is gone: /home/dev/shop/wt/legacy" in app.query_one("#queue-detail", Static).render().plain
        await pilot.press("g", "k")
        assert view.selected_id == "checkout"
        told = [m.entry_id for m in app.messages if isinstance(m, QueueView.EntryHighlighted)]
        assert {"api-docs", "currency", "legacy"} <= set(told) and told[-1] == "checkout"
        conflicts = screen_text(app)
        assert "api-docs: pair-conflict with checkout: src/shop/api.py" in conflicts
        assert "currency: base-conflict with main: src/shop/config.py" in conflicts
        assert "cart: dirty: src/shop/cart.py, tests/test_cart.py" in conflicts


@pytest.mark.asyncio
async def test_queue_refresh_keeps_the_cursor_on_the_same_worker(shop: dict[str, Any]) -> None:
    entries = shop["entries"]
    app = queue_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(QueueView)
        await pilot.press("j", "j", "j")
        assert view.selected_id == "discounts"
        # the same rows, one verdict changed: updated in place
        changed = [{**e, "readyToMerge": False, "position": None, "kind": "active", "state": "running"}
                   if e["id"] == "checkout" else e for e in entries]  # fmt: skip
        view.show(changed, shop["conflicts"])
        await pilot.pause()
        assert row_texts(app)[0][0] == "blocked" and row_texts(app)[0][5] == "still running"
        assert view.selected_id == "discounts"
        # another order and a row fewer: rebuilt, the cursor follows the worker
        view.show([entries[3], entries[0], entries[4]], [])
        await pilot.pause()
        assert [r[1] for r in row_texts(app)] == ["discounts", "checkout", "cart"]
        assert view.selected_id == "discounts"
        assert "no conflicts and no dirty worktrees" in screen_text(app)
        view.show([], [])
        await pilot.pause()
        assert view.selected_id is None
        assert "merge queue: empty; conflict queue: 0" in screen_text(app)


@pytest.mark.asyncio
async def test_data_given_before_the_widgets_mount_is_drawn_when_they_do(shop: dict[str, Any]) -> None:
    queue, diff = QueueView(), DiffView()
    queue.show(shop["entries"], shop["conflicts"])
    diff.show(shop["diff"])

    class Both(App[None]):
        def compose(self) -> ComposeResult:
            yield queue
            yield diff

    app = Both()
    async with app.run_test(size=(160, 48)):
        assert queue.selected_id == "checkout" and len(row_texts(app)) == 7
        assert diff.selected_file == ("committed", "src/shop/cart.py")


@pytest.mark.asyncio
async def test_queue_names_are_text_not_markup_nor_escapes() -> None:
    """A branch named like Rich markup or carrying an escape sequence is drawn as the plain text it is."""
    entry = {"id": "w[/]", "branch": "[bold red]x[/bold red]\x1b[2J", "baseRef": "main", "state": "completed",
             "readyToMerge": True, "position": 1, "aheadBy": 2, "files": ["[link=http://e]f[/link]"],
             "dirty": False, "kind": None, "blockedBy": [], "suggestedAction": "merge in queue order #1"}  # fmt: skip
    app = WidgetApp(lambda: QueueView([entry], []))
    async with app.run_test(size=(160, 48)):
        assert row_texts(app)[0][1:3] == ["w[/]", "[bold red]x[/bold red]"]
        text = screen_text(app)
        assert "[link=http://e]f[/link]" in text and "\x1b" not in text


json_values = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.text(max_size=20),
    lambda inner: hs.lists(inner, max_size=4) | hs.dictionaries(hs.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ENTRY_KEYS = ["id", "branch", "baseRef", "state", "readyToMerge", "position", "aheadBy", "files", "dirty", "kind",
              "blockedBy", "suggestedAction", "worker", "base"]  # fmt: skip


@PROPERTY
@given(hs.lists(hs.dictionaries(hs.sampled_from(ENTRY_KEYS), json_values), max_size=4))
def test_queue_text_is_drawn_from_any_export_without_failing(entries: list[dict[str, Any]]) -> None:
    """The queues come from a file (the runtime's export): whatever its fields hold, the text is drawn, inert."""
    from ecc_hooks.tui import queues

    drawn = [queues.summary(entries, entries), queues.detail(entries[0] if entries else None, True)]
    drawn += [queues.conflict_line(e, False) + queues.where(e) + queues.why(e) for e in entries]
    drawn.append(ConfirmApply(entries, session="s", ascii=True).body_text())
    assert all(isinstance(text, str) and "\x1b" not in text for text in drawn)


# long strings made cheaply (a short one repeated): past every cut, up to the suggested action's 300 characters
long_ascii = hs.builds(
    lambda part, times: part * times, hs.text(alphabet=string.printable, max_size=8), hs.integers(1, 60)
)
ascii_values = hs.recursive(
    hs.none() | hs.integers() | long_ascii,
    lambda inner: hs.lists(inner, max_size=10) | hs.dictionaries(hs.sampled_from(ENTRY_KEYS), inner, max_size=4),
    max_leaves=12,
)


KINDS = [None, "pair-conflict", "base-conflict", "dirty", "empty", "active", "merged", "missing"]
ascii_entries = hs.builds(
    lambda fields, kind: {**fields, "kind": kind},
    hs.dictionaries(hs.sampled_from(ENTRY_KEYS), ascii_values),
    hs.sampled_from(KINDS) | ascii_values,
)


@PROPERTY
@given(hs.lists(ascii_entries, min_size=1, max_size=3))
def test_ascii_mode_text_stays_ascii_whatever_it_cuts(entries: list[dict[str, Any]]) -> None:
    """Long names are cut with ``...`` in the ASCII mode (never an ellipsis character)."""
    from ecc_hooks.tui import queues

    drawn = [queues.detail(entries[0], True), queues.summary(entries, entries)]
    drawn += [queues.conflict_line(e, True) + queues.why(e, True) for e in entries]
    drawn.append(ConfirmApply(entries, ascii=True).body_text())
    assert all(text.isascii() for text in drawn)


@PROPERTY
@given(hs.dictionaries(hs.sampled_from([*diffview.GROUPS, "id", "branch", "summary", "patch", "truncated", "missing"]),
                       json_values))  # fmt: skip
def test_a_diff_is_prepared_from_any_export_without_failing(diff: dict[str, Any]) -> None:
    shown = diffview.prepare(diff, 200, None, 50, 80, True)
    assert len(shown.lines) <= 50 and all(len(line) <= 80 for line in shown.lines)


# ---------------------------------------------------------------------------- the modals


async def ask(app: WidgetApp, screen: Any, keys: list[str]) -> Any:
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(screen, app.results.append)
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        return app.results


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "keys, strategy",
    [(["enter"], "merge"), (["2", "enter"], "squash"), (["s", "enter"], "squash"), (["3", "enter"], "rebase"),
     (["r", "enter"], "rebase"), (["r", "m", "enter"], "merge"), (["1", "enter"], "merge"), (["s", "n"], None),
     (["escape"], None)],
)  # fmt: skip
async def test_confirm_apply_picks_the_strategy_or_cancels(
    shop: dict[str, Any], keys: list[str], strategy: Optional[str]
) -> None:
    assert await ask(queue_app(shop), ConfirmApply(shop["entries"], session="demo"), keys) == [strategy]


@pytest.mark.asyncio
async def test_confirm_apply_lists_what_would_merge_in_order_and_marks_the_strategy(shop: dict[str, Any]) -> None:
    app = queue_app(shop, ascii=True)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ConfirmApply(shop["entries"], session="demo"))
        await pilot.pause()
        await pilot.press("r")
        text = screen_text(app)
        assert text.index("#1 checkout (ecc/demo/checkout)") < text.index("#2 discounts (ecc/demo/discounts)")
        assert "5 other entries stay in the queue." in text
        assert "(*) 3/r  rebase" in text and "( ) 1/m  merge" in text
    nothing = WidgetApp(lambda: Static())
    async with nothing.run_test(size=(80, 24)) as pilot:
        nothing.push_screen(ConfirmApply([shop["entries"][4]]))
        await pilot.pause()
        assert "Nothing is ready to merge" in screen_text(nothing)


@pytest.mark.asyncio
@pytest.mark.parametrize("keys, answer", [(["y"], True), (["enter"], True), (["n"], False), (["escape"], False)])
async def test_confirm_answers(keys: list[str], answer: bool) -> None:
    app = WidgetApp(lambda: Static())
    assert await ask(app, Confirm("Stop cart?", "Its scrollback is kept."), keys) == [answer]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "value, keys, answer",
    [("", ["h", "i", "enter"], "hi"), ("", ["enter"], ""), ("abc", ["backspace", "enter"], "ab"),
     ("", ["h", "escape"], None)],
)  # fmt: skip
async def test_text_prompt_submits_or_cancels(value: str, keys: list[str], answer: Optional[str]) -> None:
    app = WidgetApp(lambda: Static())
    assert await ask(app, TextPrompt("Send to cart", value), keys) == [answer]


@pytest.mark.asyncio
async def test_text_prompt_focuses_its_input() -> None:
    app = WidgetApp(lambda: Static())
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(TextPrompt("Filter", placeholder="name, state, branch"))
        await pilot.pause()
        assert isinstance(app.focused, Input)


@pytest.mark.asyncio
async def test_the_move_keys_follow_the_hud_keymap(shop: dict[str, Any]) -> None:
    """The file list and the queue table bind the HUD's own move ids (``hud.down``...): ``[hud.keymap]`` rebinds
    them there too."""
    for app, selected in ((diff_app(shop), lambda a: a.query_one(DiffView).selected_file[1]),
                          (queue_app(shop), lambda a: a.query_one(QueueView).selected_id)):  # fmt: skip
        async with app.run_test(size=(80, 24)) as pilot:
            first = selected(app)
            app.set_keymap({"hud.down": "x", "hud.up": "y"})
            await press(pilot, "j")
            assert selected(app) == first
            await press(pilot, "x")
            second = selected(app)
            assert second != first
            await press(pilot, "y")
            assert selected(app) == first


# ---------------------------------------------------------------------------- sizes and the ASCII mode


@pytest.mark.asyncio
@pytest.mark.parametrize("size", SIZES)
async def test_ascii_mode_draws_only_ascii(shop: dict[str, Any], size: tuple[int, int]) -> None:
    """With the app's ``ascii`` on, every character on screen is ASCII: borders, scroll bars, markers, cuts."""
    for app in (diff_app(shop, ascii=True), queue_app(shop, ascii=True)):
        async with app.run_test(size=size) as pilot:
            await pilot.press("j")
            assert screen_text(app).isascii(), screen_text(app)
            app.push_screen(ConfirmApply(shop["entries"], session="demo"))
            await pilot.pause()
            assert screen_text(app).isascii(), screen_text(app)
            app.pop_screen()
            app.push_screen(TextPrompt("Send", value="x"))
            await pilot.pause()
            assert screen_text(app).isascii(), screen_text(app)
    unicode = diff_app(shop, ascii=False)
    async with unicode.run_test(size=size):
        assert not screen_text(unicode).isascii()  # the control: box drawing when the mode is off


@pytest.mark.asyncio
async def test_the_widget_flag_overrides_the_app() -> None:
    app = WidgetApp(lambda: QueueView([], [], ascii=True), ascii=False)
    async with app.run_test(size=(80, 24)):
        assert app.query_one(QueueView).ascii and screen_text(app).isascii()


# ---------------------------------------------------------------------------- snapshots


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_snapshot_diff_view(shop: dict[str, Any], snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(diff_app(shop), press=["j", "j"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x48"])
def test_snapshot_queue_view(shop: dict[str, Any], snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(queue_app(shop), press=["j"], terminal_size=size)


def test_snapshot_ascii_queue_and_apply(shop: dict[str, Any], snap_compare: Any) -> None:
    async def confirm(pilot: Any) -> None:
        pilot.app.push_screen(ConfirmApply(shop["entries"], session="demo"))

    assert snap_compare(queue_app(shop, ascii=True), run_before=confirm, press=["s"], terminal_size=(80, 24))
