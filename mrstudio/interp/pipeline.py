"""Insert slices into a volume (factor k) and evaluate a method on held-out slices.

Any volume, CT or MR: the methods (and the hold-out metrics) work on an HU-like scale. CT
is already in HU; any other modality is mapped affinely, per volume, from its robust
range (the 0.5th and 99.5th percentiles) onto the HU window, and back afterwards
(:class:`Intensity`; the output states which). The geometry follows: inserted slices lie
between their neighbours in patient space (:meth:`~mrstudio.core.geometry.Geometry.insert`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import ParameterError, StudyError
from ..core.jobs import CancelToken, Progress
from ..core.study import VolumeStudy
from .base import get_interp

HU_WINDOW = (-1000.0, 1000.0)  # metrics: HU clipped to this window and scaled to [0, 1]
ROBUST_PERCENTILES = (0.5, 99.5)


@dataclass(frozen=True)
class Intensity:
    """The affine map ``[lo, hi] → HU_WINDOW`` between a volume's values and the working (HU-like) scale."""

    kind: str  # "hu" (CT, identity) or "robust" (per-volume percentiles)
    lo: float
    hi: float

    def to_work(self, v: np.ndarray) -> np.ndarray:
        if self.kind == "hu":
            return v
        a, b = HU_WINDOW
        return ((v - self.lo) * ((b - a) / (self.hi - self.lo)) + a).astype(np.float32)

    def from_work(self, w: np.ndarray) -> np.ndarray:
        if self.kind == "hu":
            return w
        a, b = HU_WINDOW
        return ((w - a) * ((self.hi - self.lo) / (b - a)) + self.lo).astype(np.float32)

    def describe(self) -> dict[str, Any]:
        if self.kind == "hu":
            return {"kind": "hu-window", "window_hu": list(HU_WINDOW)}
        return {"kind": "robust", "percentiles": list(ROBUST_PERCENTILES), "range": [round(self.lo, 6), round(self.hi, 6)],
                "maps_to_hu": list(HU_WINDOW)}


def intensity_of(study: VolumeStudy) -> Intensity:
    """HU for CT; for any other modality, the volume's robust range mapped onto the HU window."""
    if study.is_ct:
        return Intensity("hu", *HU_WINDOW)
    lo, hi = (float(v) for v in np.percentile(study.volume, ROBUST_PERCENTILES))
    if hi <= lo:
        lo, hi = float(study.volume.min()), float(study.volume.max())
    if hi <= lo:
        raise StudyError(study.source, "the volume is constant: nothing to interpolate")
    return Intensity("robust", lo, hi)


def slice_z(study: VolumeStudy) -> np.ndarray:
    """Slice positions along the slice normal, mm, from the first slice, increasing (from dz without geometry)."""
    if study.geometry is None or study.shape[0] < 2:
        return np.arange(study.shape[0], dtype=float) * study.spacing[0]
    along = study.geometry.along
    z = along - along[0]
    if (np.diff(z) <= 0).any():
        raise StudyError(study.source, "slice positions are not strictly increasing along the slice normal")
    return z


@dataclass
class InterpResult:
    study: VolumeStudy
    method: str
    factor: int
    seconds: float
    device: str
    original: np.ndarray  # bool (Z',): which output slices are original
    model: str | None = None
    intensity: Intensity | None = None


