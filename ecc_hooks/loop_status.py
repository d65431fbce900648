"""Old module path kept for python -m ecc_hooks.loop_status: ``ecc_hooks.cli.loop_status`` is the module (commands in users' settings and
scripts keep working; ``ecc-hooks doctor`` reports installed commands that still name it)."""

import sys

from ecc_hooks.cli.loop_status import main

if __name__ == "__main__":
    sys.exit(main())
