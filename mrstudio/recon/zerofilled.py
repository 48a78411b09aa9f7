"""The paper's naive reconstruction: zero-filled inverse FFT per coil, then coil combination."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.coils import combine, sos
from ..core.fft import ifft2c
from ..core.jobs import CancelToken, Progress, check, report
from .base import register, undersample


@register("zero-filled", "inverse FFT of the zero-filled k-space per coil; sum of squares (SENSE-1 with maps)")
def zero_filled(kspace: np.ndarray, mask: np.ndarray, *, maps: np.ndarray | None = None, device: str = "cpu",
                progress: Progress | None = None, cancel: CancelToken | None = None, **params: Any) -> np.ndarray:
    """Zero-filled recon ``complex64 (T, Ny, Nx)``.

    Without ``maps``: root sum of squares of the coil images (real, non-negative).
    With ``maps`` (C, Ny, Nx): the complex SENSE-1 combination.
    """
    check(cancel)
    coil_images = ifft2c(undersample(kspace, mask))
    report(progress, 0.5, "inverse FFT")
    check(cancel)
    out = combine(coil_images, maps) if maps is not None else sos(coil_images).astype(np.complex64)
    report(progress, 1.0, "done")
    return out
