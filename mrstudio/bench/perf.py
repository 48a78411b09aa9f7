"""Speed and memory: MR Studio's ``cs`` against BART ``ecalib`` + ``pics`` on the same data.

Both get the same retrospectively undersampled phantom (a held-out test seed), the same
ESPIRiT calibration region and kernel, the same regularisers (l1 Daubechies-2 wavelet
over (y, x) with random shifts, and temporal total variation), the same λ's on the same
data scale (both divide the data by BART's scaling of ``|Aᴴy|``) and the same iteration
count — although a BART ADMM iteration includes an inner conjugate-gradient solve (several
``AᴴA``), where a ``cs`` iteration applies ``AᴴA`` once. Quality is measured against the
phantom's noiseless ground truth.
Wall time includes calibration. Peak memory: the peak resident set size of this process
during ``cs`` (Linux ``VmHWM`` after resetting it through ``/proc/self/clear_refs``;
it includes the interpreter and the loaded libraries), and for BART the largest
``VmHWM`` of its ``ecalib`` / ``pics`` processes, sampled every 10 ms while they run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from ..core.jobs import CancelToken, Progress, sub_progress
from ..core.masks import MaskSpec, make_mask
from ..core.metrics import score
from ..core.phantom import make_phantom
from ..core.splits import CINE_PHANTOM as SPLITS
from ..recon.base import undersample
from .machine import peak_rss_mib, reset_peak_rss


@dataclass
class PerfRow:
    size: int
    method: str
    seconds: float
    psnr: float
    ssim: float
    peak_mib: float
    iters: int
    accel: float


def cs_vs_bart(sizes: tuple[int, ...] = (128, 256), accel: float = 15.0, iters: int = 100, frames: int = 20,
               coils: int = 8, seed: int | None = None, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> list[PerfRow]:
    """Run ``cs`` and BART on the same undersampled phantoms; one row per (size, method)."""
    import sigpy.mri  # noqa: F401  (import and JIT set-up are paid once per process, not per recon)

    from ..recon.bart import LAST_PEAK_MIB, bart_available, bart_pics
    from ..recon.cs import CSConfig, reconstruct_cs

    seed = SPLITS["test"][0] if seed is None else seed
    cfg = CSConfig(iters=iters, tol=0.0)  # fixed iteration count for a fair comparison
    rows: list[PerfRow] = []
    have_bart = bart_available() is not None
    for i, n in enumerate(sizes):
        study = make_phantom(size=n, frames=frames, coils=coils, seed=seed)
        mask = make_mask(MaskSpec(kind="vd-kt", accel=accel, seed=seed), frames, n)
        k = undersample(study.kspace, mask)
        span = (i / len(sizes), (i + 1) / len(sizes))
        reset_peak_rss()
        t0 = time.perf_counter()
        img, _ = reconstruct_cs(k, mask, None, cfg, "cpu", sub_progress(progress, span[0], sum(span) / 2), cancel)
        secs = time.perf_counter() - t0
        peak = peak_rss_mib()
        s = score(img, study.reference)
        rows.append(PerfRow(n, "mrstudio cs", secs, s.psnr, s.ssim, peak, iters, accel))
        if have_bart:
            t0 = time.perf_counter()
            img = bart_pics(k, mask, cfg, sub_progress(progress, sum(span) / 2, span[1]), cancel)
            secs = time.perf_counter() - t0
            peak = LAST_PEAK_MIB[0]
            s = score(img, study.reference)
            rows.append(PerfRow(n, "bart pics", secs, s.psnr, s.ssim, peak, iters, accel))
    return rows


def perf_markdown(rows: list[PerfRow]) -> str:
    out = ["| size | method | time (s) | PSNR (dB) | SSIM | peak memory (MiB) |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r.size}² | {r.method} | {r.seconds:.2f} | {r.psnr:.2f} | {r.ssim:.3f} | {r.peak_mib:.0f} |")
    by_size: dict[int, dict[str, PerfRow]] = {}
    for r in rows:
        by_size.setdefault(r.size, {})[r.method] = r
    ratios = []
    for n, d in by_size.items():
        if "bart pics" in d:
            a, b = d["mrstudio cs"], d["bart pics"]
            ratios.append(f"- {n}²: time ratio MR Studio / BART = {a.seconds / b.seconds:.2f}, "
                          f"PSNR difference = {a.psnr - b.psnr:+.2f} dB, SSIM difference = {a.ssim - b.ssim:+.3f}")
    return "\n".join(out + [""] + ratios) + "\n"


def run_perf(quick: bool = False, progress: Progress | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    if quick:
        rows = cs_vs_bart(sizes=(64,), accel=8.0, iters=20, progress=progress, cancel=cancel)
    else:
        rows = cs_vs_bart(sizes=(128, 256), accel=15.0, iters=100, progress=progress, cancel=cancel)
    return {"cs_vs_bart": [asdict(r) for r in rows], "markdown": perf_markdown(rows)}
