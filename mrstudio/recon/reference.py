"""The metrics reference of a cine study, named by its kind.

* ``ground-truth``: the noiseless image the phantom keeps;
* ``fully-sampled``: SENSE-1 combination of fully-sampled k-space with ESPIRiT maps
  (not sum-of-squares, whose noise floor biases the background);
* ``cs``: the l1-ESPIRiT reconstruction, when no fully-sampled data exist (as in the paper).
"""

from __future__ import annotations

import numpy as np

from ..core.coils import combine, espirit_maps
from ..core.fft import ifft2c
from ..core.jobs import CancelToken, Progress
from ..core.study import CineStudy


def reference_image(study: CineStudy, device: str = "cpu", progress: Progress | None = None,
                    cancel: CancelToken | None = None) -> tuple[np.ndarray, str]:
    """Return ``(complex64 (T, Ny, Nx), kind)``."""
    if study.reference is not None and study.reference_kind:
        return study.reference, study.reference_kind
    if study.fully_sampled:
        maps = study.maps if study.maps is not None else espirit_maps(study.kspace, None, device=device)
        return combine(ifft2c(study.kspace), maps), "fully-sampled"
    from .base import get_method

    cs = get_method("cs").func
    return cs(study.kspace, study.mask, device=device, progress=progress, cancel=cancel), "cs"
