"""Export a reconstructed cine as an MR Image Storage series, a volume as CT or MR Image Storage.

One file per frame / slice, 16-bit unsigned pixels with RescaleSlope/Intercept so that the
stored values map back to the float image within half a quantisation step. New SOP and
Series Instance UIDs; the Study Instance UID and patient module are kept when the source
was DICOM (``anonymize=True`` replaces the patient and study identifiers).

**Geometry.** Every series is written with the study's :class:`~mrstudio.core.geometry.Geometry`:
ImageOrientationPatient, each slice's ImagePositionPatient, PixelSpacing, SliceThickness
(all at full decimal-string precision) and the source's FrameOfReferenceUID, so that the
result overlays its source in patient space. Only a made-up geometry (the phantom, or a
source without positions) gets an axial default and a *new* FrameOfReferenceUID; an
anonymised export gets one derived from the source's, the same for every export of it.

ImageType ``DERIVED\\SECONDARY``; for cines TemporalPositionIdentifier,
NumberOfTemporalPositions, CardiacNumberOfImages and TriggerTime when the source had
trigger times (empty otherwise: no timing is invented); a DerivationDescription naming
the method, mask, R and model; window centre/width from the data. The series is written
into a temporary folder next to the target and renamed into place, so a failed export
leaves nothing behind. Validated with dciodvfy in the tests.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.geometry import Geometry
from ..core.jobs import CancelToken, Progress, check, report
from ..core.study import CineStudy, VolumeStudy
from .atomic import atomic_folder

MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
_PATIENT = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
_STUDY = ("StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
          "StudyDescription")


def _quantise(vol: np.ndarray) -> tuple[np.ndarray, float, float]:
    """float volume → uint16, slope, intercept with ``vol ≈ stored * slope + intercept``."""
    lo, hi = float(vol.min()), float(vol.max())
    slope = (hi - lo) / 65535.0 if hi > lo else 1.0
    stored = np.clip(np.rint((vol - lo) / slope), 0, 65535).astype(np.uint16)
    return stored, slope, lo


def _derivation(provenance: dict[str, Any] | None) -> str:
    if not provenance:
        return "MR Studio reconstruction"
    p = provenance.get("parameters", {})
    parts = [f"MR Studio {provenance.get('method', '?')}"]
    if "mask" in p:
        parts.append(f"mask {p['mask']}")
    if "accel" in p:
        parts.append(f"R {p['accel']:g}" + (f" (eff. {p['accel_effective']:.2f})" if "accel_effective" in p else ""))
    model = provenance.get("model") or p.get("model")
    if model:
        parts.append(f"model {model}")
    if provenance.get("model_sha256"):
        parts.append(f"sha256 {str(provenance['model_sha256'])[:12]}")
    return ", ".join(parts)[:1024]


def _base_dataset(sop_class: str, modality: str, source: Any, anonymize: bool, series_description: str,
                  frame_of_reference: str):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

    from .. import __version__

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SpecificCharacterSet = "ISO_IR 192"
    now = _dt.datetime.now()
    src = dict(source or {})
    if anonymize:
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Anonymous", "ANON", "", ""
        ds.StudyInstanceUID = generate_uid()
        ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName, ds.StudyID, ds.AccessionNumber = \
            now.strftime("%Y%m%d"), now.strftime("%H%M%S"), "", "", ""
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "MR Studio --anonymize: patient and study identifiers replaced"
    else:
        for k in _PATIENT:
            setattr(ds, k, src.get(k, "Phantom^MRStudio" if k == "PatientName" else ""))
        ds.StudyInstanceUID = src.get("StudyInstanceUID") or generate_uid()
        ds.StudyDate = src.get("StudyDate") or now.strftime("%Y%m%d")
        ds.StudyTime = src.get("StudyTime") or now.strftime("%H%M%S")
        for k in ("ReferringPhysicianName", "StudyID", "AccessionNumber"):
            setattr(ds, k, src.get(k, ""))
    if src.get("StudyDescription"):
        ds.StudyDescription = src["StudyDescription"]
    ds.Modality = modality
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 9000 + int(now.strftime("%M%S")) % 1000
    ds.SeriesDescription = series_description[:64]
    ds.SeriesDate, ds.SeriesTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.FrameOfReferenceUID = frame_of_reference
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "MR Studio"
    ds.SoftwareVersions = __version__
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL" if modality == "CT" else "OTHER"]  # CT: cross-section
    ds.Laterality = ""
    ds.PatientPosition = src.get("PatientPosition", "HFS")
    ds.SOPClassUID = sop_class
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.BurnedInAnnotation = "NO"
    return ds


def _write_series(datasets, folder: Path, force: bool, progress: Progress | None, cancel: CancelToken | None) -> Path:
    """Write datasets into ``folder`` via a temporary sibling folder renamed into place."""
    folder = Path(folder)
    with atomic_folder(folder, force) as tmp:
        n = len(datasets)
        for i, ds in enumerate(datasets):
            check(cancel)
            ds.save_as(tmp / f"IM{i + 1:05d}.dcm", enforce_file_format=True)
            report(progress, (i + 1) / n, f"DICOM {i + 1}/{n}")
    return folder


def _ds(v: float) -> str:
    """A decimal string (VR DS, ≤ 16 characters) as precise as it can be."""
    from pydicom.valuerep import format_number_as_ds

    return format_number_as_ds(float(v))


def series_geometry(study: CineStudy | VolumeStudy | None, shape: tuple[int, int, int]) -> Geometry:
    """The geometry to write for ``shape = (N, Ny, Nx)`` images of ``study``: its own, or a made-up axial one."""
    n, ny, nx = shape
    g = study.geometry if study is not None else None
    if g is not None:
        return g
    if isinstance(study, VolumeStudy):
        return Geometry.axial((ny, nx), study.spacing[1:], np.arange(n) * study.spacing[0], study.spacing[0])
    spacing = (study.fov_mm[0] / ny, study.fov_mm[1] / nx) if isinstance(study, CineStudy) else (1.0, 1.0)
    return Geometry.axial((ny, nx), spacing)


def _frame_of_reference(g: Geometry, anonymize: bool) -> str:
    from pydicom.uid import generate_uid

    if g.frame_of_reference is None:
        return generate_uid()
    if anonymize:  # not the source's UID, but the same one for every anonymised export of that source
        return generate_uid(entropy_srcs=["mrstudio-anonymised-frame-of-reference", g.frame_of_reference])
    return g.frame_of_reference


def _plane(ds, g: Geometry, k: int) -> None:
    """Image Plane module (PS3.3 C.7.6.2) of slice ``k`` of ``g``."""
    ds.PixelSpacing = [_ds(v) for v in g.pixel_spacing]
    ds.ImageOrientationPatient = [_ds(v) for v in g.orientation]
    ds.ImagePositionPatient = [_ds(v) for v in g.positions[k]]
    ds.SliceThickness = _ds(g.slice_thickness) if g.slice_thickness is not None else ""
    ds.SliceLocation = _ds(g.along[k])


def _mr_module(ds, gated: bool) -> None:
    """MR Image module (PS3.3 C.8.3.1) attributes a derived series has no true value for."""
    ds.ScanningSequence, ds.SequenceVariant, ds.MRAcquisitionType = "GR", "NONE", "2D"
    ds.ScanOptions = "CG" if gated else ""  # CG: cardiac gating
    ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = "", "", ""


def _series(sop: str, modality: str, meta: dict[str, Any], anonymize: bool, description: str, g: Geometry, n: int):
    """``n`` base data sets sharing one series, study and frame of reference."""
    from pydicom.uid import generate_uid

    out = []
    for_uid = _frame_of_reference(g, anonymize)
    for i in range(n):
        ds = _base_dataset(sop, modality, meta, anonymize, description, for_uid)
        if i:
            for k in ("SeriesInstanceUID", "StudyInstanceUID", "SeriesNumber", "SeriesDate", "SeriesTime",
                      "ContentDate", "ContentTime"):
                setattr(ds, k, getattr(out[0], k))
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        out.append(ds)
    return out


def write_cine_dicom(image: np.ndarray, folder: str | Path, study: CineStudy | None = None,
                     provenance: dict[str, Any] | None = None, force: bool = False, anonymize: bool = False,
                     frame_ms: float | None = None, progress: Progress | None = None,
                     cancel: CancelToken | None = None) -> Path:
    """Write a cine ``(T, Ny, Nx)`` (complex or magnitude; magnitude is stored) as MR Image Storage.

    TriggerTime: the source's trigger times when it had them, else ``i · frame_ms`` when
    ``frame_ms`` is given, else empty (the frames are ordered by TemporalPositionIdentifier).
    """
    mag = np.abs(np.asarray(image)).astype(np.float32)
    if mag.ndim != 3:
        raise StudyError(folder, f"cine must be (T, Ny, Nx), got shape {mag.shape}")
    if not np.isfinite(mag).all():
        raise StudyError(folder, "image holds NaN or Inf; nothing written")
    t, ny, nx = mag.shape
    meta = study.meta if study is not None else {}
    trig = meta.get("trigger_times_ms")
    if not trig or len(trig) != t:
        trig = [i * frame_ms for i in range(t)] if frame_ms is not None else None
    stored, slope, icpt = _quantise(mag)
    g = series_geometry(study, (1, ny, nx))
    method = (provenance or {}).get("method", "recon")
    lo, hi = np.percentile(mag, [0.5, 99.5])
    out = _series(MR_IMAGE_STORAGE, "MR", meta, anonymize, f"MR Studio {method}", g, t)
    desc = _derivation(provenance)
    for i, ds in enumerate(out):
        ds.DerivationDescription = desc
        _mr_module(ds, gated=True)
        ds.TriggerTime = _ds(trig[i]) if trig is not None else ""
        ds.TemporalPositionIdentifier = i + 1
        ds.NumberOfTemporalPositions = t
        ds.CardiacNumberOfImages = t
        _plane(ds, g, 0)
        _pixel_module(ds, stored[i], slope, icpt, lo, hi)
        if provenance is not None:
            ds.ImageComments = json.dumps(provenance, default=str)[:10240]
    return _write_series(out, Path(folder), force, progress, cancel)


def volume_description(method: str, factor: int, model: str | None = None) -> str:
    """The SeriesDescription/DerivationDescription of an interpolated volume (CLI and GUI alike)."""
    return f"MR Studio {method} x{factor}" + (f", model {model}" if model else "")


def write_volume_dicom(study: VolumeStudy, folder: str | Path, description: str = "MR Studio volume",
                       force: bool = False, anonymize: bool = False, progress: Progress | None = None,
                       cancel: CancelToken | None = None) -> Path:
    """Write a volume ``(Z, Y, X)`` as CT Image Storage (HU) or MR Image Storage, with its geometry."""
    vol = study.volume
    z, ny, nx = vol.shape
    if study.modality not in ("CT", "MR"):
        raise StudyError(folder, f"can write CT and MR volumes, not modality {study.modality}")
    ct = study.modality == "CT"
    stored, slope, icpt = _quantise(vol)
    g = series_geometry(study, vol.shape)
    lo, hi = (-1000.0, 1000.0) if ct else tuple(np.percentile(vol, [0.5, 99.5]))
    out = _series(CT_IMAGE_STORAGE if ct else MR_IMAGE_STORAGE, study.modality, study.meta, anonymize, description,
                  g, z)
    for i, ds in enumerate(out):
        ds.DerivationDescription = description[:1024]
        if ct:
            ds.KVP = ""
            ds.AcquisitionNumber = 1
        else:
            _mr_module(ds, gated=False)
        _plane(ds, g, i)
        if g.slice_spacing is not None:
            ds.SpacingBetweenSlices = _ds(g.slice_spacing)
        _pixel_module(ds, stored[i], slope, icpt, lo, hi)
        if ct:
            ds.WindowCenter, ds.WindowWidth = "40", "400"  # soft-tissue window
            ds.RescaleType = "HU"
    return _write_series(out, Path(folder), force, progress, cancel)


def _pixel_module(ds, stored: np.ndarray, slope: float, icpt: float, lo: float, hi: float) -> None:
    ds.Rows, ds.Columns = stored.shape
    ds.RescaleSlope = f"{slope:.10g}"
    ds.RescaleIntercept = f"{icpt:.10g}"
    ds.WindowCenter = f"{(lo + hi) / 2:.6g}"
    ds.WindowWidth = f"{max(hi - lo, 1e-6):.6g}"
    if hi - lo < 1:
        ds.VOILUTFunction = "LINEAR_EXACT"  # widths below 1 are only valid with LINEAR_EXACT
    ds.PixelData = np.ascontiguousarray(stored).tobytes()