def interpolate(study: VolumeStudy, method: str, factor: int, device: str = "cpu", progress: Progress | None = None,
                cancel: CancelToken | None = None, **params: Any) -> InterpResult:
    """Insert ``factor − 1`` slices between each neighbouring pair; returns the new volume and geometry."""
    if factor < 2:
        raise ParameterError("factor", f"factor must be ≥ 2, got {factor}")
    if study.shape[0] < 2:
        raise StudyError(study.source, "needs at least 2 slices to interpolate")
    info = get_interp(method)
    z = slice_z(study)
    alphas = np.tile(np.arange(1, factor) / factor, (len(z) - 1, 1))
    inten = intensity_of(study)
    params, model = info.prepare(params, device, None) if info.prepare is not None else (params, {})
    t0 = time.perf_counter()
    new = info.func(inten.to_work(study.volume), z, alphas, device=device, progress=progress, cancel=cancel, **params)
    new = inten.from_work(new)
    secs = time.perf_counter() - t0
    zz, y, x = study.shape
    out = np.empty(((zz - 1) * factor + 1, y, x), np.float32)
    out[::factor] = study.volume
    original = np.zeros(len(out), bool)
    original[::factor] = True
    for i in range(zz - 1):
        out[i * factor + 1:(i + 1) * factor] = new[i]
    geometry = study.geometry.insert(alphas) if study.geometry is not None else None
    dz = float(np.median(np.diff(z))) / factor
    meta = {**study.meta, "interpolated": {"method": method, "factor": factor, "params": params, **model,
                                           "intensity": inten.describe()}}
    res = VolumeStudy(volume=out, spacing=(dz, study.spacing[1], study.spacing[2]), geometry=geometry,
                      modality=study.modality, name=f"{study.name} ({method} ×{factor})", source=study.source,
                      format=study.format, meta=meta)
    return InterpResult(res, method, factor, secs, device, original, model.get("model"), inten)


def to_unit(hu: np.ndarray, window: tuple[float, float] = HU_WINDOW) -> np.ndarray:
    """HU clipped to ``window`` and scaled to [0, 1] (the metric scale)."""
    lo, hi = window
    return (np.clip(hu, lo, hi) - lo) / (hi - lo)


def holdout(study: VolumeStudy, method: str, gap: int = 6, device: str = "cpu", progress: Progress | None = None,
            cancel: CancelToken | None = None, window: tuple[float, float] = HU_WINDOW, **params: Any) -> dict[str, Any]:
    """Keep every ``gap``-th slice, predict the ``gap − 1`` between from the kept ends, score them.

    The paper's "large gap" (windows of 7 consecutive slices, 5 predicted) is ``gap = 6``.
    Scores: PSNR/SSIM (ARCHITECTURE.md definitions) on the working scale (HU; for MR the
    robust-range map) clipped to ``window`` and scaled to [0, 1]; RMSE in the volume's own
    units (HU for CT, unclipped), over all predicted slices.
    """
    from ..core.metrics import score

    z = slice_z(study)
    inten = intensity_of(study)
    work = inten.to_work(study.volume)
    keep = np.arange(0, len(z), gap)
    if len(keep) < 2:
        raise StudyError(study.source, f"needs at least {gap + 1} slices for a hold-out gap of {gap}")
    info = get_interp(method)
    params, model = info.prepare(params, device, None) if info.prepare is not None else (params, {})
    last = keep[-1]
    alphas = np.array([[(z[i + j] - z[i]) / (z[i + gap] - z[i]) for j in range(1, gap)] for i in keep[:-1]])
    t0 = time.perf_counter()
    pred_w = info.func(work[keep], z[keep], alphas, device=device, progress=progress, cancel=cancel, **params)
    secs = time.perf_counter() - t0
    truth_w = np.stack([work[i + 1:i + gap] for i in keep[:-1]])
    sc = score(to_unit(pred_w.reshape(-1, *pred_w.shape[2:]), window),
               to_unit(truth_w.reshape(-1, *truth_w.shape[2:]), window))
    pred, truth = inten.from_work(pred_w), np.stack([study.volume[i + 1:i + gap] for i in keep[:-1]])
    rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
    out = {"method": method, "factor": gap, "psnr": sc.psnr, "ssim": sc.ssim, "rmse": rmse,
           "rmse_units": "HU" if study.is_ct else "stored value", "seconds": secs, "device": device,
           "slices_predicted": int(truth.shape[0] * truth.shape[1]), "slices_used": int(last // gap + 1),
           "window_hu": list(window), "intensity": inten.describe(), "model": model.get("model"),
           "pred": pred, "truth": truth}
    if study.is_ct:
        out["rmse_hu"] = rmse
    return out
