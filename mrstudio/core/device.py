"""Choose the compute device once, at the edge, and pass it down."""

from __future__ import annotations

from .errors import ParameterError

DEVICES = ("auto", "cpu", "cuda", "mps")


def choose_device(request: str = "auto") -> str:
    """Return ``"cuda"``, ``"mps"`` or ``"cpu"``.

    ``"auto"`` picks CUDA, then MPS, then CPU. An explicit request for a device that is
    not available raises :class:`StudyError` rather than silently falling back.
    """
    request = (request or "auto").lower()
    if request not in DEVICES and not request.startswith("cuda:"):
        raise ParameterError("device", f"unknown device {request!r} (choose from {', '.join(DEVICES)})")
    if request == "cpu" or (request == "auto" and not _may_have_accelerator()):
        return "cpu"
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if request == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if request.startswith("cuda") and not cuda:
        raise ParameterError("device", "CUDA was requested but no CUDA device is available")
    if request == "mps" and not mps:
        raise ParameterError("device", "MPS was requested but is not available")
    return request


def _may_have_accelerator() -> bool:
    """False only where no GPU can be used: Linux without an NVIDIA, ROCm or WSL GPU driver (then "auto" need
    not import torch, which takes seconds: the GUI starts faster)."""
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return True  # macOS (MPS) and Windows: ask torch
    probes = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")
    return any(os.path.exists(p) for p in probes)


def describe_device(device: str) -> str:
    """A human-readable name: the GPU's name for CUDA, ``"CPU"`` otherwise."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    return "Apple MPS" if device == "mps" else "CPU"



_CPU_THREADS: int | None = None


def cpu_threads() -> int:
    """Threads this process's own CPU numerics may use (scipy.fft ``workers``; torch's pool follows it): the count set by
    :func:`set_cpu_threads`, else every core."""
    import os

    return _CPU_THREADS or os.cpu_count() or 1


def set_cpu_threads(n: int | None) -> None:
    """Limit this process's CPU numerics to ``n`` threads, torch's intra-op pool included when torch
    is loaded (a batch worker that shares the cores with others sets 1); None: every core for
    scipy.fft, torch left as it is."""
    import sys

    global _CPU_THREADS
    _CPU_THREADS = n
    if n is not None and "torch" in sys.modules:
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
