"""Study readers and writers; :func:`open_study` dispatches by content."""

from .dispatch import open_study, sniff

__all__ = ["open_study", "sniff"]
