"""Old module path kept for the watcher started by earlier hooks: ``ecc_hooks.cli.watch`` is the module (commands in users' settings and
scripts keep working; ``ecc-hooks doctor`` reports installed commands that still name it)."""

import sys

from ecc_hooks.cli.watch import main

if __name__ == "__main__":
    sys.exit(main())
