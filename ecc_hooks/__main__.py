"""``python -m ecc_hooks`` is the ``ecc-hooks`` console script."""

import sys

from ecc_hooks.cli import main

sys.exit(main())
