"""``python -m ecc_hooks.statusline``: the status line command."""

import sys

from ecc_hooks.statusline.render import main

main()
sys.exit(0)
