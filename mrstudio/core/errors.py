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


class ParameterError(StudyError):
    """A parameter (of a method, a mask, a device, a run) is unknown or out of range.

    ``name`` is the parameter's own name (``accel``, ``device``, ``param`` …). The message names
    it in words (``acceleration R: …``), as the GUI shows it; the CLI shows it as its flag
    (:attr:`flag`, ``--accel: …``), since a command-line user typed that.
    """

    LABELS = {"accel": "acceleration R", "acs": "ACS lines", "mask": "mask kind", "method": "method",
              "device": "device", "param": "method parameters", "factor": "interpolation factor", "loss": "loss",
              "variant": "variant", "crop": "crop", "scheduler": "scheduler"}

    def __init__(self, name: str, reason: str):
        self.name = name
        super().__init__(self.LABELS.get(name, name), reason)

    @property
    def flag(self) -> str:
        """The command-line option that sets this parameter."""
        return f"--{self.name}"


class CheckpointError(StudyError):
    """A model checkpoint is missing, corrupt, or does not match its recorded hash."""
