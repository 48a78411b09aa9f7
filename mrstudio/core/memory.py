"""Memory guard: refuse work that would not fit in memory, with a suggestion, before trying."""

from __future__ import annotations

import os
from os import PathLike

from .errors import StudyError

HEADROOM = 0.8  # use at most this fraction of the memory available now


def proc_kib(path: str, key: str) -> int | None:
    """The value in kiB of ``key`` in a Linux ``/proc`` table (``/proc/meminfo``, ``/proc/PID/status``);
    ``None`` where the file or the key is missing (another OS, a process that ended)."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_bytes() -> int:
    """Memory available to this process now (Linux ``MemAvailable``; else physical pages; else 8 GiB)."""
    kib = proc_kib("/proc/meminfo", "MemAvailable")
    if kib is not None:
        return kib * 1024
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
