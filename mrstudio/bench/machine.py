"""Describe the machine and the command a benchmark ran with."""

from __future__ import annotations

import os
import platform
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ..core.memory import proc_kib


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str = "cpu") -> dict[str, str]:
    import numpy

    info = {"cpu": cpu_name(), "cores": str(os.cpu_count()), "python": platform.python_version(),
            "numpy": numpy.__version__, "os": f"{platform.system()} {platform.release()}", "device": device}
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        info["memory"] = f"{mem:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    if device.startswith("cuda"):
        from ..core.device import describe_device

        info["gpu"] = describe_device(device)
    return info


def command_line() -> str:
    args = sys.argv[1:]
    return "mrstudio " + " ".join(args) if args else "mrstudio"


def markdown_header(title: str, device: str = "cpu") -> str:
    info = machine_info(device)
    lines = [f"## {title}", "", f"Command: `{command_line()}`", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), ""]
    return "\n".join(lines)


def reset_peak_rss() -> None:
    """Reset this process's peak RSS counter (Linux ≥ 4.0; silently nothing elsewhere)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB."""
    kib = proc_kib("/proc/self/status", "VmHWM")
    return (kib if kib is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def rss_mib() -> float:
    """Current resident set size of this process in MiB (0 where unknown)."""
    return (proc_kib("/proc/self/status", "VmRSS") or 0) / 1024


@contextmanager
def peak_memory(device: str) -> Iterator[dict[str, float]]:
    """Measure the memory a block adds at its peak, in MiB: ``{"peak_mib", "added_mib"}`` on exit.

    CUDA: ``torch.cuda.max_memory_allocated`` (tensors only) and its rise over the start.
    CPU: the process's peak RSS (``VmHWM`` after a reset) and its rise over the RSS at the start,
    which counts what the block allocates, NumPy and PyTorch alike.
    """
    out: dict[str, float] = {}
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device) / 2**20
        yield out
        torch.cuda.synchronize(device)
        out["peak_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        before = rss_mib()
        reset_peak_rss()
        yield out
        out["peak_mib"] = peak_rss_mib()
    out["added_mib"] = max(0.0, out["peak_mib"] - before)
