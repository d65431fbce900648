"""The capture layer (hot path): the hook Claude Code runs on every event, the payload normalizer, HEAD read
from git's files. Standard library and ``ecc_hooks.core`` only."""
