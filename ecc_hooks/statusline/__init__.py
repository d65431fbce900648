"""The status line (hot path): ``client`` (Claude Code's ``statusLine`` command: the watcher renders when it
runs), ``render`` (the renderer) and one module per segment. Standard library and ``ecc_hooks.core`` only.

``main`` is still importable from here (status line commands written by earlier installs run ``from
ecc_hooks.statusline import main``), loaded on first use so that importing ``client`` loads nothing else.
"""


def __getattr__(name: str) -> object:  # no typing import: this package is on the hot path
    if name == "main":
        from ecc_hooks.statusline.render import main

        return main
    raise AttributeError(name)
