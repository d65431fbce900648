"""Old module path kept for the recording hook: ``ecc_hooks.capture.hook`` is the module (commands in users' settings and
scripts keep working; ``ecc-hooks doctor`` reports installed commands that still name it)."""

import sys

from ecc_hooks.capture.hook import main

if __name__ == "__main__":
    main()
    sys.exit(0)
