"""``python -m ecc_hooks`` is the ``ecc-hooks`` console script."""

import sys

from .cli import main

sys.exit(main())
