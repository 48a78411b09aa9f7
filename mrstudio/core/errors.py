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
        What is wrong, in words a user understands (no command-line flags: the GUI shows it too).
    cli_hint : str, optional
        How to fix it with command-line options (``"use --force to overwrite"``). Only the CLI shows
        it, after the reason; the GUI offers its own choices.
    """

    def __init__(self, source: str | PathLike | None, reason: str, cli_hint: str | None = None):
        self.source = str(source) if source is not None else "<memory>"
        self.reason = " ".join(str(reason).split("\n"))  # one line, as the CLI promises
        self.cli_hint = cli_hint
        super().__init__(f"{self.source}: {self.reason}")

    def cli_reason(self) -> str:
        """The reason followed by the command-line hint, as the CLI prints it."""
        return f"{self.reason} ({self.cli_hint})" if self.cli_hint else self.reason


class ParameterError(StudyError):
    """A parameter (of a method, a mask, a device, a run) is unknown or out of range.

    ``name`` is the parameter's own name (``accel``, ``device``, ``param`` …). The message names
    it in words (``acceleration R: …``), as the GUI shows it; the CLI shows it as its flag
    (:attr:`flag`, ``--accel: …``), since a command-line user typed that.
    """

    LABELS = {"accel": "acceleration R", "acs": "ACS lines", "mask": "mask kind", "method": "method",
              "device": "device", "param": "method parameters", "factor": "interpolation factor", "loss": "loss",
              "variant": "variant", "crop": "crop", "scheduler": "scheduler", "model": "model"}

    def __init__(self, name: str, reason: str, cli_hint: str | None = None):
        self.name = name
        super().__init__(self.LABELS.get(name, name), reason, cli_hint)

    @property
    def flag(self) -> str:
        """The command-line option that sets this parameter."""
        return f"--{self.name}"


class CheckpointError(StudyError):
    """A model checkpoint is missing, corrupt, or does not match its recorded hash."""
