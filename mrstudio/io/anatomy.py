"""Real-anatomy cines from the MR volumes Debian's ``mricron-data`` ships (read with nibabel).

Sources (``/usr/share/mricron/templates``, BSD-3-clause, see docs/data.md): **Colin 27**
(``ch2better.nii.gz``, 0.5 mm; ``ch2.nii.gz`` is the same subject at 1 mm and serves only
when ch2better is missing — one source) and **INIA19** (``inia19-t1-brain.nii.gz``, 0.5 mm).
Slices are taken in all three orientations, resampled to the fine grid (twice the
acquisition matrix) at a pixel size that fits the whole section in the field of view, and
made into cines by :func:`mrstudio.core.anatomy_cine.make_anatomy_cine`.

The split is by source volume and slab (:mod:`mrstudio.core.splits`): the test cines come
from INIA19 only, the validation cines from one axial slab of Colin 27, the training cines
from the rest of Colin 27 (axial slices within 10 mm of the slab left out). Slices are
``SLICE_STEP_MM`` apart and must hold signal over ``MIN_BODY`` of their area. A cine is
``(split, k)``: slice ``k`` of the split (cycled) with seed ``ANATOMY_SEEDS[split][k]``, so
every cine — the fixed test set included — is regenerated exactly from its index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core.anatomy_cine import AnatomyCineConfig, make_anatomy_cine
from ..core.errors import StudyError
from ..core.splits import ANATOMY_GUARD_MM, ANATOMY_SEEDS, ANATOMY_SOURCES, ANATOMY_VAL_SLAB_MM
from ..core.study import CineStudy

TEMPLATES = Path(os.environ.get("MRSTUDIO_MRICRON", "/usr/share/mricron/templates"))
SOURCE_FILES = {"colin27": ("ch2better.nii.gz", "ch2.nii.gz"), "inia19": ("inia19-t1-brain.nii.gz",)}
FOV_MM = {"colin27": 192.0, "inia19": 112.0}  # the acquired field of view that holds a whole section
SLICE_STEP_MM = 4.0
MIN_BODY = 0.25
AXES = ("sagittal", "coronal", "axial")  # volume axis 0, 1, 2


@dataclass(frozen=True)
class SliceRef:
    """One source slice: ``axis`` 0/1/2 (sagittal/coronal/axial), ``index`` along it, ``mm`` from the first."""

    source: str
    axis: int
    index: int
    mm: float

    @property
    def label(self) -> str:
        return f"{self.source} {AXES[self.axis]} {self.mm:.1f} mm"


def _file(source: str) -> Path:
    for name in SOURCE_FILES[source]:
        if (TEMPLATES / name).is_file():
            return TEMPLATES / name
    raise StudyError(TEMPLATES / SOURCE_FILES[source][0],
                     "real-anatomy data not found: install Debian's mricron-data (make test does as root)")


@lru_cache(maxsize=2)
def load_volume(source: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """``float32 (X, Y, Z)`` scaled to [0, 1] and its voxel size (mm)."""
    import nibabel as nib

    path = _file(source)
    try:
        img = nib.load(str(path))
        vol = np.asarray(img.dataobj, np.float32)
    except Exception as exc:
        raise StudyError(path, f"unreadable NIfTI ({type(exc).__name__}: {exc})") from None
    vol = np.nan_to_num(vol)
    vol = np.clip(vol / max(float(np.percentile(vol, 99.9)), 1e-6), 0, None)
    return vol, tuple(float(z) for z in img.header.get_zooms()[:3])


def _section(vol: np.ndarray, axis: int, index: int) -> np.ndarray:
    """A view (basic indexing; ``np.take`` copies through the whole volume) with rows from the far end."""
    return vol[(slice(None),) * axis + (index,)].T[::-1]


@lru_cache(maxsize=4)
def slice_refs(split: str) -> tuple[SliceRef, ...]:
    """The slices of ``split``, in a fixed order (orientations interleaved)."""
    if split not in ANATOMY_SOURCES:
        raise StudyError(f"anatomy:{split}", f"no such split (choose from {', '.join(ANATOMY_SOURCES)})")
    source = ANATOMY_SOURCES[split]
    vol, vox = load_volume(source)
    per_axis = []
    for axis in range(3):
        step = max(1, int(round(SLICE_STEP_MM / vox[axis])))
        refs = []
        for i in range(0, vol.shape[axis], step):
            mm = i * vox[axis]
            if source == "colin27" and axis == 2:
                lo, hi = ANATOMY_VAL_SLAB_MM
                in_slab = lo <= mm <= hi
                near = lo - ANATOMY_GUARD_MM < mm < hi + ANATOMY_GUARD_MM
                if (split == "val") != in_slab or (split == "train" and near):
                    continue
            elif split == "val":
                continue  # validation: the axial slab only
            sec = _section(vol, axis, i)
            if (sec > 0.1).mean() >= MIN_BODY:
                refs.append(SliceRef(source, axis, i, mm))
        per_axis.append(refs)
    out = []
    for k in range(max(len(r) for r in per_axis)):
        out += [r[k] for r in per_axis if k < len(r)]
    return tuple(out)


def fine_slice(ref: SliceRef, fine: int = 256) -> np.ndarray:
    """The section resampled to ``fine × fine`` pixels over the source's field of view (centred, zero-padded)."""
    from scipy.ndimage import gaussian_filter, zoom

    vol, vox = load_volume(ref.source)
    sec = _section(vol, ref.axis, ref.index).astype(np.float64)
    pix = [v for a, v in enumerate(vox) if a != ref.axis][::-1]  # (rows, cols) mm
    target = FOV_MM[ref.source] / fine
    factors = [p / target for p in pix]
    sigma = [max(0.0, 0.5 * (1 / f - 1)) if f < 1 else 0.0 for f in factors]  # anti-alias before shrinking
    img = zoom(gaussian_filter(sec, sigma) if any(sigma) else sec, factors, order=3)
    out = np.zeros((fine, fine))
    h, w = min(fine, img.shape[0]), min(fine, img.shape[1])
    r0, c0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    R0, C0 = (fine - h) // 2, (fine - w) // 2
    out[R0:R0 + h, C0:C0 + w] = img[r0:r0 + h, c0:c0 + w]
    return np.clip(out, 0, None)


