"""ecc-hooks: status and handoff layer for Claude Code agents.

Kept empty of imports: the hook and the status line import this package on every call.
"""

__version__ = "0.1.0"
