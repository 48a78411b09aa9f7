"""DICOM series → :class:`CineStudy` (MR cine, magnitude) or :class:`CTStudy` (HU volume).

Input: a folder (searched recursively), a list of files, or a DICOMDIR. Files are grouped
by SeriesInstanceUID (DICOM PS3.3 C.7.3.1); a folder with several image series needs a
choice (``series=`` index or UID), and the error lists them.

* MR cine (classic MR Image Storage, PS3.3 A.4, or Enhanced MR Image Storage, A.36):
  frames ordered by TriggerTime (0018,1060) / TemporalPositionIdentifier (0020,0100),
  for Enhanced MR by the per-frame CardiacSynchronizationSequence
  NominalCardiacTriggerDelayTime or FrameContentSequence TemporalPositionIndex. Several
  slice positions in one series: one slice is chosen (``slice=``). The magnitude images
  become a single-coil, fully-sampled study (k-space = centred FFT of the image) whose
  reference is the image itself, so retrospective undersampling can be simulated.
* CT (CT Image Storage, A.3): slices sorted by ImagePositionPatient projected on the
  slice normal (row × column direction cosines), RescaleSlope/Intercept applied (HU),
  dz from the positions (not SliceThickness); gaps, uneven spacing and duplicate
  positions are detected and reported.

Compressed transfer syntaxes decode when pydicom has a handler for them; otherwise the
error names the transfer syntax and the missing handler.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.study import CineStudy, CTStudy

PHI_TAGS = ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "StudyID", "StudyInstanceUID",
            "InstitutionName", "ReferringPhysicianName", "StudyDate")
_KEEP = ("Modality", "SeriesDescription", "StudyDescription", "SeriesInstanceUID", "FrameOfReferenceUID",
         "Manufacturer", "MagneticFieldStrength", "SeriesNumber") + PHI_TAGS
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"


def looks_like_dicom(path: Path) -> bool:
    """A file with the DICM preamble, or a folder holding at least one."""
    if path.is_dir():
        return any(_is_dicom_file(p) for p in _walk(path, limit=200))
    return _is_dicom_file(path)


def _is_dicom_file(p: Path) -> bool:
    try:
        with open(p, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _walk(folder: Path, limit: int | None = None):
    n = 0
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            yield p
            n += 1
            if limit is not None and n >= limit:
                return


def _files(source: str | Path | list) -> tuple[Path, list[Path]]:
    """(label for errors, DICOM files) from a folder, a DICOMDIR, a file or a list of files."""
    if isinstance(source, (list, tuple)):
        files = [Path(p) for p in source]
        label = files[0].parent if files else Path("<no files>")
    else:
        label = Path(source)
        if not label.exists():
            raise StudyError(label, "file or folder not found")
        if label.is_dir():
            files = [p for p in _walk(label) if p.name.upper() != "DICOMDIR" and _is_dicom_file(p)]
        elif label.name.upper() == "DICOMDIR":
            files = _dicomdir_files(label)
        else:
            files = [label]
    if not files:
        raise StudyError(label, "no DICOM files found")
    return label, files


def _dicomdir_files(path: Path) -> list[Path]:
    import pydicom

    try:
        ds = pydicom.dcmread(path)
        fs = pydicom.fileset.FileSet(ds)
        return [Path(inst.path) for inst in fs]
    except Exception as exc:
        raise StudyError(path, f"unreadable DICOMDIR ({type(exc).__name__}: {exc})") from None


def _headers(label: Path, files: list[Path]) -> dict[str, list[tuple[Path, Any]]]:
    import pydicom

    series: dict[str, list[tuple[Path, Any]]] = defaultdict(list)
    for p in files:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except Exception as exc:
            raise StudyError(p, f"not a readable DICOM file ({type(exc).__name__}: {exc})") from None
        if "PixelData" not in ds and "Rows" not in ds:
            if str(ds.get("SOPClassUID", "")) in (CT_STORAGE, MR_STORAGE, ENHANCED_MR_STORAGE):
                raise StudyError(p, "an MR/CT image file without image attributes or pixel data (truncated?)")
            continue  # presentation states, reports, …
        uid = str(ds.get("SeriesInstanceUID", ""))
        if not uid:
            raise StudyError(p, "no SeriesInstanceUID")
        series[uid].append((p, ds))
    if not series:
        raise StudyError(label, "no DICOM image series found")
    return series


def list_series(source: str | Path | list) -> list[dict[str, Any]]:
    """One dict per image series: uid, modality, description, number of files."""
    label, files = _files(source)
    return [{"uid": uid, "modality": str(items[0][1].get("Modality", "")),
             "description": str(items[0][1].get("SeriesDescription", "")), "files": len(items)}
            for uid, items in sorted(_headers(label, files).items())]


def read_dicom(source: str | Path | list, series: int | str | None = None,
               slice: int | None = None) -> CineStudy | CTStudy:  # noqa: A002
    """Read one DICOM series as an MR cine or a CT volume (see the module docstring)."""
    single = not isinstance(source, (list, tuple)) and Path(source).is_file() and \
        Path(source).name.upper() != "DICOMDIR"
    if single and series is None:  # one file of a series: read the whole series from its folder
        import pydicom

        try:
            series = str(pydicom.dcmread(source, stop_before_pixels=True).get("SeriesInstanceUID", "")) or None
        except Exception as exc:
            raise StudyError(source, f"not a readable DICOM file ({type(exc).__name__}: {exc})") from None
        if series is not None:
            source = Path(source).parent
    label, files = _files(source)
    groups = _headers(label, files)
    uids = sorted(groups)
    if series is None:
        if len(uids) > 1:
            desc = "; ".join(f"[{i}] {groups[u][0][1].get('Modality', '?')} "
                             f"'{groups[u][0][1].get('SeriesDescription', '')}' ({len(groups[u])} files)"
                             for i, u in enumerate(uids))
            raise StudyError(label, f"holds {len(uids)} series, choose one (series index or UID): {desc}")
        uid = uids[0]
    elif isinstance(series, int) or str(series).isdigit():
        i = int(series)
        if not 0 <= i < len(uids):
            raise StudyError(label, f"series index {i} out of range (0–{len(uids) - 1})")
        uid = uids[i]
    else:
        if str(series) not in groups:
            raise StudyError(label, f"no series with UID {series}")
        uid = str(series)
    items = groups[uid]
    try:
        first = items[0][1]
        modality = str(first.get("Modality", ""))
        sop = str(first.get("SOPClassUID", ""))
        if modality == "CT" or sop == CT_STORAGE:
            return _read_ct(label, items)
        if modality == "MR" or sop in (MR_STORAGE, ENHANCED_MR_STORAGE):
            return _read_mr(label, items, slice)
    except StudyError:
        raise
    except Exception as exc:  # a header pydicom parsed but that does not hold what an image needs
        raise StudyError(label, f"malformed DICOM image attributes ({type(exc).__name__}: {exc})") from None
    raise StudyError(label, f"series modality {modality or '?'} is neither MR nor CT")


def _meta(ds: Any) -> dict[str, Any]:
    out = {}
    for k in _KEEP:
        if k in ds and ds.get(k) not in (None, ""):
            v = ds.get(k)
            out[k] = str(v) if not isinstance(v, (int, float)) else v
    return out


def _pixels(path: Path, ds: Any) -> np.ndarray:
    """Pixel data as float32 (RescaleSlope/Intercept applied), naming the transfer syntax and missing handler on failure."""
    import pydicom

    try:
        full = pydicom.dcmread(path)
        arr = full.pixel_array
    except Exception as exc:
        ts = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(ts, "name", str(ts))
        if ts is not None and getattr(ts, "is_compressed", False):
            if not _decoder_available(ts):
                raise StudyError(path, f"pixel data in transfer syntax {name} cannot be decoded: no installed "
                                       "handler (install pylibjpeg with its plugins, or python-gdcm)") from None
            raise StudyError(path, f"compressed pixel data ({name}) failed to decode "
                                   f"({type(exc).__name__}: {exc})") from None
        raise StudyError(path, f"pixel data unreadable ({type(exc).__name__}: {exc})") from None
    arr = np.asarray(arr, np.float32)
    if "RescaleSlope" in full or "RescaleIntercept" in full:  # CT always; MR when the writer scaled
        arr = arr * float(full.get("RescaleSlope", 1) or 1) + float(full.get("RescaleIntercept", 0) or 0)
    if not np.isfinite(arr).all():
        raise StudyError(path, "pixel data hold NaN or Inf")
    return arr


def _decoder_available(ts: Any) -> bool:
    try:
        from pydicom.pixels import get_decoder

        return bool(get_decoder(ts).is_available)
    except Exception:  # unknown transfer syntax or an older pydicom
        return False


def _normal(path: Path, ds: Any) -> np.ndarray:
    iop = ds.get("ImageOrientationPatient")
    if iop is None or len(iop) != 6:
        raise StudyError(path, "no ImageOrientationPatient (needed to order slices)")
    r, c = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
    n = np.cross(r, c)
    if np.linalg.norm(n) < 1e-6:
        raise StudyError(path, f"ImageOrientationPatient {list(iop)} is degenerate")
    return n / np.linalg.norm(n)


def _read_ct(label: Path, items: list[tuple[Path, Any]]) -> CTStudy:
    first_path, first = items[0]
    normal = _normal(first_path, first)
    shape = (int(first.Rows), int(first.Columns))
    pos = []
    for p, ds in items:
        if (int(ds.Rows), int(ds.Columns)) != shape:
            raise StudyError(p, f"image size {ds.Rows}×{ds.Columns} differs from the series' {shape[0]}×{shape[1]}")
        ipp = ds.get("ImagePositionPatient")
        if ipp is None or len(ipp) != 3:
            raise StudyError(p, "no ImagePositionPatient (needed to order slices)")
        pos.append(np.asarray(ipp, float))
    positions = np.array(pos)
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    along, positions = along[order], positions[order]
    items = [items[i] for i in order]
    notes: list[str] = []
    if len(items) > 1:
        d = np.diff(along)
        if (d < 1e-3).any():
            dup = [str(items[i + 1][0].name) for i in np.flatnonzero(d < 1e-3)][:3]
            raise StudyError(label, f"duplicate slice positions (e.g. {', '.join(dup)}): mixed or repeated acquisitions")
        dz = float(np.median(d))
        gaps = np.flatnonzero(d > 1.5 * dz)
        if gaps.size:
            notes.append(f"{gaps.size} gap(s) in slice positions, largest {d.max():.2f} mm vs spacing {dz:.2f} mm")
        if d.std() > 0.01 * dz:
            notes.append(f"uneven slice spacing: {d.min():.3f}–{d.max():.3f} mm (median {dz:.3f} mm used)")
        thick = first.get("SliceThickness")
        if thick is not None and abs(float(thick) - dz) > 0.05 * dz:
            notes.append(f"SliceThickness {float(thick):g} mm differs from the position spacing {dz:.3f} mm")
    else:
        dz = float(first.get("SliceThickness", 1.0) or 1.0)
    ps = first.get("PixelSpacing", [1.0, 1.0])
    from ..core.memory import check_fits

    check_fits(8.0 * len(items) * shape[0] * shape[1], f"CT volume {len(items)}×{shape[0]}×{shape[1]}", label,
               "open fewer slices (a sub-folder)")
    vol = np.empty((len(items), *shape), np.float32)
    for i, (p, ds) in enumerate(items):
        vol[i] = _pixels(p, ds)  # HU: RescaleSlope/Intercept applied
    meta = _meta(first)
    if notes:
        meta["warnings"] = notes
    return CTStudy(volume=vol, spacing=(dz, float(ps[0]), float(ps[1])), positions=positions,
                   name=str(first.get("SeriesDescription", "") or label.name), source=str(label), format="dicom",
                   meta=meta)


def _trigger(ds: Any, i: int) -> tuple[float, float, int]:
    tt = ds.get("TriggerTime")
    tpi = ds.get("TemporalPositionIdentifier")
    return (float(tt) if tt not in (None, "") else np.inf, float(tpi) if tpi not in (None, "") else np.inf,
            int(ds.get("InstanceNumber", i) or i))


def _read_mr(label: Path, items: list[tuple[Path, Any]], slice_: int | None) -> CineStudy:
    first_path, first = items[0]
    if "PerFrameFunctionalGroupsSequence" in first or str(first.get("SOPClassUID", "")) == ENHANCED_MR_STORAGE:
        if len(items) != 1:
            raise StudyError(label, f"{len(items)} Enhanced MR files in one series; expected one multi-frame file")
        frames, ps, pos_keys, times, notes = _enhanced_frames(first_path, first)
    else:
        shape = (int(first.Rows), int(first.Columns))
        imgs, pos_keys, times = [], [], []
        normal = _normal(first_path, first) if "ImageOrientationPatient" in first else np.array([0.0, 0.0, 1.0])
        for i, (p, ds) in enumerate(items):
            if (int(ds.Rows), int(ds.Columns)) != shape:
                raise StudyError(p, f"image size {ds.Rows}×{ds.Columns} differs from the series' {shape}")
            ipp = ds.get("ImagePositionPatient")
            pos_keys.append(round(float(np.asarray(ipp, float) @ normal), 2) if ipp is not None else 0.0)
            times.append(_trigger(ds, i))
            imgs.append((p, ds))
        frames = None
        ps = first.get("PixelSpacing", [1.0, 1.0])
        notes = []
    slices = sorted(set(pos_keys))
    s = len(slices) // 2 if slice_ is None else slice_
    if not 0 <= s < len(slices):
        raise StudyError(label, f"slice {s} not in the series ({len(slices)} slice positions)")
    pick = [i for i, k in enumerate(pos_keys) if k == slices[s]]
    pick.sort(key=lambda i: times[i])
    key_times = [times[i][:2] for i in pick]
    if len(set(key_times)) != len(key_times) and all(np.isfinite(t[0]) or np.isfinite(t[1]) for t in key_times):
        raise StudyError(label, "repeated trigger times at one slice position: mixed acquisitions in one series")
    if frames is None:
        stack = np.stack([_pixels(*imgs[i]) for i in pick])
    else:
        stack = frames[pick]
    stack = stack.astype(np.float32)
    if stack.ndim != 3:
        raise StudyError(label, f"pixel data have shape {stack.shape}; expected grey-level images")
    from ..core.fft import fft2c

    image = stack.astype(np.complex64)
    t, ny, nx = image.shape
    meta = _meta(first)
    meta.update(slices=len(slices), slice=s, frames_from="TriggerTime/TemporalPositionIdentifier",
                note="magnitude images: single-coil, fully-sampled k-space simulated by FFT",
                trigger_times_ms=[float(times[i][0]) for i in pick if np.isfinite(times[i][0])])
    if notes:
        meta["warnings"] = notes
    return CineStudy(kspace=fft2c(image)[None].astype(np.complex64), reference=image, reference_kind="fully-sampled",
                     name=str(first.get("SeriesDescription", "") or label.name), source=str(label), format="dicom",
                     fov_mm=(float(ps[0]) * ny, float(ps[1]) * nx), meta=meta)


def _enhanced_frames(path: Path, ds: Any):
    """Frames, pixel spacing, per-frame slice keys and trigger keys of an Enhanced MR file."""
    frames = _pixels(path, ds)
    if frames.ndim == 2:
        frames = frames[None]
    per = ds.get("PerFrameFunctionalGroupsSequence")
    shared = ds.get("SharedFunctionalGroupsSequence")
    if per is None or len(per) != frames.shape[0]:
        raise StudyError(path, f"PerFrameFunctionalGroupsSequence has {0 if per is None else len(per)} items "
                               f"for {frames.shape[0]} frames")

    def group(item, name):
        if name in item:
            return item.get(name)[0]
        if shared is not None and name in shared[0]:
            return shared[0].get(name)[0]
        return None

    pm = group(per[0], "PixelMeasuresSequence")
    ps = pm.get("PixelSpacing", [1.0, 1.0]) if pm is not None else [1.0, 1.0]
    orient = group(per[0], "PlaneOrientationSequence")
    iop = orient.get("ImageOrientationPatient") if orient is not None else None
    normal = np.cross(np.asarray(iop[:3], float), np.asarray(iop[3:], float)) if iop is not None else np.array([0, 0, 1.0])
    pos_keys, times = [], []
    for i, item in enumerate(per):
        plane = group(item, "PlanePositionSequence")
        ipp = plane.get("ImagePositionPatient") if plane is not None else None
        pos_keys.append(round(float(np.asarray(ipp, float) @ normal), 2) if ipp is not None else 0.0)
        card = group(item, "CardiacSynchronizationSequence")
        content = group(item, "FrameContentSequence")
        tt = card.get("NominalCardiacTriggerDelayTime") if card is not None else None
        tpi = content.get("TemporalPositionIndex") if content is not None else None
        times.append((float(tt) if tt is not None else np.inf, float(tpi) if tpi is not None else np.inf, i))
    notes = [] if any(np.isfinite(t[0]) or np.isfinite(t[1]) for t in times) else [
        "no per-frame trigger time or temporal position; frames kept in file order"]
    return frames, ps, pos_keys, times, notes