def anatomy_cine(split: str, k: int, cfg: AnatomyCineConfig | None = None, seed: int | None = None,
                 blur: float = 0.0) -> CineStudy:
    """Cine ``k`` of ``split`` (slice ``k`` cycled over the split's slices; seed from ``ANATOMY_SEEDS``).

    ``blur``: Gaussian σ in acquired pixels applied to the source slice on the fine grid first — a
    training augmentation toward smoother anatomy than Colin 27's (the ground truth is blurred too)."""
    if blur < 0:
        raise StudyError(f"anatomy:{split}:{k}", f"blur must be ≥ 0, got {blur}")
    refs = slice_refs(split)
    if not refs:
        raise StudyError(f"anatomy:{split}", "the split holds no slices")
    ref = refs[k % len(refs)]
    seeds = ANATOMY_SEEDS[split]
    seed = seeds[k % len(seeds)] if seed is None else seed
    cfg = cfg or AnatomyCineConfig(pixel_mm=FOV_MM[ref.source] / 128)
    fine = fine_slice(ref, 2 * cfg.size)
    if blur > 0:
        from scipy.ndimage import gaussian_filter

        fine = gaussian_filter(fine, 2 * blur)  # the fine grid has twice the acquired pixels
    study = make_anatomy_cine(fine, seed, cfg, name=f"{ref.label} (seed {seed})" + (f", blur {blur:.2g} px" if blur else ""),
                              source=f"anatomy:{split}:{k}")
    study.meta.update(split=split, slice=ref.label, source_file=_file(ref.source).name)
    return study


def test_set(n: int = 24, cfg: AnatomyCineConfig | None = None) -> list[CineStudy]:
    """The fixed real-anatomy test set: the first ``n`` test cines (128², 20 frames, 8 coils by default)."""
    return [anatomy_cine("test", k, cfg) for k in range(n)]


# -- thin-slice volumes for slice interpolation ------------------------------------------------------------------
THIN_MM = 1.0  # the thin grid: the 0.5 mm volumes averaged 2×2×2


@lru_cache(maxsize=2)
def thin_volume(source: str) -> np.ndarray:
    """``float32 (X, Y, Z)`` at ``THIN_MM`` isotropic: 2×2×2 means of the source volume (scaled to [0, 1])."""
    vol, vox = load_volume(source)
    f = [max(1, int(round(THIN_MM / v))) for v in vox]
    x, y, z = (s // k for s, k in zip(vol.shape, f))
    v = vol[:x * f[0], :y * f[1], :z * f[2]].reshape(x, f[0], y, f[1], z, f[2])
    return v.mean(axis=(1, 3, 5), dtype=np.float64).astype(np.float32)


def oriented_sections(vol: np.ndarray, axis: int) -> np.ndarray:
    """``(S, H, W)`` sections of ``vol (X, Y, Z)`` normal to ``axis``, rows from the far end (as :func:`fine_slice`)."""
    return np.ascontiguousarray(np.moveaxis(vol, axis, 0).transpose(0, 2, 1)[:, ::-1])


def test_volumes() -> list:
    """The real-anatomy test volumes of slice interpolation: INIA19 at 1 mm, slices normal to each of the
    three axes (one subject, three orientations), ``(Z, Y, X)``, modality MR."""
    from ..core.study import VolumeStudy

    vol = thin_volume(ANATOMY_SOURCES["test"])
    out = []
    for axis in range(3):
        out.append(VolumeStudy(oriented_sections(vol, axis), spacing=(THIN_MM,) * 3, modality="MR",
                               name=f"inia19 {AXES[axis]} 1 mm", source=f"anatomy:test-volume:{axis}",
                               format="nifti", meta={"split": "test", "source_file": _file("inia19").name}))
    return out
