"""Describe the machine and the command a benchmark ran with."""

from __future__ import annotations

import os
import platform
import sys


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
