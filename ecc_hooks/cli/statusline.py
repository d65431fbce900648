"""``ecc-hooks statusline [--preview [--theme T] [--config F] [--width N]]``: the status line itself (stdin from
Claude Code, ``ecc_hooks.statusline.render``), or a preview on sample data."""

from __future__ import annotations

import os
import sys
from typing import Any

from ecc_hooks.statusline.render import color_from, load_config, main, parse_toml, render_lines, width_from


def add_arguments(parser: Any, name: str) -> None:
    """``ecc-hooks statusline [--preview [--theme T] [--config F] [--width N]]``."""
    from ecc_hooks.statusline.segments.layout import THEMES

    parser.add_argument("--preview", action="store_true", help="render sample data instead of reading stdin")
    parser.add_argument("--theme", choices=sorted(THEMES), help="theme to preview (overrides the config's)")
    parser.add_argument(
        "--config", metavar="FILE", help="a statusline.toml to try (default: $ECC_HOOKS_HOME/statusline.toml)"
    )
    parser.add_argument(
        "--width", type=int, metavar="N", help="columns (default: $COLUMNS, else the config's, else 120)"
    )


def run_command(args: Any, name: str) -> int:
    """``ecc-hooks statusline``: the status line itself, or ``--preview`` on sample data."""
    if not args.preview:
        return main()
    from ecc_hooks.core.errors import UserError
    from ecc_hooks.statusline.segments import sample

    if args.config:
        if not os.path.isfile(args.config):
            raise UserError(f"no such config file: {args.config} (write one, or drop --config)")
        config, error = parse_toml(args.config)
    else:
        config, error = load_config()
    env = dict(os.environ)
    env.setdefault("HOME", "/home/dev")
    width = args.width or width_from(env, config)
    lines = render_lines(
        sample.STDIN,
        sample.SNAPSHOT,
        config,
        width=width,
        now=sample.NOW,
        env=env,
        snapshot_age=5.0,
        config_error=error,
        color=color_from(env, config),
        theme=args.theme,
    )
    print("\n".join(lines))
    if error:
        print(f"ecc-hooks statusline: config problem: {error}", file=sys.stderr)
    return 0


run = run_command  # the name the cli calls
