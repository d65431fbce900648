"""Old module path kept for python -m ecc_hooks.schemas: ``ecc_hooks.cli.schemas`` is the module (commands in users' settings and
scripts keep working; ``ecc-hooks doctor`` reports installed commands that still name it)."""

import sys

from ecc_hooks.cli.schemas import main

if __name__ == "__main__":
    sys.exit(main())
