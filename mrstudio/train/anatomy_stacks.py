"""Real-anatomy slice stacks for HRINet and its ablations (``mrstudio train ct --data anatomy``).

Source: Colin 27 of ``mricron-data`` at 1 mm (:func:`mrstudio.io.anatomy.thin_volume`), split as
:mod:`mrstudio.core.splits` says: the axial slab ``ANATOMY_VAL_SLAB_MM`` is the validation data; it
and ``ANATOMY_GUARD_MM`` on both sides are cut out of the training volume, which leaves two pieces
(below and above). Each piece gives stacks of sections normal to each of the three axes (where its
sections hold a training crop), at slab thicknesses ``THICK_MM`` (slab averages of thin slices, a
rectangular slice profile: :func:`mrstudio.core.slabs.slab_average`). INIA19, the test subject, is
never read here.

Values are on the pipeline's working scale, as an MR volume is at inference
(:class:`mrstudio.interp.pipeline.Intensity`: the volume's robust range onto the HU window), and
the sections are oriented as the test volumes' (:func:`mrstudio.io.anatomy.oriented_sections`).
"""

from __future__ import annotations

import numpy as np

from ..core.slabs import slab_average
from ..core.splits import ANATOMY_GUARD_MM, ANATOMY_SOURCES, ANATOMY_VAL_SLAB_MM
from ..io.anatomy import oriented_sections

THICK_MM = (1, 2, 3)  # slab thicknesses of the training stacks (thin slices of 1 mm averaged)
STEP_II_SLICES = 7  # a stack must hold one large-gap window


def work_volume() -> np.ndarray:
    """Colin 27 ``(X, Y, Z)`` at 1 mm on the working scale (one robust range for the whole volume): the source of
    both the training and the validation stacks (which copy from it)."""
    from ..interp.pipeline import ROBUST_PERCENTILES, Intensity
    from ..io.anatomy import thin_volume

    vol = thin_volume(ANATOMY_SOURCES["train"])
    lo, hi = (float(v) for v in np.percentile(vol, ROBUST_PERCENTILES))
    return Intensity("robust", lo, hi).to_work(vol)


def training_stacks(vol: np.ndarray, crop: int) -> list[np.ndarray]:
    """Thick-slice stacks ``float32 (S, H, W)`` of the training pieces of ``vol`` (:func:`work_volume`) whose
    sections hold a ``crop``² crop."""
    lo, hi = ANATOMY_VAL_SLAB_MM
    cut0, cut1 = int(lo - ANATOMY_GUARD_MM), int(np.ceil(hi + ANATOMY_GUARD_MM))
    out = []
    for piece in (vol[:, :, :cut0], vol[:, :, cut1:]):
        for axis in range(3):
            s = oriented_sections(piece, axis)
            if min(s.shape[1:]) < crop:
                continue
            out += [slab_average(s, t)[0] for t in THICK_MM if s.shape[0] // t >= STEP_II_SLICES]
    return out


def validation_stacks(vol: np.ndarray, across: int = 60) -> list[np.ndarray]:
    """Thin stacks inside the validation slab of ``vol`` (:func:`work_volume`): its axial slices, and the middle
    ``across`` sagittal and coronal sections of it (each as tall as the slab)."""
    lo, hi = (int(v) for v in ANATOMY_VAL_SLAB_MM)
    slab = vol[:, :, lo:hi]
    out = [oriented_sections(slab, 2)]
    for axis in (0, 1):
        s = oriented_sections(slab, axis)
        mid = len(s) // 2
        out.append(s[max(0, mid - across // 2):mid + across // 2])
    return out


def describe(stacks: int, phantom_fraction: float, phantom_seeds: list[int]) -> dict:
    """The ``training_data`` entry of a model card trained on ``stacks`` of these stacks and the phantom."""
    lo, hi = ANATOMY_VAL_SLAB_MM
    g = ANATOMY_GUARD_MM
    return {"kind": "real anatomy (mricron-data Colin 27 at 1 mm, sections normal to all three axes) "
                    "+ procedural CT phantom",
            "split": f"train: Colin 27 except axial {lo - g:g}–{hi + g:g} mm; val: axial slab {lo:g}–{hi:g} mm "
                     "(axial slices, and sagittal/coronal sections as tall as the slab); test: INIA19 (never used here)",
            "thick_mm": list(THICK_MM), "thick_slices": "slab averages of thin slices (rectangular profile)",
            "stacks": stacks, "intensity": "robust range (0.5–99.5th percentile) → HU window",
            "ct_phantom": {"fraction": phantom_fraction, "train_seeds": phantom_seeds}}
