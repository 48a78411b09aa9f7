"""A DICOM stack → :class:`CineStudy` (magnitude cine) or :class:`VolumeStudy` (CT or MR volume).

Input: a folder (searched recursively), one file (its series, from its own folder), a list
of files, or a DICOMDIR (:mod:`.dicom_files`); files are split into stacks with the
series sanity checks of :mod:`.dicom_series`. Classic (MR A.4, CT A.3) and Enhanced
(MR A.36, CT A.38) images are read alike, frame by frame (:mod:`.dicom_frames`).

* **Volume** (several positions, one image each): slices sorted by ImagePositionPatient
  projected on the slice normal, RescaleSlope/Intercept applied (HU for CT), ``dz`` from
  the positions (not SliceThickness); gaps, uneven spacing and varying thickness are noted.
* **Cine** (one position, several times; or a multi-slice cine, one slice chosen): frames
  ordered by the first complete timing key among TriggerTime, TemporalPositionIdentifier
  (Enhanced: NominalCardiacTriggerDelayTime, TemporalPositionIndex) and InstanceNumber,
  with a note whenever a key is missing or partial. The magnitude images become a
  single-coil, fully-sampled study (k-space = centred FFT of the image) whose reference is
  the image itself, so retrospective undersampling can be simulated.

Both keep the patient geometry (:class:`~mrstudio.core.geometry.Geometry`): orientation,
per-slice positions, pixel spacing, thickness and FrameOfReferenceUID. Compressed
transfer syntaxes decode through GDCM (python-gdcm) or pydicom's own decoders; a missing
decoder is named in the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.geometry import Geometry
from ..core.study import CineStudy, VolumeStudy
from .describe import PHI_KEYS
from .dicom_files import looks_like_dicom, pydicom_notes, read_full
from .dicom_frames import Frame
from .dicom_series import MODALITIES, Scan, Stack, scan

__all__ = ["looks_like_dicom", "list_series", "read_dicom", "scan"]

_KEEP = ("Modality", "SeriesDescription", "StudyDescription", "SeriesInstanceUID", "FrameOfReferenceUID",
         "Manufacturer", "MagneticFieldStrength", "SeriesNumber", "PatientPosition", "PatientSex", "StudyTime",
         "BodyPartExamined") + PHI_KEYS


def list_series(source: str | Path | list | Scan) -> list[dict[str, Any]]:
    """One dict per openable stack: index, uid, number, modality, kind, shape, plane, description, files, notes."""
    sc = source if isinstance(source, Scan) else scan(source)
    rows = [s.summary(i) for i, s in enumerate(sc.stacks)]
    for r in rows:  # what was noticed while reading the input applies to every stack
        if sc.notes:
            r["notes"] = list(sc.notes) + r.get("notes", [])
    return rows


def read_dicom(source: str | Path | list | Scan, series: int | str | None = None,
               slice: int | None = None) -> CineStudy | VolumeStudy:  # noqa: A002
    """Read one DICOM stack as a cine or a volume (see the module docstring); ``source`` may be a :func:`scan`."""
    sc = source if isinstance(source, Scan) else scan(source)
    stack = sc.choose(series)
    label = sc.inputs.label
    modality = stack.modality
    if modality not in MODALITIES:
        raise StudyError(label, f"series modality {modality or '?'} is neither MR nor CT")
    notes = list(sc.notes) + list(stack.notes)
    try:
        if stack.kind() == "volume":
            return _read_volume(label, stack, notes)
        return _read_cine(label, stack, slice, notes)
    except StudyError:
        raise
    except Exception as exc:  # a header pydicom parsed but that does not hold what an image needs
        raise StudyError(label, f"malformed DICOM image attributes ({type(exc).__name__}: {exc})") from None


def _meta(ds: Any, stack: Stack, notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in _KEEP:
        if k in ds and ds.get(k) not in (None, ""):
            v = ds.get(k)
            out[k] = v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    if stack.label:
        out["stack"] = stack.label
    if notes:
        out["warnings"] = list(dict.fromkeys(notes))
    return out


class _Decoder:
    """Pixels of frames as float32 with the rescale applied; a multi-frame file is decoded once."""

    def __init__(self, notes: list[str]):
        self.notes = notes
        self._cache: dict[Path, np.ndarray] = {}

    def stack(self, frames: list[Frame]) -> np.ndarray:
        """float32 ``(N, rows, columns)`` of ``frames`` in their order, each file decoded once."""
        out = np.empty((len(frames), frames[0].rows, frames[0].columns), np.float32)
        for i in sorted(range(len(frames)), key=lambda i: (str(frames[i].path), frames[i].index or 0)):
            out[i] = self(frames[i])
        return out

    def __call__(self, frame: Frame) -> np.ndarray:
        arr = self._cache.get(frame.path)
        if arr is None:
            arr = self._decode(frame)
            if frame.index is not None:
                self._cache = {frame.path: arr}  # keep only the current multi-frame file
        img = arr if frame.index is None else (arr[frame.index] if arr.ndim == 3 else arr)
        if img.ndim != 2:
            raise StudyError(frame.path, f"pixel data have shape {img.shape}; expected grey-level images")
        img = img.astype(np.float32)
        if frame.slope is not None or frame.intercept is not None:  # CT always; MR when the writer scaled
            img = img * np.float32(frame.slope if frame.slope is not None else 1.0) + \
                np.float32(frame.intercept or 0.0)
        if not np.isfinite(img).all():
            raise StudyError(frame.path, "pixel data hold NaN or Inf")
        return img

    def _decode(self, frame: Frame) -> np.ndarray:
        from .dicom_codecs import register

        register()
        path, ds = frame.path, frame.ds
        try:
            full = read_full(path, self.notes)
            with pydicom_notes(self.notes):
                return np.asarray(full.pixel_array)
        except Exception as exc:
            ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
            name = getattr(ts, "name", str(ts))
            if ts is not None and getattr(ts, "is_compressed", False):
                if not _decoder_available(ts):
                    raise StudyError(path, f"pixel data in transfer syntax {name} cannot be decoded: no installed "
                                           "handler (install python-gdcm, or pylibjpeg with its plugins)") from None
                raise StudyError(path, f"compressed pixel data ({name}) failed to decode "
                                       f"({type(exc).__name__}: {exc})") from None
            raise StudyError(path, f"pixel data unreadable ({type(exc).__name__}: {exc})") from None


def _decoder_available(ts: Any) -> bool:
    try:
        from pydicom.pixels import get_decoder

        return bool(get_decoder(ts).is_available)
    except Exception:  # unknown transfer syntax or an older pydicom
        return False


def _common(label: Path, frames: list[Frame], notes: list[str]) -> tuple[tuple[int, int], tuple[float, float] | None,
                                                                        float | None]:
    """(rows, columns), pixel spacing and median thickness shared by ``frames``; refuses mixed sizes or spacings."""
    shape = (frames[0].rows, frames[0].columns)
    for f in frames:
        if (f.rows, f.columns) != shape:
            raise StudyError(f.path, f"image size {f.rows}×{f.columns} differs from the series' {shape[0]}×{shape[1]}")
    sp = [f.pixel_spacing for f in frames]
    spacing = sp[0]
    if any((s is None) != (spacing is None) or (s is not None and not np.allclose(s, spacing, rtol=1e-4))
           for s in sp):
        bad = next(f for f, s in zip(frames, sp) if s != spacing)
        raise StudyError(bad.path, f"PixelSpacing {bad.pixel_spacing} differs from the series' {spacing}")
    th = [f.thickness for f in frames if f.thickness is not None]
    thick = float(np.median(th)) if th else None
    if th and (max(th) - min(th)) > 1e-3 * max(th):
        notes.append(f"SliceThickness varies within the series: {min(th):g}–{max(th):g} mm (median {thick:g} used)")
    return shape, spacing, thick


def _frame_of_reference(ds: Any) -> str | None:
    v = str(ds.get("FrameOfReferenceUID", "") or "")
    return v or None


def _read_volume(label: Path, stack: Stack, notes: list[str]) -> VolumeStudy:
    groups = stack.slices()
    frames = [stack.frames[g[0]] for g in groups]  # sorted along the normal, one image each
    shape, spacing, thick = _common(label, frames, notes)
    if stack.orientation is None or frames[0].position is None:
        raise StudyError(frames[0].path, "no ImagePositionPatient/ImageOrientationPatient (needed to order slices)")
    if spacing is None:
        notes.append("no PixelSpacing: 1 mm pixels assumed")
        spacing = (1.0, 1.0)
    geometry = Geometry(stack.orientation, np.array([f.position for f in frames]), spacing, thick,
                        _frame_of_reference(stack.first))
    along = geometry.along
    if len(frames) > 1:
        d = np.diff(along)
        dz = float(np.median(d))
        gaps = np.flatnonzero(d > 1.5 * dz)
        if gaps.size:
            notes.append(f"{gaps.size} gap(s) in slice positions, largest {d.max():.2f} mm vs spacing {dz:.2f} mm")
        if d.std() > 0.01 * dz:
            notes.append(f"uneven slice spacing: {d.min():.3f}–{d.max():.3f} mm (median {dz:.3f} mm used)")
        if thick is not None and abs(thick - dz) > 0.05 * dz:
            notes.append(f"SliceThickness {thick:g} mm differs from the position spacing {dz:.3f} mm")
        if geometry.tilt_degrees > 0.05:
            notes.append(f"stack axis {geometry.tilt_degrees:.2f}° off the slice normal (gantry tilt): positions kept")
    else:
        dz = thick or 1.0
    from ..core.memory import check_fits

    check_fits(8.0 * len(frames) * shape[0] * shape[1], f"volume {len(frames)}×{shape[0]}×{shape[1]}", label,
               "open fewer slices (a sub-folder)")
    vol = _Decoder(notes).stack(frames)
    first = stack.first
    return VolumeStudy(volume=vol, spacing=(dz, spacing[0], spacing[1]), geometry=geometry, modality=stack.modality,
                       name=str(first.get("SeriesDescription", "") or label.name), source=str(label), format="dicom",
                       meta=_meta(first, stack, notes))


_KEYS = (("trigger_ms", "TriggerTime"), ("temporal_index", "TemporalPositionIdentifier"),
         ("instance", "InstanceNumber"))


def _order_frames(label: Path, frames: list[Frame], notes: list[str]) -> list[Frame]:
    """Frames of one slice position in time order, by the first complete timing key; notes what was missing.

    A key with repeated values (an ungated real-time series with TriggerTime 0 throughout)
    gives way to the next one, with a note; if every complete key repeats, the frames come
    from several acquisitions and are refused.
    """
    if len(frames) == 1:
        return frames
    n = len(frames)
    partial: list[str] = []
    for attr, name in _KEYS:
        vals = [getattr(f, attr) for f in frames]
        have = sum(v is not None for v in vals)
        if have == n:
            if len(set(vals)) != n:
                partial.append(f"{name} repeated ({len(set(vals))} distinct values for {n} frames)")
                continue
            if partial:
                notes.append(f"{'; '.join(partial)}: frames ordered by {name}")
            elif attr == "instance":
                notes.append("no timing tags (TriggerTime, TemporalPositionIdentifier): frames ordered by InstanceNumber")
            return [f for _, f in sorted(zip(vals, frames), key=lambda kv: kv[0])]
        if have:
            partial.append(f"{name} missing on {n - have} of {n} frames")
    if any("repeated" in p for p in partial):
        raise StudyError(label, f"{'; '.join(partial)} at one slice position: mixed acquisitions in one series")
    raise StudyError(label, "frames at one slice position carry no complete TriggerTime, TemporalPositionIdentifier "
                            "or InstanceNumber: their order is unknown")


def _read_cine(label: Path, stack: Stack, slice_: int | None, notes: list[str]) -> CineStudy:
    groups = stack.slices()
    s = len(groups) // 2 if slice_ is None else slice_
    if not 0 <= s < len(groups):
        raise StudyError(label, f"slice {s} not in the series ({len(groups)} slice positions)")
    frames = _order_frames(label, [stack.frames[i] for i in groups[s]], notes)
    shape, spacing, thick = _common(label, frames, notes)
    if spacing is None:
        notes.append("no PixelSpacing: 1 mm pixels assumed")
        spacing = (1.0, 1.0)
    geometry = None
    if stack.orientation is not None and frames[0].position is not None:
        geometry = Geometry(stack.orientation, frames[0].position, spacing, thick, _frame_of_reference(stack.first))
    else:
        notes.append("no ImagePositionPatient/ImageOrientationPatient: an export gets a made-up geometry and a new "
                     "frame of reference")
    from ..core.memory import check_fits

    check_fits(24.0 * len(frames) * shape[0] * shape[1], f"cine {len(frames)}×{shape[0]}×{shape[1]}", label,
               "open a shorter series")
    image = _Decoder(notes).stack(frames).astype(np.complex64)
    from ..core.fft import fft2c

    t, ny, nx = image.shape
    meta = _meta(stack.first, stack, notes)
    meta.update(slices=len(groups), slice=s, note="magnitude images: single-coil, fully-sampled k-space simulated by FFT")
    if all(f.trigger_ms is not None for f in frames):
        meta["trigger_times_ms"] = [float(f.trigger_ms) for f in frames]
    return CineStudy(kspace=fft2c(image)[None].astype(np.complex64), reference=image, reference_kind="fully-sampled",
                     name=str(stack.first.get("SeriesDescription", "") or label.name), source=str(label),
                     format="dicom", fov_mm=(spacing[0] * ny, spacing[1] * nx), meta=meta, geometry=geometry)
