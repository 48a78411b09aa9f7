"""The slab hold-out score of a method: thick slices made from a thin-slice volume, interpolated back.

Thick slices are slab averages (:mod:`mrstudio.core.slabs`: a rectangular profile ``k·dz``
wide, gapless, at the centre of its slab), not every k-th thin slice. The slab hold-out
interpolates the thick volume ×k back onto the thin grid and scores the inserted slices
against the thin slices at their positions (half-way between two thin slices when ``k`` is
even: their mean), on the same [0, 1] scale as :func:`~mrstudio.interp.pipeline.holdout`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress
from ..core.slabs import thick
from ..core.study import VolumeStudy


def thin_at(thin: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Thin slices at fractional slice positions (linear between the two neighbours), float32 (len, ...)."""
    i0 = np.clip(np.floor(positions).astype(int), 0, thin.shape[0] - 1)
    i1 = np.clip(i0 + 1, 0, thin.shape[0] - 1)
    w = (positions - i0).astype(np.float32).reshape(-1, *([1] * (thin.ndim - 1)))
    return (1 - w) * thin[i0] + w * thin[i1]


def slab_holdout(thin: VolumeStudy, method: str, factor: int, device: str = "cpu", progress: Progress | None = None,
                 cancel: CancelToken | None = None, **params: Any) -> dict[str, Any]:
    """Average ``thin`` into slabs of ``factor`` slices, interpolate ×``factor`` with ``method``, score the
    inserted slices against the thin ones (PSNR/SSIM on the working scale mapped to [0, 1], RMSE in stored units)."""
    from ..core.metrics import score
    from .pipeline import intensity_of, interpolate, to_unit

    if thin.shape[0] < 2 * factor:
        raise StudyError(thin.source, f"needs at least {2 * factor} slices for slabs of {factor}")
    study = thick(thin, factor)
    centres = (factor - 1) / 2 + np.arange(study.shape[0]) * factor
    t0 = time.perf_counter()
    res = interpolate(study, method, factor, device=device, progress=progress, cancel=cancel, **params)
    secs = time.perf_counter() - t0
    positions = centres[0] + np.arange(res.study.shape[0])  # the output lies on the thin grid, from the first centre
    new = ~res.original
    pred, truth = res.study.volume[new], thin_at(thin.volume, positions[new])
    inten = intensity_of(study)
    sc = score(to_unit(inten.to_work(pred)), to_unit(inten.to_work(truth)))
    return {"method": method, "factor": factor, "psnr": sc.psnr, "ssim": sc.ssim,
            "rmse": float(np.sqrt(np.mean((pred - truth) ** 2))), "seconds": secs, "device": device,
            "slices_in": study.shape[0], "slices_predicted": int(new.sum()), "model": res.model, "pred": pred, "truth": truth}
