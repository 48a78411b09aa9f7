"""A generated corpus of bad inputs, one per way a study or checkpoint can be broken.

``build(root)`` writes every case under ``root`` and returns ``[(name, path, expected
fragment of the message)]``. The cases are written at test time (nothing binary is
committed), in the real layouts of each format.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import h5py
import numpy as np


def _native(path: Path, **arrays) -> Path:
    meta = arrays.pop("meta", {"name": "x"})
    version = arrays.pop("version", 1)
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "mrstudio-cine"
        f.attrs["format_version"] = version
        f.attrs["meta"] = json.dumps(meta)
        for k, v in arrays.items():
            f.create_dataset(k, data=v)
    return path


def _k(shape=(2, 3, 8, 8)) -> np.ndarray:
    return (np.ones(shape) + 1j).astype(np.complex64)


def _dicomdir_without_its_files(folder: Path) -> None:
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    src = folder / "src.dcm"
    _dicom(src)
    ds = dcmread(src)
    ds.PatientID, ds.PatientName, ds.StudyInstanceUID, ds.StudyDate, ds.StudyTime, ds.StudyID = \
        "P1", "X^Y", "1.2.3.9", "20260101", "120000", "1"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    fs = FileSet()
    fs.add(ds)
    fs.write(folder)
    src.unlink()
    for p in sorted(folder.rglob("*"), reverse=True):  # the referenced instance goes, the DICOMDIR stays
        if p.is_file() and p.name != "DICOMDIR":
            p.unlink()


def _dicom(path: Path, modality="MR", series="1.2.3", sop=None, pixels=True, ipp=(0, 0, 0), trigger=None,
           spacing=None, frames=1, per_frame=None) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    sop = sop or ("1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4")
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID = modality, series
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], list(ipp)
    if trigger is not None:
        ds.TriggerTime = trigger
    if spacing is not None:
        ds.PixelSpacing = [spacing, spacing]
    if frames > 1:
        ds.NumberOfFrames = frames
    if per_frame is not None:
        from pydicom.dataset import Dataset as Item
        from pydicom.sequence import Sequence

        ds.PerFrameFunctionalGroupsSequence = Sequence([Item() for _ in range(per_frame)])
    if pixels:
        ds.Rows, ds.Columns = 4, 4
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.zeros((frames, 4, 4), np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def build(root: Path) -> list[tuple[str, Path, str]]:
    root.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, Path, str]] = []

    def add(name: str, path: Path, expect: str) -> None:
        cases.append((name, path, expect))

    # --- MR Studio HDF5 / NPZ ---------------------------------------------------------
    good = _native(root / "good.h5", kspace=_k())
    data = good.read_bytes()
    (root / "truncated.h5").write_bytes(data[: len(data) // 3])
    add("truncated HDF5", root / "truncated.h5", "HDF5")
    (root / "empty.h5").write_bytes(b"")
    add("empty file", root / "empty.h5", "empty")
    (root / "random.h5").write_bytes(np.random.default_rng(0).bytes(4096))
    add("random bytes", root / "random.h5", "not a study file")
    add("missing kspace", _native(root / "nokey.h5", mask=np.ones((3, 8), bool)), "missing key 'kspace'")
    add("float kspace", _native(root / "float.h5", kspace=np.ones((2, 3, 8, 8), np.float32)), "complex")
    add("3-D kspace", _native(root / "ndim.h5", kspace=_k((3, 8, 8))), "4")
    k = _k()
    k[0, 0, 0, 0] = np.nan
    add("NaN kspace", _native(root / "nan.h5", kspace=k), "non-finite")
    k = _k()
    k[1, 2, 3, 4] = np.inf
    add("Inf kspace", _native(root / "inf.h5", kspace=k), "non-finite")
    add("mask shape", _native(root / "maskshape.h5", kspace=_k(), mask=np.ones((3, 7), bool)), "mask shape")
    add("empty mask", _native(root / "maskempty.h5", kspace=_k(), mask=np.zeros((3, 8), bool)), "mask")
    add("int mask", _native(root / "maskint.h5", kspace=_k(), mask=np.ones((3, 8), np.int8)), "boolean")
    add("future version", _native(root / "future.h5", kspace=_k(), version=99), "newer")
    add("zero-sized", _native(root / "zero.h5", kspace=np.zeros((2, 0, 8, 8), np.complex64)), "empty")
    with h5py.File(root / "huge.h5", "w") as f:  # declares ~10 TB, stores nothing
        f.attrs["format"], f.attrs["format_version"], f.attrs["meta"] = "mrstudio-cine", 1, "{}"
        f.create_dataset("kspace", shape=(64, 200, 4096, 4096), dtype=np.complex64, chunks=(1, 1, 64, 64))
    add("absurd declared size", root / "huge.h5", "memory")
    with h5py.File(root / "other.h5", "w") as f:
        f["weights"] = np.zeros(3)
    add("unrelated HDF5", root / "other.h5", "not a study")
    np.savez(root / "noformat.npz", kspace=_k())
    add("npz without format", root / "noformat.npz", "format")
    (root / "corrupt.npz").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    add("corrupt zip", root / "corrupt.npz", "npz")
    (root / "v5.mat").write_bytes(b"MATLAB 5.0 MAT-file, Platform: GLNXA64" + b"\0" * 200)
    add("MATLAB v5", root / "v5.mat", "v7.3")

    # --- ISMRMRD / CMRxRecon / fastMRI ------------------------------------------------------
    with h5py.File(root / "ismrmrd_noacq.h5", "w") as f:
        g = f.create_group("dataset")
        g.create_dataset("xml", data=np.array([b"<ismrmrdHeader/>"], dtype=object), dtype=h5py.string_dtype())
        g.create_dataset("data", shape=(0,), dtype=[("head", "u1"), ("traj", "u1"), ("data", "u1")])
    add("ISMRMRD without encoding", root / "ismrmrd_noacq.h5", "XML header")
    with h5py.File(root / "cmrx_ndim.mat", "w", userblock_size=512) as f:
        f["kspace_full"] = np.zeros((2, 2, 4, 4), np.float32)
    add("CMRxRecon 4-D multi-coil", root / "cmrx_ndim.mat", "expected 5")
    with h5py.File(root / "cmrx_int.mat", "w", userblock_size=512) as f:
        f["kspace_full"] = np.zeros((2, 1, 2, 4, 4), np.int32)
    add("CMRxRecon int dtype", root / "cmrx_int.mat", "dtype int32")
    with h5py.File(root / "fastmri_real.h5", "w") as f:
        f["kspace"] = np.zeros((2, 4, 4), np.float32)
    add("fastMRI real kspace", root / "fastmri_real.h5", "expected complex")
    with h5py.File(root / "fastmri_mask.h5", "w") as f:
        f["kspace"] = np.ones((2, 2, 4, 6), np.complex64)
        f["mask"] = np.ones(5, np.float32)
    add("fastMRI mask length", root / "fastmri_mask.h5", "mask")

    # --- DICOM --------------------------------------------------------------------------------
    d = root / "dicom_truncated"
    d.mkdir(exist_ok=True)
    full = _dicom(d / "full.dcm").read_bytes()
    (d / "full.dcm").write_bytes(full[:300])
    add("truncated DICOM", d / "full.dcm", "truncated")
    # (a folder with several series is not bad input: `info` lists them, recon/interp ask for one)
    d = root / "dicom_sr"
    d.mkdir(exist_ok=True)
    _dicom(d / "sr.dcm", modality="SR", sop="1.2.840.10008.5.1.4.1.1.88.11", pixels=False)
    add("structured report only", d, "no DICOM image series")
    d = root / "dicom_rt"
    d.mkdir(exist_ok=True)
    _dicom(d / "rt.dcm", modality="RTSTRUCT", sop="1.2.840.10008.5.1.4.1.1.481.3", pixels=False)
    add("RT structure set only", d, "no DICOM image series")
    d = root / "dicom_dup"
    d.mkdir(exist_ok=True)
    _dicom(d / "1.dcm", "CT", ipp=(0, 0, 5))
    _dicom(d / "2.dcm", "CT", ipp=(0, 0, 5))
    add("duplicate CT positions", d, "duplicate slice positions")
    d = root / "dicom_partly_duplicate"
    d.mkdir(exist_ok=True)
    for i, z in enumerate((0, 5, 5, 10)):
        _dicom(d / f"{i}.dcm", "CT", ipp=(0, 0, z))
    add("CT with one repeated position", d, "duplicate slice positions at 1 of 3")
    d = root / "dicom_repeated_trigger"
    d.mkdir(exist_ok=True)
    for i in range(2):
        _dicom(d / f"{i}.dcm", trigger=40.0)
    add("MR frames with one trigger time", d, "TriggerTime repeated")
    d = root / "dicom_mixed_spacing"
    d.mkdir(exist_ok=True)
    for i, ps in enumerate((0.7, 0.7, 0.9)):
        _dicom(d / f"{i}.dcm", "CT", ipp=(0, 0, 2 * i), spacing=ps)
    add("CT slices with different pixel spacing", d, "PixelSpacing")
    d = root / "dicom_multiframe_plain"
    d.mkdir(exist_ok=True)
    _dicom(d / "mf.dcm", frames=3)
    add("multi-frame MR without functional groups", d / "mf.dcm", "per-frame functional groups")
    d = root / "dicom_enhanced_count"
    d.mkdir(exist_ok=True)
    _dicom(d / "enh.dcm", sop="1.2.840.10008.5.1.4.1.1.4.1", frames=3, per_frame=2)
    add("Enhanced MR with too few per-frame items", d / "enh.dcm", "PerFrameFunctionalGroupsSequence has 2 items")
    d = root / "dicom_bad_frames"
    d.mkdir(exist_ok=True)
    f = _dicom(d / "nf.dcm", frames=2)
    data = f.read_bytes()
    f.write_bytes(data.replace(b"\x28\x00\x08\x00IS\x02\x002 ", b"\x28\x00\x08\x00IS\x02\x00ab"))
    add("NumberOfFrames that is not a number", f, "NumberOfFrames")
    d = root / "dicom_empty_rows"
    d.mkdir(exist_ok=True)
    f = _dicom(d / "rows.dcm")
    from pydicom import dcmread

    ds = dcmread(f)
    ds.Rows = None
    ds.save_as(f)
    add("an empty Rows element", f, "malformed image attributes")
    d = root / "dicom_degenerate"
    d.mkdir(exist_ok=True)
    f = _dicom(d / "iop.dcm")
    ds = dcmread(f)
    ds.ImageOrientationPatient = [1, 0, 0, 1, 0, 0]
    ds.save_as(f)
    add("a degenerate ImageOrientationPatient", f, "degenerate")
    d = root / "dicomdir_gone"
    d.mkdir(exist_ok=True)
    _dicomdir_without_its_files(d)
    add("DICOMDIR whose files are gone", d / "DICOMDIR", "1 file(s) that do not exist")
    if hasattr(os, "mkfifo"):
        fifo = root / "pipe.dcm"
        if not fifo.exists():
            os.mkfifo(fifo)
        add("a FIFO instead of a file", fifo, "not a regular file")
    d = root / "dicom_us"
    d.mkdir(exist_ok=True)
    _dicom(d / "us.dcm", modality="US", sop="1.2.840.10008.5.1.4.1.1.6.1")
    add("ultrasound image", d, "neither MR nor CT")

    # --- folders and file-system oddities --------------------------------------------------------
    d = root / "unrelated"
    d.mkdir(exist_ok=True)
    (d / "notes.txt").write_text("hello")
    (d / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    add("folder of unrelated files", d, "no DICOM files")
    loop = root / "loop.h5"
    if not loop.is_symlink():
        os.symlink(loop, loop)
    add("symlink loop", loop, "symbolic link")
    add("missing file", root / "does-not-exist.h5", "not found")
    if os.geteuid() != 0:  # root reads everything
        locked = root / "locked.h5"
        locked.write_bytes(good.read_bytes())
        locked.chmod(0)
        add("unreadable permissions", locked, "cannot be read")

    # --- checkpoints ---------------------------------------------------------------------------
    import torch

    ck = root / "models"
    ck.mkdir(exist_ok=True)
    torch.save({"w": torch.zeros(2)}, ck / "badhash.pt")
    (ck / "badhash.json").write_text(json.dumps({"sha256": "0" * 64, "unet": {}}))
    add("checkpoint with a wrong hash", ck / "badhash.pt", "sha256")

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > /dev/null",))

    with open(ck / "evil.pt", "wb") as fh:
        pickle.dump({"w": Evil()}, fh)
    from mrstudio.io.model_store import sha256_file

    (ck / "evil.json").write_text(json.dumps({"sha256": sha256_file(ck / "evil.pt"), "unet": {}}))
    add("checkpoint that is a pickle with code", ck / "evil.pt", "weights-only")
    return cases
