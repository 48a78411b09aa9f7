"""Study dataclasses: a multi-coil cine and a volume (CT, MR or any modality), validated on construction.

Array conventions (see docs/architecture.md):

* cine k-space ``complex64 (C, T, Ny, Nx)`` — coils, frames, phase encodes, readout;
* sampling mask ``bool (T, Ny)``; images ``complex64 (T, Ny, Nx)``;
* coil maps ``complex64 (C, Ny, Nx)``;
* volume ``float32 (Z, Y, X)`` (Hounsfield units for CT), spacing ``(dz, dy, dx)`` in mm.

Both carry their patient geometry (:class:`~mrstudio.core.geometry.Geometry`) when the
source had one: a cine the geometry of its slice, a volume that of every slice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import StudyError
from .geometry import Geometry

REFERENCE_KINDS = ("ground-truth", "fully-sampled", "cs")


def _check_array(source: str, name: str, arr: Any, ndim: int, kind: str) -> np.ndarray:
    if not isinstance(arr, np.ndarray):
        raise StudyError(source, f"{name} must be a numpy array, got {type(arr).__name__}")
    if arr.ndim != ndim:
        raise StudyError(source, f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if any(s == 0 for s in arr.shape):
        raise StudyError(source, f"{name} is empty (shape {arr.shape})")
    if kind == "complex" and not np.iscomplexobj(arr):
        raise StudyError(source, f"{name} must be complex, got dtype {arr.dtype}")
    if kind == "real" and not np.issubdtype(arr.dtype, np.floating):
        raise StudyError(source, f"{name} must be floating point, got dtype {arr.dtype}")
    if kind != "bool" and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise StudyError(source, f"{name} contains {bad} non-finite values (NaN or Inf)")
    return arr


@dataclass
class CineStudy:
    """A multi-coil cardiac cine.

    Attributes
    ----------
    kspace : complex64 (C, T, Ny, Nx)
        Acquired k-space; zero where not sampled when ``mask`` is given.
    mask : bool (T, Ny) or None
        Sampling pattern of the acquisition; ``None`` means fully sampled.
    reference : complex64 (T, Ny, Nx) or None
        Reference image (noiseless ground truth for the phantom).
    reference_kind : str or None
        ``"ground-truth"``, ``"fully-sampled"`` or ``"cs"``.
    maps : complex64 (C, Ny, Nx) or None
        Coil sensitivities when known (the phantom's true maps).
    fov_mm : (float, float)
        Field of view along (y, x) in millimetres.
    geometry : Geometry or None
        Patient geometry of the cine's slice (one position), when the source had one.
    """

    kspace: np.ndarray
    mask: np.ndarray | None = None
    reference: np.ndarray | None = None
    reference_kind: str | None = None
    maps: np.ndarray | None = None
    name: str = "study"
    fov_mm: tuple[float, float] = (320.0, 320.0)
    source: str = "<memory>"
    format: str = "memory"
    meta: dict[str, Any] = field(default_factory=dict)
    geometry: Geometry | None = None

    def __post_init__(self) -> None:
        src = self.source
        self.kspace = _check_array(src, "k-space", self.kspace, 4, "complex").astype(np.complex64, copy=False)
        c, t, ny, nx = self.kspace.shape
        if self.mask is not None:
            self.mask = _check_array(src, "mask", np.asarray(self.mask), 2, "bool")
            if self.mask.shape != (t, ny):
                raise StudyError(src, f"mask shape {self.mask.shape} does not match (T, Ny) = {(t, ny)}")
            self.mask = self.mask.astype(bool, copy=False)
            if not self.mask.any():
                raise StudyError(src, "mask samples nothing")
        if self.reference is not None:
            ref = _check_array(src, "reference", self.reference, 3, "any")
            if ref.shape != (t, ny, nx):
                raise StudyError(src, f"reference shape {ref.shape} does not match (T, Ny, Nx) = {(t, ny, nx)}")
            self.reference = ref.astype(np.complex64, copy=False)
            if self.reference_kind not in REFERENCE_KINDS:
                raise StudyError(src, f"reference kind {self.reference_kind!r} not in {REFERENCE_KINDS}")
        if self.maps is not None:
            maps = _check_array(src, "coil maps", self.maps, 3, "complex")
            if maps.shape != (c, ny, nx):
                raise StudyError(src, f"coil maps shape {maps.shape} does not match (C, Ny, Nx) = {(c, ny, nx)}")
            self.maps = maps.astype(np.complex64, copy=False)
        if len(self.fov_mm) != 2 or not all(np.isfinite(self.fov_mm)) or min(self.fov_mm) <= 0:
            raise StudyError(src, f"field of view must be two positive numbers in mm, got {self.fov_mm}")
        self.fov_mm = (float(self.fov_mm[0]), float(self.fov_mm[1]))
        if self.geometry is not None:
            if len(self.geometry.positions) != 1:
                raise StudyError(src, f"a cine's geometry has one slice position, got {len(self.geometry.positions)}")
            want = (self.fov_mm[0] / ny, self.fov_mm[1] / nx)
            if not np.allclose(self.geometry.pixel_spacing, want, rtol=1e-6):
                raise StudyError(src, f"geometry pixel spacing {self.geometry.pixel_spacing} does not match the "
                                      f"field of view ({want[0]:.6g}, {want[1]:.6g}) mm")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, T, Ny, Nx)``."""
        return tuple(self.kspace.shape)  # type: ignore[return-value]

    @property
    def coils(self) -> int:
        return self.kspace.shape[0]

    @property
    def frames(self) -> int:
        return self.kspace.shape[1]

    @property
    def matrix(self) -> tuple[int, int]:
        """``(Ny, Nx)``."""
        return self.kspace.shape[2], self.kspace.shape[3]

    @property
    def fully_sampled(self) -> bool:
        return self.mask is None or bool(self.mask.all())

    @property
    def sampled_fraction(self) -> float:
        return 1.0 if self.mask is None else float(self.mask.mean())


@dataclass
class VolumeStudy:
    """A volume of parallel slices at one time point: CT, MR or any modality.

    Attributes
    ----------
    volume : float32 (Z, Y, X)
        Slices sorted along the slice normal; Hounsfield units for CT, the stored
        (rescaled) values otherwise.
    spacing : (dz, dy, dx)
        Voxel spacing in mm; ``dz`` from slice positions, not SliceThickness.
    geometry : Geometry or None
        Patient geometry with one position per slice, when known.
    modality : str
        DICOM Modality (``"CT"``, ``"MR"``, …): chooses the intensity normalisation.
    """

    volume: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    geometry: Geometry | None = None
    modality: str = "CT"
    name: str = "volume"
    source: str = "<memory>"
    format: str = "memory"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        src = self.source
        self.volume = _check_array(src, "volume", self.volume, 3, "real").astype(np.float32, copy=False)
        if len(self.spacing) != 3 or not all(np.isfinite(self.spacing)) or min(self.spacing) <= 0:
            raise StudyError(src, f"spacing must be three positive numbers in mm, got {self.spacing}")
        self.spacing = tuple(float(s) for s in self.spacing)  # type: ignore[assignment]
        if self.geometry is not None:
            z = self.volume.shape[0]
            if self.geometry.positions.shape != (z, 3):
                raise StudyError(src, f"positions shape {self.geometry.positions.shape} does not match (Z, 3) = "
                                      f"{(z, 3)}")
            if not np.allclose(self.geometry.pixel_spacing, self.spacing[1:], rtol=1e-6):
                raise StudyError(src, f"geometry pixel spacing {self.geometry.pixel_spacing} does not match the "
                                      f"spacing {self.spacing[1:]}")
            if z > 1 and (np.diff(self.geometry.along) <= 0).any():
                raise StudyError(src, "slices are not sorted by increasing position along the slice normal")
        self.modality = str(self.modality or "OT").upper()

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.volume.shape)  # type: ignore[return-value]

    @property
    def positions(self) -> np.ndarray | None:
        """ImagePositionPatient of each slice, float64 (Z, 3) mm, or ``None``."""
        return None if self.geometry is None else self.geometry.positions

    @property
    def is_ct(self) -> bool:
        return self.modality == "CT"
