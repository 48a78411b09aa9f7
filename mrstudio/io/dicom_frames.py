"""One record per 2-D image of a DICOM series, from classic or Enhanced (multi-frame) files.

A classic image file (MR A.4, CT A.3) is one :class:`Frame`; an Enhanced MR/CT file
(A.36, A.38) is one per frame, with its geometry, timing, echo and rescale taken from the
per-frame functional groups, falling back to the shared ones (PS3.3 C.7.6.16). Everything
downstream (series sanity, classification, geometry) works on frames alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError

LOCALIZER_TYPES = ("LOCALIZER", "SCOUT")


@dataclass
class Frame:
    """The header facts of one image. Optional facts are ``None`` when the file lacks them."""

    path: Path
    ds: Any                      # the header data set (no pixel data)
    index: int | None            # frame number in a multi-frame file (0-based), None for classic
    rows: int
    columns: int
    orientation: np.ndarray | None   # (6,) ImageOrientationPatient
    position: np.ndarray | None      # (3,) ImagePositionPatient
    pixel_spacing: tuple[float, float] | None
    thickness: float | None
    trigger_ms: float | None         # TriggerTime / NominalCardiacTriggerDelayTime
    temporal_index: float | None     # TemporalPositionIdentifier / TemporalPositionIndex
    instance: int | None
    echo: str | None                 # EchoNumbers, else EchoTime, as a label
    image_type: tuple[str, ...]
    sop_uid: str
    slope: float | None = None
    intercept: float | None = None

    @property
    def is_localizer(self) -> bool:
        return any(t in LOCALIZER_TYPES for t in self.image_type)

    @property
    def name(self) -> str:
        return self.path.name if self.index is None else f"{self.path.name}[frame {self.index + 1}]"


def _float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _vec(v: Any, n: int) -> np.ndarray | None:
    if v is None:
        return None
    try:
        a = np.asarray([float(x) for x in v], np.float64)
    except (TypeError, ValueError):
        return None
    return a if a.shape == (n,) and np.isfinite(a).all() else None


def _spacing(v: Any) -> tuple[float, float] | None:
    a = _vec(v, 2)
    return None if a is None or (a <= 0).any() else (float(a[0]), float(a[1]))


def _echo(number: Any, time: Any) -> str | None:
    if number not in (None, ""):
        vals = [number] if isinstance(number, (str, int, float)) else list(number)
        try:
            return "echo " + ",".join(str(int(float(v))) for v in vals)
        except (TypeError, ValueError):
            pass
    t = _float(time)
    return None if t is None else f"TE {t:g} ms"


def _image_type(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    vals = [v] if isinstance(v, str) else list(v)
    return tuple(str(x).strip().upper() for x in vals)


def _count(path: Path, ds: Any, default: int = 1) -> int:
    v = ds.get("NumberOfFrames", default)
    try:
        n = int(v) if v not in (None, "") else default
    except (TypeError, ValueError):
        raise StudyError(path, f"NumberOfFrames {v!r} is not a number") from None
    if n < 1:
        raise StudyError(path, f"NumberOfFrames {n} is not positive")
    return n


def frames_of(path: Path, ds: Any) -> list[Frame]:
    """The frames of one file's header (raises :class:`StudyError` on inconsistent functional groups)."""
    frames = _enhanced(path, ds) if "PerFrameFunctionalGroupsSequence" in ds else _classic(path, ds)
    for f in frames:
        if f.orientation is not None and np.linalg.norm(np.cross(f.orientation[:3], f.orientation[3:])) < 1e-3:
            raise StudyError(path, "ImageOrientationPatient " + "\\".join(f"{v:g}" for v in f.orientation) +
                             " is degenerate (row and column directions are parallel)")
    return frames


def _classic(path: Path, ds: Any) -> list[Frame]:
    if "Rows" not in ds or "Columns" not in ds:
        raise StudyError(path, "an image file without Rows/Columns (truncated?)")
    n = _count(path, ds)
    if n > 1:
        raise StudyError(path, f"a {n}-frame {ds.get('Modality', '')} file without per-frame functional groups: "
                               "its frames have no geometry this version can trust")
    return [Frame(path=path, ds=ds, index=None, rows=int(ds.Rows), columns=int(ds.Columns),
                  orientation=_vec(ds.get("ImageOrientationPatient"), 6),
                  position=_vec(ds.get("ImagePositionPatient"), 3),
                  pixel_spacing=_spacing(ds.get("PixelSpacing")), thickness=_float(ds.get("SliceThickness")),
                  trigger_ms=_float(ds.get("TriggerTime")),
                  temporal_index=_float(ds.get("TemporalPositionIdentifier")),
                  instance=int(_float(ds.get("InstanceNumber")) or 0) if _float(ds.get("InstanceNumber")) is not None
                  else None,
                  echo=_echo(ds.get("EchoNumbers"), ds.get("EchoTime")), image_type=_image_type(ds.get("ImageType")),
                  sop_uid=str(ds.get("SOPInstanceUID", "")), slope=_float(ds.get("RescaleSlope")),
                  intercept=_float(ds.get("RescaleIntercept")))]


def _enhanced(path: Path, ds: Any) -> list[Frame]:
    per = ds.get("PerFrameFunctionalGroupsSequence")
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_seq[0] if shared_seq else None
    n = _count(path, ds, len(per))
    if len(per) != n:
        raise StudyError(path, f"PerFrameFunctionalGroupsSequence has {len(per)} items for {n} frames")

    def group(item, name):
        for where in (item, shared):
            if where is not None and name in where and len(where.get(name)):
                return where.get(name)[0]
        return None

    def get(item, seq, key):
        g = group(item, seq)
        return None if g is None else g.get(key)

    frames = []
    itype = _image_type(ds.get("ImageType"))
    for i, item in enumerate(per):
        ftype = get(item, "MRImageFrameTypeSequence", "FrameType") or get(item, "CTImageFrameTypeSequence", "FrameType")
        frames.append(Frame(
            path=path, ds=ds, index=i, rows=int(ds.Rows), columns=int(ds.Columns),
            orientation=_vec(get(item, "PlaneOrientationSequence", "ImageOrientationPatient"), 6),
            position=_vec(get(item, "PlanePositionSequence", "ImagePositionPatient"), 3),
            pixel_spacing=_spacing(get(item, "PixelMeasuresSequence", "PixelSpacing")),
            thickness=_float(get(item, "PixelMeasuresSequence", "SliceThickness")),
            trigger_ms=_float(get(item, "CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime")),
            temporal_index=_float(get(item, "FrameContentSequence", "TemporalPositionIndex")),
            instance=i + 1,
            echo=_echo(None, get(item, "MREchoSequence", "EffectiveEchoTime")),
            image_type=_image_type(ftype) or itype, sop_uid=f"{ds.get('SOPInstanceUID', '')}#{i + 1}",
            slope=_float(get(item, "PixelValueTransformationSequence", "RescaleSlope")),
            intercept=_float(get(item, "PixelValueTransformationSequence", "RescaleIntercept"))))
    return frames
