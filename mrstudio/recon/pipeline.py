"""Run one method on a study: undersample, reconstruct, time, score against the reference."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..core.errors import ParameterError, StudyError
from ..core.jobs import CancelToken, Progress, sub_progress
from ..core.masks import MaskSpec, load_mask, make_mask
from ..core.metrics import score
from ..core.study import CineStudy
from .base import ReconResult, get_method, undersample
from .reference import reference_image


def resolve_mask(study: CineStudy, mask: str | np.ndarray | MaskSpec | None, accel: float | None = None,
                 acs: int = 2, seed: int = 0) -> np.ndarray:
    """The ``(T, Ny)`` mask to use: the study's own when undersampled, else from a spec/file/array."""
    t, ny = study.frames, study.matrix[0]
    if isinstance(mask, np.ndarray):
        if mask.shape != (t, ny):
            raise StudyError("mask", f"shape {mask.shape} does not match (T, Ny) = {(t, ny)}")
        return mask.astype(bool)
    if isinstance(mask, MaskSpec):
        return make_mask(mask, t, ny)
    if mask is None:
        if study.mask is None:
            raise StudyError(study.source, "the study is fully sampled: choose a mask kind and an acceleration R",
                             cli_hint="give --mask and --accel")
        return study.mask
    if mask.endswith(".npy"):
        return load_mask(mask, t, ny)
    if accel is None:
        raise ParameterError("accel", "an acceleration factor is required with a mask kind")
    m = make_mask(MaskSpec(kind=mask, accel=accel, acs=acs, seed=seed), t, ny)
    if study.mask is not None and not study.fully_sampled:
        # undersampled data: only lines acquired in the study can be kept
        m = m & study.mask
    return m


def run_recon(study: CineStudy, mask: np.ndarray, method: str, *, device: str = "cpu",
              reference: tuple[np.ndarray, str] | None = None, evaluate: bool = True,
              progress: Progress | None = None, cancel: CancelToken | None = None,
              **params: Any) -> ReconResult:
    """Reconstruct ``study`` under ``mask`` with ``method`` and score it.

    ``reference`` may be passed when already computed (``(image, kind)``); otherwise it
    is derived with :func:`reference_image` when ``evaluate`` is true.
    """
    info = get_method(method)
    if device == "cpu":  # measured peaks (bench perf): CS ≈ 8× the k-space beyond the interpreter's own
        from ..core.memory import check_fits

        factor = 10 if method == "cs" else 4
        check_fits(factor * study.kspace.nbytes, f"{method} on k-space {study.shape}", study.source,
                   "crop the readout, use fewer coils (coil compression) or fewer frames")
    kspace = undersample(study.kspace, mask)
    t0 = time.perf_counter()
    model: dict[str, Any] = {}
    if info.prepare is not None:  # model choice and loading, once, outside the method's own time
        from ..core.masks import accel_effective

        params, model = info.prepare(dict(params), device, accel_effective(mask))
    t1 = time.perf_counter()
    image = info.func(kspace, mask, device=device, progress=sub_progress(progress, 0.0, 0.9), cancel=cancel, **params)
    seconds = time.perf_counter() - t1
    result = ReconResult(image=np.asarray(image, dtype=np.complex64), method=method, mask=mask, seconds=seconds,
                         device=device, params=dict(params), load_seconds=t1 - t0, model=model)
    if evaluate:
        score_result(result, reference or reference_image(study, device=device,
                                                          progress=sub_progress(progress, 0.9, 1.0), cancel=cancel))
    return result


def score_result(result: ReconResult, reference: tuple[np.ndarray, str]) -> ReconResult:
    """Score ``result`` against ``reference`` ``(image, kind)`` in place (what ``run_recon`` does when it evaluates)."""
    ref, kind = reference
    result.scores = score(result.image, ref).as_dict()
    result.reference_kind = kind
    result.reference = np.abs(ref).astype(np.float32)
    return result
