"""Memory guard: refuse work that would not fit in memory, with a suggestion, before trying."""

from __future__ import annotations

import os
from os import PathLike

from .errors import StudyError

HEADROOM = 0.8  # use at most this fraction of the memory available now


def available_bytes() -> int:
    """Memory available to this process now (Linux ``MemAvailable``; else physical pages; else 8 GiB)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def check_fits(nbytes: float, what: str, source: str | PathLike | None, suggestion: str = "") -> None:
    """Raise :class:`StudyError` if ``nbytes`` exceeds the usable part of available memory."""
    avail = available_bytes()
    if nbytes > HEADROOM * avail:
        hint = f"; {suggestion}" if suggestion else ""
        raise StudyError(source, f"{what} needs about {_gib(nbytes)} but only {_gib(avail)} of memory is available"
                                 f"{hint}")


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"
