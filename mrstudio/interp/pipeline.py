"""Insert slices into a CT volume (factor k) and evaluate a method on held-out slices."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress
from ..core.study import CTStudy
from .base import get_interp

HU_WINDOW = (-1000.0, 1000.0)  # metrics: HU clipped to this window and scaled to [0, 1]


def slice_z(study: CTStudy) -> np.ndarray:
    """Slice positions along the slice normal, mm, increasing (from positions, else from dz)."""
    if study.positions is None or len(study.positions) < 2:
        return np.arange(study.shape[0], dtype=float) * study.spacing[0]
    pos = np.asarray(study.positions, float)
    d = pos[-1] - pos[0]
    n = d / np.linalg.norm(d) if np.linalg.norm(d) > 0 else np.array([0.0, 0.0, 1.0])
    z = (pos - pos[0]) @ n
    if (np.diff(z) <= 0).any():
        raise StudyError(study.source, "slice positions are not strictly increasing along the slice normal")
    return z


@dataclass
class InterpResult:
    study: CTStudy
    method: str
    factor: int
    seconds: float
    device: str
    original: np.ndarray  # bool (Z',): which output slices are original


def interpolate(study: CTStudy, method: str, factor: int, device: str = "cpu", progress: Progress | None = None,
                cancel: CancelToken | None = None, **params: Any) -> InterpResult:
    """Insert ``factor − 1`` slices between each neighbouring pair; returns the new volume."""
    if factor < 2:
        raise StudyError("--factor", f"factor must be ≥ 2, got {factor}")
    if study.shape[0] < 2:
        raise StudyError(study.source, "needs at least 2 slices to interpolate")
    info = get_interp(method)
    z = slice_z(study)
    alphas = np.tile(np.arange(1, factor) / factor, (len(z) - 1, 1))
    t0 = time.perf_counter()
    new = info.func(study.volume, z, alphas, device=device, progress=progress, cancel=cancel, **params)
    secs = time.perf_counter() - t0
    zz, y, x = study.shape
    out = np.empty(((zz - 1) * factor + 1, y, x), np.float32)
    out[::factor] = study.volume
    original = np.zeros(len(out), bool)
    original[::factor] = True
    for i in range(zz - 1):
        out[i * factor + 1:(i + 1) * factor] = new[i]
    positions = None
    if study.positions is not None:
        pos = np.asarray(study.positions, float)
        w = np.linspace(0, zz - 1, len(out))
        i0 = np.minimum(np.floor(w).astype(int), zz - 2)
        f = (w - i0)[:, None]
        positions = pos[i0] * (1 - f) + pos[i0 + 1] * f
    dz = float(np.median(np.diff(z))) / factor
    meta = {**study.meta, "interpolated": {"method": method, "factor": factor, "params": params}}
    res = CTStudy(volume=out, spacing=(dz, study.spacing[1], study.spacing[2]), positions=positions,
                  name=f"{study.name} ({method} ×{factor})", source=study.source, format=study.format, meta=meta)
    return InterpResult(res, method, factor, secs, device, original)


def to_unit(hu: np.ndarray, window: tuple[float, float] = HU_WINDOW) -> np.ndarray:
    """HU clipped to ``window`` and scaled to [0, 1] (the metric scale)."""
    lo, hi = window
    return (np.clip(hu, lo, hi) - lo) / (hi - lo)


def holdout(study: CTStudy, method: str, gap: int = 6, device: str = "cpu", progress: Progress | None = None,
            cancel: CancelToken | None = None, window: tuple[float, float] = HU_WINDOW, **params: Any) -> dict[str, Any]:
    """Keep every ``gap``-th slice, predict the ``gap − 1`` between from the kept ends, score them.

    The paper's "large gap" (windows of 7 consecutive slices, 5 predicted) is ``gap = 6``.
    Scores: PSNR/SSIM (ARCHITECTURE.md definitions) on HU clipped to ``window`` and scaled
    to [0, 1]; RMSE in HU (unclipped), over all predicted slices.
    """
    from ..core.metrics import score

    z = slice_z(study)
    keep = np.arange(0, len(z), gap)
    if len(keep) < 2:
        raise StudyError(study.source, f"needs at least {gap + 1} slices for a hold-out gap of {gap}")
    info = get_interp(method)
    last = keep[-1]
    alphas = np.array([[(z[i + j] - z[i]) / (z[i + gap] - z[i]) for j in range(1, gap)] for i in keep[:-1]])
    t0 = time.perf_counter()
    pred = info.func(study.volume[keep], z[keep], alphas, device=device, progress=progress, cancel=cancel, **params)
    secs = time.perf_counter() - t0
    truth = np.stack([study.volume[i + 1:i + gap] for i in keep[:-1]])
    sc = score(to_unit(pred.reshape(-1, *pred.shape[2:])), to_unit(truth.reshape(-1, *truth.shape[2:])))
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    return {"method": method, "factor": gap, "psnr": sc.psnr, "ssim": sc.ssim, "rmse_hu": rmse, "seconds": secs,
            "device": device, "slices_predicted": int(truth.shape[0] * truth.shape[1]), "slices_used": int(last // gap + 1),
            "window_hu": list(window), "pred": pred, "truth": truth}
