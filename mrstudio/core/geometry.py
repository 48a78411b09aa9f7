"""Patient geometry of a stack of parallel images: what puts each pixel on the patient.

The DICOM model (PS3.3 C.7.6.2.1.1): pixel ``(row i, column j)`` of slice ``k`` lies at

    P = positions[k] + j · dx · row_cosines + i · dy · column_cosines      (mm, patient LPS)

with ``row_cosines`` the direction of increasing column index (ImageOrientationPatient
[0:3]), ``column_cosines`` that of increasing row index ([3:6]) and ``(dy, dx)`` the
PixelSpacing (row spacing, column spacing). The slice normal is ``row × column``. The
positions need not lie on the normal (a CT gantry tilt shears the stack); slices are
ordered by their projection on the normal.

A :class:`Geometry` travels with every study and result and every exporter writes it. Its
``frame_of_reference`` is the source's FrameOfReferenceUID; ``None`` means the geometry
was made up here (the phantom), so an export gets a new frame of reference.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import StudyError

ORTHO_TOL = 1e-3  # |r·c| and ||r|, |c| − 1| allowed by rounded DICOM decimal strings
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True, eq=False)
class Geometry:
    """Orientation, per-slice positions, pixel spacing, thickness and frame of reference.

    Attributes
    ----------
    orientation : float64 (6,)
        Row then column direction cosines (ImageOrientationPatient), unit, orthogonal.
    positions : float64 (N, 3)
        ImagePositionPatient of the first pixel of each slice (mm), in stack order:
        one row for a cine (its slice), ``Z`` rows for a volume.
    pixel_spacing : (dy, dx)
        PixelSpacing (mm): between rows, between columns.
    slice_thickness : float or None
        SliceThickness (mm) of the source, when known.
    frame_of_reference : str or None
        FrameOfReferenceUID of the source; ``None`` when this geometry was made up.
    """

    orientation: np.ndarray
    positions: np.ndarray
    pixel_spacing: tuple[float, float]
    slice_thickness: float | None = None
    frame_of_reference: str | None = None

    def __post_init__(self) -> None:
        o = np.asarray(self.orientation, np.float64).reshape(-1)
        p = np.asarray(self.positions, np.float64)
        if p.ndim == 1:
            p = p[None]
        if o.shape != (6,) or not np.isfinite(o).all():
            raise StudyError("geometry", f"orientation must be 6 finite direction cosines, got {_fmt(o)}")
        r, c = o[:3], o[3:]
        if abs(np.linalg.norm(r) - 1) > ORTHO_TOL or abs(np.linalg.norm(c) - 1) > ORTHO_TOL or abs(r @ c) > ORTHO_TOL:
            raise StudyError("geometry", f"ImageOrientationPatient {_fmt(o)} is not two orthogonal unit vectors")
        if p.ndim != 2 or p.shape[1] != 3 or len(p) == 0 or not np.isfinite(p).all():
            raise StudyError("geometry", f"positions must be finite (N, 3) mm, got shape {p.shape}")
        ps = tuple(float(v) for v in self.pixel_spacing)
        if len(ps) != 2 or not all(np.isfinite(ps)) or min(ps) <= 0:
            raise StudyError("geometry", f"pixel spacing must be two positive numbers in mm, got {self.pixel_spacing}")
        th = self.slice_thickness
        if th is not None and (not np.isfinite(th) or th <= 0):
            th = None
        object.__setattr__(self, "orientation", o)
        object.__setattr__(self, "positions", p)
        object.__setattr__(self, "pixel_spacing", ps)
        object.__setattr__(self, "slice_thickness", None if th is None else float(th))

    # --- construction -------------------------------------------------------------------
    @classmethod
    def axial(cls, shape: tuple[int, int], pixel_spacing: tuple[float, float], z_mm=(0.0,),
              slice_thickness: float | None = None) -> Geometry:
        """A made-up axial stack centred on the origin (no frame of reference): for synthetic data."""
        ny, nx = shape
        dy, dx = pixel_spacing
        z = np.atleast_1d(np.asarray(z_mm, np.float64))
        pos = np.stack([np.full(len(z), -dx * (nx - 1) / 2), np.full(len(z), -dy * (ny - 1) / 2), z], axis=1)
        return cls(np.array(AXIAL), pos, (dy, dx), slice_thickness, None)

    # --- directions ------------------------------------------------------------------------
    @property
    def row(self) -> np.ndarray:
        """Direction of increasing column index (unit)."""
        return self.orientation[:3] / np.linalg.norm(self.orientation[:3])

    @property
    def column(self) -> np.ndarray:
        """Direction of increasing row index (unit)."""
        return self.orientation[3:] / np.linalg.norm(self.orientation[3:])

    @property
    def normal(self) -> np.ndarray:
        """Slice normal ``row × column`` (unit)."""
        return normal_of(self.orientation)

    @property
    def along(self) -> np.ndarray:
        """float64 (N,): each slice's position projected on the normal (mm)."""
        return self.positions @ self.normal

    @property
    def slice_spacing(self) -> float | None:
        """Median distance between neighbouring slices along the normal (mm); ``None`` for one slice."""
        if len(self.positions) < 2:
            return None
        return float(np.median(np.abs(np.diff(self.along))))

    @property
    def is_new(self) -> bool:
        """True when the geometry was made up (no source frame of reference)."""
        return self.frame_of_reference is None

    # --- mapping -------------------------------------------------------------------------------
    def to_patient(self, k, i, j) -> np.ndarray:
        """Patient coordinates (mm, ``(..., 3)``) of slice ``k``, row ``i``, column ``j`` (fractions allowed)."""
        k, i, j = (np.asarray(v, np.float64) for v in (k, i, j))
        k0 = np.clip(np.floor(k).astype(int), 0, max(len(self.positions) - 2, 0))
        f = (k - k0)[..., None]
        base = self.positions[k0]
        if len(self.positions) > 1:
            base = base * (1 - f) + self.positions[np.minimum(k0 + 1, len(self.positions) - 1)] * f
        dy, dx = self.pixel_spacing
        return base + (j * dx)[..., None] * self.row + (i * dy)[..., None] * self.column

    # --- transforms ----------------------------------------------------------------------------
    def take(self, index) -> Geometry:
        """The geometry of the slices ``index`` (an int, slice or index array)."""
        return replace(self, positions=np.atleast_2d(self.positions[index]))

    def insert(self, alphas: np.ndarray) -> Geometry:
        """Positions with ``K`` slices inserted in each of the ``N − 1`` gaps at fractions ``alphas (N−1, K)``.

        Each new slice lies on the segment between its neighbours (so on the normal for an
        ordinary stack, on the sheared stack axis for a tilted one). Orientation, spacing,
        thickness and frame of reference are kept: the result lives in the source's patient space.
        """
        p = self.positions
        a = np.asarray(alphas, np.float64)
        if a.ndim != 2 or len(a) != len(p) - 1:
            raise StudyError("geometry", f"alphas must be ({len(p) - 1}, K), got shape {a.shape}")
        k = a.shape[1]
        out = np.empty(((len(p) - 1) * (k + 1) + 1, 3))
        out[:: k + 1] = p
        for g in range(len(p) - 1):
            out[g * (k + 1) + 1:(g + 1) * (k + 1)] = p[g] + a[g][:, None] * (p[g + 1] - p[g])
        return replace(self, positions=out)

    def to_dict(self) -> dict:
        """Full-precision JSON form (the native formats store it); :meth:`from_dict` reads it back."""
        return {"orientation": self.orientation.tolist(), "positions": self.positions.tolist(),
                "pixel_spacing": list(self.pixel_spacing), "slice_thickness": self.slice_thickness,
                "frame_of_reference": self.frame_of_reference}

    @classmethod
    def from_dict(cls, d: dict) -> Geometry:
        """The inverse of :meth:`to_dict`."""
        return cls(np.asarray(d["orientation"]), np.asarray(d["positions"]), tuple(d["pixel_spacing"]),
                   d.get("slice_thickness"), d.get("frame_of_reference"))

    def describe(self) -> dict:
        """JSON-able summary for ``info``."""
        d = {"orientation": [round(float(v), 6) for v in self.orientation],
             "plane": plane_name(self.orientation),
             "first_position_mm": [round(float(v), 4) for v in self.positions[0]],
             "pixel_spacing_mm": list(self.pixel_spacing)}
        if len(self.positions) > 1:
            d["last_position_mm"] = [round(float(v), 4) for v in self.positions[-1]]
            d["slice_spacing_mm"] = round(self.slice_spacing or 0.0, 6)
            d["tilt_deg"] = round(self.tilt_degrees, 3)
        if self.slice_thickness is not None:
            d["slice_thickness_mm"] = self.slice_thickness
        d["frame_of_reference"] = self.frame_of_reference or "(made up: a new one on export)"
        return d

    @property
    def tilt_degrees(self) -> float:
        """Angle between the stack axis and the slice normal (a CT gantry tilt), degrees."""
        if len(self.positions) < 2:
            return 0.0
        d = self.positions[-1] - self.positions[0]
        if np.linalg.norm(d) == 0:
            return 0.0
        return float(np.degrees(np.arccos(min(1.0, abs(d @ self.normal) / np.linalg.norm(d)))))


def plane_name(orientation) -> str:
    """``axial``, ``coronal``, ``sagittal`` or ``oblique`` from the slice normal's main axis (within 10°)."""
    try:
        n = normal_of(orientation)
    except StudyError:
        return "degenerate"
    axis = int(np.argmax(np.abs(n)))
    if abs(n[axis]) < np.cos(np.radians(10)):
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def normal_of(orientation) -> np.ndarray:
    """Unit slice normal of an ImageOrientationPatient (raises on a degenerate one)."""
    o = np.asarray(orientation, np.float64)
    n = np.cross(o[:3], o[3:])
    if np.linalg.norm(n) < 1e-6:
        raise StudyError("geometry", f"ImageOrientationPatient {_fmt(o)} is degenerate")
    return n / np.linalg.norm(n)


def _fmt(values) -> str:
    """Direction cosines as DICOM writes them (``1\\0\\0…``), for messages."""
    return "\\".join(f"{float(v):.6g}" for v in np.asarray(values).reshape(-1))
