"""Errors raised on bad input."""

from __future__ import annotations

from os import PathLike


class StudyError(Exception):
    """A study (file, folder or in-memory data) cannot be used.

    Parameters
    ----------
    source : str or path-like
        The file, folder or object the problem is in (``"<memory>"`` for arrays).
    reason : str
        What is wrong, in words a user understands.
    """

    def __init__(self, source: str | PathLike | None, reason: str):
        self.source = str(source) if source is not None else "<memory>"
        self.reason = " ".join(str(reason).split("\n"))  # one line, as the CLI promises
        super().__init__(f"{self.source}: {self.reason}")


class CheckpointError(StudyError):
    """A model checkpoint is missing, corrupt, or does not match its recorded hash."""
