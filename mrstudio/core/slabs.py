"""Thick slices by slab averaging: a rectangular slice profile, ``n`` thin slices wide, gapless.

A thick-slice acquisition integrates over its slice profile; taking every n-th thin slice
(point sampling) would give sharper slices than a scanner does. A thick slice here is the
mean of ``n`` consecutive thin slices, placed at the centre of its slab.
"""

from __future__ import annotations

import numpy as np

from .errors import StudyError
from .geometry import Geometry
from .study import VolumeStudy


def slab_average(thin: np.ndarray, n: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(thick float32 (N, ...), centres float64 (N,))``: means of ``n`` consecutive slices along axis 0 from
    ``offset``; centres in thin-slice units (``offset + i·n + (n − 1)/2``)."""
    count = (thin.shape[0] - offset) // n
    if count < 1:
        raise StudyError("slab", f"{thin.shape[0]} slices hold no slab of {n} from {offset}")
    thick = thin[offset:offset + count * n].reshape(count, n, *thin.shape[1:]).mean(axis=1, dtype=np.float64)
    return thick.astype(np.float32), offset + np.arange(count) * n + (n - 1) / 2


def thick(study: VolumeStudy, n: int) -> VolumeStudy:
    """The volume with every ``n`` consecutive slices averaged (an ``n``× thicker slice), with its geometry."""
    vol, _ = slab_average(study.volume, n)
    z = len(vol) * n
    geometry = None
    if study.geometry is not None:
        g = study.geometry
        geometry = Geometry(g.orientation, g.positions[:z].reshape(-1, n, 3).mean(axis=1), g.pixel_spacing,
                            None if g.slice_thickness is None else g.slice_thickness * n, g.frame_of_reference)
    return VolumeStudy(volume=vol, spacing=(study.spacing[0] * n, *study.spacing[1:]), geometry=geometry,
                       modality=study.modality, name=f"{study.name} ({n}× thick)", source=study.source,
                       format=study.format, meta={**study.meta, "thick": n})
