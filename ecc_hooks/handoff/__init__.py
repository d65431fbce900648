"""Handoffs: inspect adapters (journal, Claude Code history, ECC's dmux/tmux orchestration) and the Markdown
document (``document``)."""
