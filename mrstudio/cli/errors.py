"""The CLI's own error: bad command-line usage (exit status 2, one line)."""


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""
