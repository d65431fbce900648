"""Old module path kept for ``python -m ecc_hooks.install`` (prints the plugin's hooks.json): ``ecc_hooks.cli.install``."""

import sys

from ecc_hooks.cli.install import plugin_hooks_document, render_json

if __name__ == "__main__":
    sys.stdout.buffer.write(render_json(plugin_hooks_document()))
