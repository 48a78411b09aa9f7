"""Test helpers: write DICOM series in the real layouts, and re-encode or index them with the
Debian tools a PACS export would come from (dcmtk, GDCM's gdcmconv).

``series(...)`` writes one classic file per image with any geometry; ``enhanced(...)``
one Enhanced (multi-frame) file; ``reencode`` calls dcmtk/GDCM to change the transfer
syntax; ``make_dicomdir`` indexes a folder with dcmtk's ``dcmmkdir``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

TS = {"jpeg-lossless": "1.2.840.10008.1.2.4.57", "jpeg-lossless-sv1": "1.2.840.10008.1.2.4.70",
      "jpeg-12bit": "1.2.840.10008.1.2.4.51", "jpegls-lossless": "1.2.840.10008.1.2.4.80",
      "jpegls-near": "1.2.840.10008.1.2.4.81", "j2k": "1.2.840.10008.1.2.4.90", "rle": "1.2.840.10008.1.2.5",
      "deflate": "1.2.840.10008.1.2.1.99", "big-endian": "1.2.840.10008.1.2.2", "implicit-le": "1.2.840.10008.1.2"}
_CMD = {"jpeg-lossless-sv1": ("dcmcjpeg", ["+e1"]), "jpeg-lossless": ("dcmcjpeg", ["+el"]),
        "jpeg-12bit": ("dcmcjpeg", ["+ee"]), "jpegls-lossless": ("dcmcjpls", ["+el"]),
        "jpegls-near": ("dcmcjpls", ["+en", "+md", "2"]), "j2k": ("gdcmconv", ["--quiet", "--j2k"]),
        "rle": ("dcmcrle", []), "deflate": ("dcmconv", ["+td"]), "big-endian": ("dcmconv", ["+tb"]),
        "implicit-le": ("dcmconv", ["+ti"])}
TOOLS = ("dcmcjpeg", "dcmcjpls", "dcmcrle", "dcmconv", "dcmmkdir", "gdcmconv")
MR, CT = "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.2"


def tool(name: str) -> str | None:
    """The Debian binary (python-gdcm puts its own gdcmconv into the venv, which we do not want)."""
    p = Path("/usr/bin") / name
    return str(p) if p.exists() else shutil.which(name)


def have_tools() -> bool:
    return all(tool(t) for t in TOOLS)


def reencode(src: Path, dst: Path, syntax: str, new_uid: bool = False) -> Path:
    """``src`` re-encoded into ``syntax`` by dcmtk/GDCM (SOPInstanceUID kept unless ``new_uid``)."""
    import pydicom

    name, args = _CMD[syntax]
    uid = (["+ua"] if new_uid else ["+un"]) if name in ("dcmcjpeg", "dcmcjpls", "dcmcrle") else []
    subprocess.run([tool(name), *args, *uid, str(src), str(dst)], check=True, capture_output=True)
    got = str(pydicom.dcmread(dst, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    assert got == TS[syntax], (syntax, got)
    return dst


def make_dicomdir(folder: Path) -> Path:
    """``folder/DICOMDIR`` by dcmmkdir over every file below ``folder`` (names: ≤ 8 of [A-Z0-9_])."""
    folder = Path(folder).resolve()
    subprocess.run([tool("dcmmkdir"), "+r", "+id", str(folder), "+D", str(folder / "DICOMDIR"), "+F", "MRSTUDIO",
                    "-Pgp", "+I", "-Nxc", "-Nec", "-Nrc", "-q"], check=True, capture_output=True)
    return folder / "DICOMDIR"


def _base(sop: str, modality: str, series_uid: str, study_uid: str, for_uid: str):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID = \
        modality, series_uid, study_uid, for_uid
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Doe^Jane", "PID12345", "19700101", "F"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber, ds.ReferringPhysicianName = \
        "20261130", "120000", "1", "A1", ""
    ds.SeriesNumber, ds.SeriesDescription = 3, f"{modality} test series"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    return ds


def series(folder: Path, images: np.ndarray, orientation=(1, 0, 0, 0, 1, 0), positions=None, modality="MR",
           spacing=(1.25, 0.9765625), thickness=5.0, trigger=None, tpi=None, image_type=None, echo=None,
           series_uid=None, for_uid="1.2.826.0.1.3680043.8.498.77", names=None, start=1, bits=12) -> list[Path]:
    """One classic image file per ``images[k]`` (uint16 ``(N, Ny, Nx)``) with the given geometry.

    ``positions (N, 3)`` default to one position (a cine); ``trigger``/``tpi``/``echo``/
    ``image_type`` are per-image lists (``None`` entries leave the tag out).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(images)
    positions = np.zeros((n, 3)) if positions is None else np.asarray(positions, float)
    series_uid = series_uid or "1.2.826.0.1.3680043.8.498.1"
    out = []
    for k in range(n):
        ds = _base(CT if modality == "CT" else MR, modality, series_uid, "1.2.826.0.1.3680043.8.498.2", for_uid)
        ds.BitsStored, ds.HighBit = bits, bits - 1
        ds.InstanceNumber = start + k
        ds.ImageOrientationPatient = [f"{v:.10g}" for v in orientation]
        ds.ImagePositionPatient = [f"{v:.10g}" for v in positions[k]]
        ds.PixelSpacing = [f"{v:.10g}" for v in spacing]
        ds.SliceThickness = thickness
        if modality == "CT":
            ds.RescaleSlope, ds.RescaleIntercept, ds.KVP = 1, -1024, 120
        if trigger is not None and trigger[k] is not None:
            ds.TriggerTime = trigger[k]
        if tpi is not None and tpi[k] is not None:
            ds.TemporalPositionIdentifier = tpi[k]
        if image_type is not None and image_type[k] is not None:
            ds.ImageType = image_type[k]
        if echo is not None and echo[k] is not None:
            ds.EchoNumbers, ds.EchoTime = echo[k], 4.0 * echo[k]
        pix = np.asarray(images[k], np.uint16)
        ds.Rows, ds.Columns = pix.shape
        ds.PixelData = pix.tobytes()
        path = folder / (names[k] if names else f"IM{start + k:04d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def enhanced(path: Path, images: np.ndarray, orientation=(1, 0, 0, 0, 1, 0), positions=None, modality="MR",
             spacing=(1.25, 0.9765625), thickness=5.0, trigger=None) -> Path:
    """One Enhanced MR/CT Image Storage file (PS3.3 A.36/A.38) with per-frame positions (and trigger times)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    sop = "1.2.840.10008.5.1.4.1.1.2.1" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4.1"
    ds = _base(sop, modality, "1.2.826.0.1.3680043.8.498.9", "1.2.826.0.1.3680043.8.498.2",
               "1.2.826.0.1.3680043.8.498.77")
    n = len(images)
    positions = np.zeros((n, 3)) if positions is None else np.asarray(positions, float)
    ds.NumberOfFrames = n
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"]
    shared, pm, po = Dataset(), Dataset(), Dataset()
    pm.PixelSpacing, pm.SliceThickness = [f"{v:.10g}" for v in spacing], thickness
    po.ImageOrientationPatient = [f"{v:.10g}" for v in orientation]
    shared.PixelMeasuresSequence, shared.PlaneOrientationSequence = Sequence([pm]), Sequence([po])
    if modality == "CT":
        pv = Dataset()
        pv.RescaleSlope, pv.RescaleIntercept, pv.RescaleType = 1, -1024, "HU"
        shared.PixelValueTransformationSequence = Sequence([pv])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for k in range(n):
        item, pp, fc = Dataset(), Dataset(), Dataset()
        pp.ImagePositionPatient = [f"{v:.10g}" for v in positions[k]]
        fc.InStackPositionNumber = k + 1
        if trigger is not None:
            cs = Dataset()
            cs.NominalCardiacTriggerDelayTime = trigger[k]
            item.CardiacSynchronizationSequence = Sequence([cs])
        item.PlanePositionSequence, item.FrameContentSequence = Sequence([pp]), Sequence([fc])
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    pix = np.asarray(images, np.uint16)
    ds.Rows, ds.Columns = pix.shape[1:]
    ds.PixelData = np.ascontiguousarray(pix).tobytes()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return Path(path)


def pixel_to_patient(ds, i: float, j: float) -> np.ndarray:
    """Patient coordinates (mm) of row ``i``, column ``j`` of a classic image, straight from its header."""
    o = np.asarray([float(v) for v in ds.ImageOrientationPatient])
    p = np.asarray([float(v) for v in ds.ImagePositionPatient])
    dy, dx = (float(v) for v in ds.PixelSpacing)
    return p + j * dx * o[:3] + i * dy * o[3:]
