"""Speed and memory: MR Studio's ``cs`` against BART ``ecalib`` + ``pics`` on the same data.

Data: the phantom (a held-out test seed, 128² and 256²) or the real-anatomy test cines
(``data="anatomy"``: INIA19 sections, 128², R 8/15/30 and a painted-like R ≈ 12 mask; mean
± sd over cines). Both get the same retrospectively undersampled data, the same
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


def _pair(k, mask, ref, cfg, progress: Progress | None = None, cancel: CancelToken | None = None
          ) -> dict[str, tuple[float, float, float, float]]:
    """``{method: (PSNR, SSIM, seconds, peak MiB)}`` of ``cs`` and (when installed) BART on one case."""
    from ..recon.bart import LAST_PEAK_MIB, bart_available, bart_pics
    from ..recon.cs import reconstruct_cs

    out = {}
    reset_peak_rss()
    t0 = time.perf_counter()
    img, _ = reconstruct_cs(k, mask, None, cfg, "cpu", sub_progress(progress, 0.0, 0.5), cancel)
    secs = time.perf_counter() - t0
    s = score(img, ref)
    out["mrstudio cs"] = (s.psnr, s.ssim, secs, peak_rss_mib())
    if bart_available() is not None:
        t0 = time.perf_counter()
        img = bart_pics(k, mask, cfg, sub_progress(progress, 0.5, 1.0), cancel)
        secs = time.perf_counter() - t0
        s = score(img, ref)
        out["bart pics"] = (s.psnr, s.ssim, secs, LAST_PEAK_MIB[0])
    return out


def cs_vs_bart(sizes: tuple[int, ...] = (128, 256), accel: float = 15.0, iters: int = 100, frames: int = 20,
               coils: int = 8, seed: int | None = None, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> list[PerfRow]:
    """Run ``cs`` and BART on the same undersampled phantoms; one row per (size, method)."""
    import sigpy.mri  # noqa: F401  (import and JIT set-up are paid once per process, not per recon)

    from ..recon.cs import CSConfig

    seed = SPLITS["test"][0] if seed is None else seed
    cfg = CSConfig(iters=iters, tol=0.0)  # fixed iteration count for a fair comparison
    rows: list[PerfRow] = []
    for i, n in enumerate(sizes):
        study = make_phantom(size=n, frames=frames, coils=coils, seed=seed)
        mask = make_mask(MaskSpec(kind="vd-kt", accel=accel, seed=seed), frames, n)
        k = undersample(study.kspace, mask)
        pair = _pair(k, mask, study.reference, cfg, sub_progress(progress, i / len(sizes), (i + 1) / len(sizes)),
                     cancel)
        rows += [PerfRow(n, m, secs, p, q, peak, iters, accel) for m, (p, q, secs, peak) in pair.items()]
    return rows


def anatomy_cs_vs_bart(n: int = 4, accels: tuple[float, ...] = (8.0, 15.0, 30.0, 12.0), iters: int = 100,
                       progress: Progress | None = None, cancel: CancelToken | None = None) -> list[dict[str, Any]]:
    """``cs`` and BART on the first ``n`` real-anatomy test cines at each R (12: painted strokes) with the masks of
    ``bench cine --data anatomy`` (:func:`~.cine.bench_mask`); one row per (R, method), mean ± sd over the cines."""
    import numpy as np
    import sigpy.mri  # noqa: F401

    from ..core.jobs import check
    from ..io.anatomy import test_set
    from ..recon.cs import CSConfig
    from .cine import PAINTED, bench_mask

    cfg = CSConfig(iters=iters, tol=0.0)
    cines = test_set(n)
    out: list[dict[str, Any]] = []
    total, done = len(accels) * len(cines), 0
    for accel in accels:
        vals: dict[str, list[tuple[float, float, float, float]]] = {}
        for i, study in enumerate(cines):
            check(cancel)
            mask = bench_mask(accel, i, study.frames, study.matrix[0])
            pair = _pair(undersample(study.kspace, mask), mask, np.abs(study.reference), cfg, None, cancel)
            for method, v in pair.items():
                vals.setdefault(method, []).append(v)
            done += 1
            if progress:
                progress(done / total, f"R {accel:g} cine {i + 1}/{len(cines)}")
        for method, v in vals.items():
            a = np.array(v)
            sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(4)
            out.append({"accel": accel, "painted": accel == PAINTED, "method": method, "n": len(a),
                        "psnr": float(a[:, 0].mean()), "psnr_sd": float(sd[0]), "ssim": float(a[:, 1].mean()),
                        "ssim_sd": float(sd[1]), "seconds": float(a[:, 2].mean()), "peak_mib": float(a[:, 3].max()),
                        "iters": iters})
    return out


def anatomy_perf_markdown(rows: list[dict[str, Any]]) -> str:
    """The report of :func:`anatomy_cs_vs_bart`: one row per (R, method) and the cs / BART ratios per R."""
    n = rows[0]["n"] if rows else 0
    out = [f"Real-anatomy test cines (INIA19) 0–{n - 1} ({n} cines, 128², 20 frames, 8 coils; vd-kt masks with 2 ACS "
           "lines, or painted strokes at R ≈ 12: the masks of bench cine --data anatomy); mean ± sd over cines; the same "
           "calibration region, kernel and support crop, regularisers, λ's and "
           f"{rows[0]['iters'] if rows else 0} iterations for both. Peak memory: cs in this process (with the test "
           "cines and the source volume it holds), BART's largest ecalib/pics process.", "",
           "| R | method | time (s) | PSNR (dB) | SSIM | peak memory (MiB) |", "|---|---|---|---|---|---|"]
    for r in rows:
        label = f"≈ {r['accel']:g}, painted" if r["painted"] else f"{r['accel']:g}"
        out.append(f"| {label} | {r['method']} | {r['seconds']:.2f} | {r['psnr']:.2f} ± {r['psnr_sd']:.2f} | "
                   f"{r['ssim']:.3f} ± {r['ssim_sd']:.3f} | {r['peak_mib']:.0f} |")
    out.append("")
    by: dict[float, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["accel"], {})[r["method"]] = r
    for accel, d in by.items():
        if "bart pics" in d:
            a, b = d["mrstudio cs"], d["bart pics"]
            out.append(f"- R {accel:g}{' (painted)' if a['painted'] else ''}: time ratio MR Studio / BART = "
                       f"{a['seconds'] / b['seconds']:.2f}, PSNR difference = {a['psnr'] - b['psnr']:+.2f} dB, "
                       f"SSIM difference = {a['ssim'] - b['ssim']:+.3f}")
    return "\n".join(out) + "\n"


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


def run_perf(quick: bool = False, progress: Progress | None = None, cancel: CancelToken | None = None,
             data: str = "phantom") -> dict[str, Any]:
    if data == "anatomy":
        rows_a = (anatomy_cs_vs_bart(n=1, accels=(8.0,), iters=20, progress=progress, cancel=cancel) if quick
                  else anatomy_cs_vs_bart(progress=progress, cancel=cancel))
        return {"cs_vs_bart": rows_a, "markdown": anatomy_perf_markdown(rows_a)}
    if quick:
        rows = cs_vs_bart(sizes=(64,), accel=8.0, iters=20, progress=progress, cancel=cancel)
    else:
        rows = cs_vs_bart(sizes=(128, 256), accel=15.0, iters=100, progress=progress, cancel=cancel)
    return {"cs_vs_bart": [asdict(r) for r in rows], "markdown": perf_markdown(rows)}
