"""Export a reconstructed cine as an MR Image Storage series, a CT volume as CT Image Storage.

One file per frame / slice, 16-bit unsigned pixels with RescaleSlope/Intercept so that the
stored values map back to the float image within half a quantisation step. New SOP and
Series Instance UIDs; the Study Instance UID, Frame of Reference and patient module are
kept when the source was DICOM (``anonymize=True`` replaces the patient and study
identifiers). ImageType ``DERIVED\\SECONDARY``; for cines TriggerTime,
TemporalPositionIdentifier, NumberOfTemporalPositions and CardiacNumberOfImages; a
DerivationDescription naming the method, mask, R and model; window centre/width from the
data. The series is written into a temporary folder next to the target and renamed into
place, so a failed export leaves nothing behind. Validated with dciodvfy in the tests.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress, check, report
from ..core.study import CineStudy, CTStudy
from .atomic import check_folder_target

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
    if p.get("model"):
        parts.append(f"model {p['model']}")
    if "sha256" in provenance:
        parts.append(f"sha256 {str(provenance['sha256'])[:12]}")
    return ", ".join(parts)[:1024]


def _base_dataset(sop_class: str, modality: str, source: Any, anonymize: bool, series_description: str,
                  frame_of_reference: str | None):
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
    ds.FrameOfReferenceUID = frame_of_reference or generate_uid()
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "MR Studio"
    ds.SoftwareVersions = __version__
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL" if modality == "CT" else "OTHER"]
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
    folder = check_folder_target(folder, force)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".part", dir=folder.parent))
    try:
        n = len(datasets)
        for i, ds in enumerate(datasets):
            check(cancel)
            ds.save_as(tmp / f"IM{i + 1:05d}.dcm", enforce_file_format=True)
            report(progress, (i + 1) / n, f"DICOM {i + 1}/{n}")
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; give the folder the usual mode
        tmp.rename(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _geometry(study: CineStudy | CTStudy | None, ny: int, nx: int) -> tuple[list[float], list[float], list[float]]:
    """(PixelSpacing [row, col], ImageOrientationPatient, ImagePositionPatient of the first image)."""
    if isinstance(study, CineStudy):
        spacing = [study.fov_mm[0] / ny, study.fov_mm[1] / nx]
    elif isinstance(study, CTStudy):
        spacing = [study.spacing[1], study.spacing[2]]
    else:
        spacing = [1.0, 1.0]
    meta = study.meta if study is not None else {}
    iop = [float(v) for v in meta.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0])]
    ipp = [float(v) for v in meta.get("ImagePositionPatient", [-spacing[1] * nx / 2, -spacing[0] * ny / 2, 0.0])]
    return spacing, iop, ipp


def write_cine_dicom(image: np.ndarray, folder: str | Path, study: CineStudy | None = None,
                     provenance: dict[str, Any] | None = None, force: bool = False, anonymize: bool = False,
                     frame_ms: float | None = None, progress: Progress | None = None,
                     cancel: CancelToken | None = None) -> Path:
    """Write a cine ``(T, Ny, Nx)`` (complex or magnitude; magnitude is stored) as MR Image Storage.

    ``frame_ms`` is the time between frames for TriggerTime (default: the source's trigger
    times when it was DICOM, else 1000 / T, one cardiac cycle of 1 s).
    """
    from pydicom.uid import generate_uid

    mag = np.abs(np.asarray(image)).astype(np.float32)
    if mag.ndim != 3:
        raise StudyError(folder, f"cine must be (T, Ny, Nx), got shape {mag.shape}")
    if not np.isfinite(mag).all():
        raise StudyError(folder, "image holds NaN or Inf; nothing written")
    t, ny, nx = mag.shape
    meta = study.meta if study is not None else {}
    trig = meta.get("trigger_times_ms")
    if not trig or len(trig) != t:
        step = frame_ms if frame_ms is not None else 1000.0 / t
        trig = [i * step for i in range(t)]
    stored, slope, icpt = _quantise(mag)
    spacing, iop, ipp = _geometry(study, ny, nx)
    desc = _derivation(provenance)
    method = (provenance or {}).get("method", "recon")
    lo, hi = np.percentile(mag, [0.5, 99.5])
    out = []
    for i in range(t):
        ds = _base_dataset(MR_IMAGE_STORAGE, "MR", meta, anonymize, f"MR Studio {method}",
                           meta.get("FrameOfReferenceUID"))
        if i:
            ds.SeriesInstanceUID = out[0].SeriesInstanceUID
            ds.StudyInstanceUID = out[0].StudyInstanceUID
            ds.FrameOfReferenceUID = out[0].FrameOfReferenceUID
            ds.SeriesNumber = out[0].SeriesNumber
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        ds.DerivationDescription = desc
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "GR", "NONE", "CG", "2D"
        ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = "", "", ""
        ds.TriggerTime = f"{trig[i]:.2f}"
        ds.TemporalPositionIdentifier = i + 1
        ds.NumberOfTemporalPositions = t
        ds.CardiacNumberOfImages = t
        ds.PixelSpacing = [f"{spacing[0]:.6g}", f"{spacing[1]:.6g}"]
        ds.SliceThickness = f"{float(meta.get('SliceThickness', 8.0)):g}"
        ds.ImageOrientationPatient = [f"{v:.6g}" for v in iop]
        ds.ImagePositionPatient = [f"{v:.6g}" for v in ipp]
        ds.SliceLocation = f"{ipp[2]:.6g}"
        _pixel_module(ds, stored[i], slope, icpt, lo, hi)
        if provenance is not None:
            ds.ImageComments = json.dumps(provenance, default=str)[:10240]
        out.append(ds)
    return _write_series(out, Path(folder), force, progress, cancel)


def write_ct_dicom(study: CTStudy, folder: str | Path, description: str = "MR Studio CT", force: bool = False,
                   anonymize: bool = False, progress: Progress | None = None,
                   cancel: CancelToken | None = None) -> Path:
    """Write a CT volume (HU, ``(Z, Y, X)``) as a CT Image Storage series with its positions and spacing."""
    from pydicom.uid import generate_uid

    vol = study.volume
    z, ny, nx = vol.shape
    meta = study.meta
    stored, slope, icpt = _quantise(vol)
    spacing, iop, _ = _geometry(study, ny, nx)
    if study.positions is not None and len(study.positions) == z:
        positions = np.asarray(study.positions, float)
    else:
        r, c = np.asarray(iop[:3]), np.asarray(iop[3:])
        n = np.cross(r, c)
        positions = np.array([[0.0, 0.0, 0.0]]) + np.arange(z)[:, None] * study.spacing[0] * n
    out = []
    for i in range(z):
        ds = _base_dataset(CT_IMAGE_STORAGE, "CT", meta, anonymize, description, meta.get("FrameOfReferenceUID"))
        if i:
            for k in ("SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID", "SeriesNumber"):
                setattr(ds, k, getattr(out[0], k))
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        ds.DerivationDescription = description[:1024]
        ds.KVP = ""
        ds.AcquisitionNumber = 1
        ds.PixelSpacing = [f"{spacing[0]:.6g}", f"{spacing[1]:.6g}"]
        ds.SliceThickness = f"{study.spacing[0]:.6g}"
        ds.SpacingBetweenSlices = f"{study.spacing[0]:.6g}"
        ds.ImageOrientationPatient = [f"{v:.6g}" for v in iop]
        ds.ImagePositionPatient = [f"{v:.6g}" for v in positions[i]]
        ds.SliceLocation = f"{positions[i][2]:.6g}"
        _pixel_module(ds, stored[i], slope, icpt, -1000.0, 1000.0)
        ds.WindowCenter, ds.WindowWidth = "40", "400"  # soft-tissue window
        ds.RescaleType = "HU"
        out.append(ds)
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
