"""Exceptions that carry a user-facing message; the CLI maps them to exit codes."""


class UserError(Exception):
    """An expected problem with the user's input or setup: exit 1 with this message (say how to fix it)."""
