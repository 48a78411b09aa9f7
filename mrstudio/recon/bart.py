"""BART as a peer: ``ecalib`` + ``pics`` through its command-line tools and ``.cfl`` files.

Used by the benchmark (same undersampled data as ``cs``) and offered to users as
``--method cs --param backend=bart`` when ``bart`` is on PATH. BART is not a runtime
dependency of MR Studio.

The coil maps are BART's ``ecalib``, with the support crop MR Studio's own calibration
would choose (:func:`~mrstudio.core.coils.support_crop`: 0.95, lowered when a narrow
calibration region would cut away the object), so both reconstruct from the same support.

BART dimensions: 0 readout (x), 1 phase (y), 3 coils, 10 time. ``pics`` regularisers:
``W:3:0:λ`` (l1 wavelet over x, y) and ``T:1024:0:λ`` (total variation along time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core.coils import calibration_width, support_crop, time_averaged_kspace
from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress, check, report
from ..core.memory import proc_kib

TIME_FLAG = 1 << 10


def bart_available() -> str | None:
    """Path of the ``bart`` executable, or None."""
    return shutil.which("bart")


def write_cfl(base: Path, arr: np.ndarray) -> None:
    """Write ``arr`` (already in BART dimension order) as ``base.hdr`` + ``base.cfl``."""
    dims = list(arr.shape) + [1] * (16 - arr.ndim)
    base.with_suffix(".hdr").write_text("# Dimensions\n" + " ".join(str(d) for d in dims) + "\n")
    np.asarray(arr, dtype=np.complex64).ravel(order="F").tofile(base.with_suffix(".cfl"))


def read_cfl(base: Path) -> np.ndarray:
    lines = base.with_suffix(".hdr").read_text().splitlines()
    dims = [int(d) for d in lines[1].split()]
    data = np.fromfile(base.with_suffix(".cfl"), dtype=np.complex64)
    while len(dims) > 1 and dims[-1] == 1:
        dims.pop()
    return data.reshape(dims, order="F")


def to_bart(kspace: np.ndarray) -> np.ndarray:
    """``(C, T, Ny, Nx)`` → BART ``[Nx, Ny, 1, C, 1, 1, 1, 1, 1, 1, T]``."""
    c, t, ny, nx = kspace.shape
    return kspace.transpose(3, 2, 0, 1).reshape(nx, ny, 1, c, 1, 1, 1, 1, 1, 1, t)


#: Peak resident memory (MiB) of the last BART process, sampled while it ran (Linux only).
LAST_PEAK_MIB: list[float] = [0.0]


def _child_peak_mib(pid: int) -> float:
    return (proc_kib(f"/proc/{pid}/status", "VmHWM") or 0) / 1024


def _run(args: list[str], cancel: CancelToken | None, env: dict[str, str]) -> None:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _child_peak_mib(proc.pid))
        if cancel is not None and cancel.cancelled:
            proc.terminate()
            proc.wait()
            check(cancel)
        time.sleep(0.01)
    LAST_PEAK_MIB[0] = max(LAST_PEAK_MIB[0], peak)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace").strip().splitlines()
        raise StudyError("bart", f"'{' '.join(args[:2])}' failed: {err[-1] if err else proc.returncode}")


def bart_pics(kspace: np.ndarray, mask: np.ndarray, cfg: Any, progress: Progress | None = None,
              cancel: CancelToken | None = None, lam_scale: float = 1.0, threads: int | None = None) -> np.ndarray:
    """ESPIRiT (``bart ecalib`` on the time-averaged k-space) + ``bart pics`` (wavelet + temporal TV).

    ``cfg`` is a :class:`~mrstudio.recon.cs.CSConfig`; its λ's mean the same here as in
    ``cs`` (both scale the data by BART's rule, :func:`~mrstudio.recon.cs.data_scale`),
    times ``lam_scale``. BART's wavelet is its Daubechies-2 with random shifts, so ``cfg``
    must ask for that (the defaults do); its depth is BART's own (``cfg.levels`` is for ``cs``).
    Returns ``complex64 (T, Ny, Nx)`` on the scale of the input.
    """
    if cfg.wavelet != "db2" or not cfg.shifts:
        raise StudyError("bart", "the BART backend uses BART's Daubechies-2 wavelet with random shifts "
                                 "(wavelet='db2', shifts=True)")
    exe = bart_available()
    if exe is None:
        raise StudyError("bart", "BART is not installed (Debian/Ubuntu: apt install bart)")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads or os.cpu_count() or 1)}
    c, t, ny, nx = kspace.shape
    width = calibration_width(mask, ny, cfg.espirit.calib_width)
    LAST_PEAK_MIB[0] = 0.0
    with tempfile.TemporaryDirectory(prefix="mrstudio-bart-") as d:
        d = Path(d)
        write_cfl(d / "ksp", to_bart(kspace * mask[None, :, :, None]))
        avg = time_averaged_kspace(kspace, mask)[:, None]  # (C, 1, Ny, Nx)
        write_cfl(d / "avg", to_bart(avg))
        report(progress, 0.05, "bart ecalib")
        _run([exe, "ecalib", "-m1", "-r", str(width), "-k", str(cfg.espirit.kernel_width), "-c", "0",
              str(d / "avg"), str(d / "sens"), str(d / "ev")], cancel, env)
        # the support crop MR Studio's ESPIRiT chooses (core.coils.support_crop), applied to BART's eigenvalues
        ev = np.abs(read_cfl(d / "ev")).reshape(nx, ny)
        crop = support_crop(ev.T, avg[:, 0], cfg.espirit)
        write_cfl(d / "sens", read_cfl(d / "sens").reshape(nx, ny, 1, c) * (ev > crop)[:, :, None, None])
        report(progress, 0.2, "bart pics")
        regs = ["-R", f"W:3:0:{cfg.lam_wavelet * lam_scale:g}"]
        if cfg.temporal == "tv":
            regs += ["-R", f"T:{TIME_FLAG}:0:{cfg.lam_temporal * lam_scale:g}"]
        else:
            raise StudyError("bart", "the BART backend supports temporal='tv' only")
        _run([exe, "pics", "-S", "-i", str(cfg.iters), *regs, str(d / "ksp"), str(d / "sens"), str(d / "img")],
             cancel, env)
        img = read_cfl(d / "img").reshape(nx, ny, *([1] * 8), t)
    report(progress, 1.0, "done")
    return np.ascontiguousarray(img.reshape(nx, ny, t).transpose(2, 1, 0)).astype(np.complex64)
