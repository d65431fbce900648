"""The status line (hot path): ``render`` (Claude Code's ``statusLine`` command) and one module per segment.
Standard library and ``ecc_hooks.core`` only.

``main`` is re-exported: status line commands written by earlier installs run ``from ecc_hooks.statusline
import main``.
"""

from ecc_hooks.statusline.render import main as main
