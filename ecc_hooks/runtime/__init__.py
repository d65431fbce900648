"""The companion runtime (parallel agents in worktrees and tmux): only ``ecc_hooks.cli`` imports it."""
