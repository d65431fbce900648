"""End-to-end tests driving the real Claude Code client offline; what we learned about it is in README.md."""
