"""Open any supported study by looking at its content, not only its extension."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import StudyError
from ..core.study import CineStudy, VolumeStudy

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


def sniff(path: Path) -> str:
    """Name the format of ``path``: ``"dicom"``, ``"hdf5"``, ``"npz"``, or raise :class:`StudyError`."""
    if not path.exists():
        if path.is_symlink():
            raise StudyError(path, "a broken or looping symbolic link")
        raise StudyError(path, "file not found")
    if path.is_dir():
        from .dicom_files import looks_like_dicom

        if looks_like_dicom(path):
            return "dicom"
        raise StudyError(path, "is a folder with no DICOM files (and no other study this version can read)")
    if not path.is_file():
        raise StudyError(path, "not a regular file (a FIFO, device or socket); give a file or a folder")
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise StudyError(path, f"cannot be read ({exc.strerror})") from None
    if not head:
        raise StudyError(path, "file is empty")
    if head.startswith(HDF5_MAGIC) or (len(head) >= 520 and head[512:520] == HDF5_MAGIC):
        return "hdf5"
    if head.startswith(ZIP_MAGIC):
        return "npz"
    from .dicom_files import dicom_kind

    if dicom_kind(path):
        return "dicom"
    if head.startswith(b"MATLAB 5.0 MAT-file"):
        raise StudyError(path, "a MATLAB v5 .mat file; CMRxRecon data are MATLAB v7.3 (HDF5): save with -v7.3")
    raise StudyError(path, "not a study file this version can read (expected HDF5, .mat v7.3, NPZ or DICOM)")


def _hdf5_kind(path: Path) -> str:
    import h5py

    from .cmrxrecon import is_cmrxrecon
    from .fastmri import is_fastmri
    from .ismrmrd_raw import is_ismrmrd

    try:
        with h5py.File(path, "r") as f:
            if "format" in f.attrs:
                return "native"
            if is_ismrmrd(f):
                return "ismrmrd"
            if is_cmrxrecon(f):
                return "cmrxrecon"
            if is_fastmri(f):
                return "fastmri"
            keys = sorted(f.keys())[:8]
    except Exception as exc:
        raise StudyError(path, f"unreadable HDF5 ({type(exc).__name__}: {exc})") from None
    raise StudyError(path, f"an HDF5 file that is not a study MR Studio knows (top-level keys {keys}; expected "
                           "MR Studio, OCMR/ISMRMRD, CMRxRecon or fastMRI layout)")


def open_study(path: str | Path, slice: int | None = None, series: int | str | None = None,  # noqa: A002
               **options) -> CineStudy | VolumeStudy:
    """Open a study by content: ``"phantom"`` (the built-in cine phantom), ``"ct-phantom"``,
    ``"anatomy:SPLIT:K"`` (a real-anatomy cine, :mod:`.anatomy`), or a file/folder.

    Formats: MR Studio ``.h5``/``.npz``, OCMR (ISMRMRD ``.h5``), CMRxRecon (``.mat`` v7.3),
    fastMRI ``.h5``, DICOM (folder, file or DICOMDIR). ``slice`` chooses a slice of
    multi-slice data (default: 0 for OCMR, the middle one otherwise), ``series`` a DICOM
    series (index or UID). ``options`` go to the phantom (``seed``, ``size``, …).
    """
    if str(path) == "phantom":
        from ..core.phantom import make_phantom

        return make_phantom(**options)
    if str(path) == "ct-phantom":  # the procedural thoracic CT, 3 mm slices (a held-out seed by default)
        from ..core.ct_phantom import make_ct_phantom, thick
        from ..core.splits import TEST_SEED

        seed = int(options.get("seed", TEST_SEED))
        return thick(make_ct_phantom(size=int(options.get("size", 256)), slices=42 * 3, seed=seed), 3)
    if str(path).startswith("anatomy:"):  # a real-anatomy cine: anatomy:SPLIT:K (mricron-data, io/anatomy.py)
        from .anatomy import anatomy_cine

        parts = str(path).split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            raise StudyError(path, "a real-anatomy cine is named anatomy:SPLIT:K (e.g. anatomy:test:0)")
        return anatomy_cine(parts[1], int(parts[2]))
    p = Path(path)
    kind = sniff(p)
    if kind == "dicom":
        from .dicom_read import read_dicom

        return read_dicom(p, series=series, slice=slice)
    if kind == "npz":
        if p.suffix != ".npz":
            raise StudyError(p, "a zip archive that is not a .npz study")
        from .native import read_native

        return read_native(p)
    if p.suffix == ".npz":
        raise StudyError(p, "HDF5 content with a .npz name")
    sub = _hdf5_kind(p)
    if sub == "native":
        from .native import read_native

        return read_native(p)
    if sub == "ismrmrd":
        from .ismrmrd_raw import read_ismrmrd

        return read_ismrmrd(p, slice=slice or 0)
    if sub == "cmrxrecon":
        from .cmrxrecon import read_cmrxrecon

        return read_cmrxrecon(p, slice=slice)
    from .fastmri import read_fastmri

    return read_fastmri(p, slice=slice)
