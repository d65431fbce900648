"""``ecc-hooks hud``: the full-screen HUD (``ecc_hooks.tui.app``) at this terminal.

It needs a terminal (stdin and stdout): without one it says so and exits 1 rather than draw into a pipe. Its keys
come from ``[hud.keymap]`` in ``$ECC_HOOKS_HOME/config.toml`` (problems there are said, the valid rest applied);
``--ascii`` (or ``ECC_HOOKS_ASCII=1``) draws with plain characters for terminals and fonts without box drawing;
``NO_COLOR`` turns colour off (Textual reads it).
"""

from __future__ import annotations

import argparse
import os
import sys

from ecc_hooks.core.errors import UserError

NAME = "hud"
ASCII_ENV = "ECC_HOOKS_ASCII"


def add_arguments(parser: argparse.ArgumentParser, name: str = NAME) -> None:
    parser.add_argument("--ascii", action="store_true", help=f"plain characters only (also {ASCII_ENV}=1)")


def run(args: argparse.Namespace, name: str = NAME) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the HUD needs a terminal; for a one-shot table use `ecc-hooks status`")
    from ecc_hooks.hud import notify

    settings = notify.load()
    for problem in settings.problems:
        sys.stderr.write(f"ecc-hooks hud: {problem}\n")
    from ecc_hooks.tui.app import HudApp

    app = HudApp(
        ascii=args.ascii or os.environ.get(ASCII_ENV) == "1",
        keymap=settings.hud_keymap,
        bell=settings.hud_bell,
        problems=settings.problems,
        notify=settings.hud_notify,
    )
    app.run()
    return 0
