"""The HUD's keys without running it: no default is a chord Claude Code, tmux or a terminal takes; the README's
key table is the one the app binds; the Textual-free modules stay free of Textual."""

from __future__ import annotations

import os

from ecc_hooks.tui import keys


def test_no_default_key_is_one_claude_code_or_a_terminal_takes() -> None:
    """Claude Code's chords, tmux's prefix and what terminals swallow over SSH are never a default."""
    taken = {"ctrl+b", "ctrl+c", "ctrl+d", "ctrl+g", "ctrl+l", "ctrl+o", "ctrl+r", "ctrl+s", "ctrl+t", "ctrl+v",
             "ctrl+z", "ctrl+j", "ctrl+enter", "shift+tab", "escape", "ctrl+underscore"}  # fmt: skip
    bound = [key for k in keys.KEYS for key in k.keys.split(",")]
    assert not taken & set(bound)
    assert not any(key.startswith(("ctrl+", "alt+", "meta+")) for key in bound)
    assert len(bound) == len(set(bound))  # one control per key


def test_the_app_module_is_the_only_one_here_that_loads_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ecc_hooks.tui.model, ecc_hooks.tui.keys, ecc_hooks.tui.controls; print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}, check=True)
    assert out.stdout.strip() == "False"


def test_the_readme_key_table_is_the_keys_the_app_binds() -> None:
    from tests.helpers import REPO

    text = (REPO / "README.md").read_text()
    table = text.split("| Key | What | Id (for `[hud.keymap]`) |\n|---|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.split(" | ") for line in table.splitlines()]
    assert [(r[0].strip("| `"), r[1], r[2].strip(" |`")) for r in rows] == [
        (keys.display(k.keys), k.help, k.id) for k in keys.KEYS
    ]
